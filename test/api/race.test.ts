// One trigger wins over HTTP, on SQLite (two servers, two connections to one database file).
import { concurrentRunSuite } from './race.js';

concurrentRunSuite('sqlite', () => 'provider: sqlite\n');
