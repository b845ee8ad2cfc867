// One trigger wins over HTTP, on Redis: two servers, two connections, one real redis-server.
import { useRedis } from '../support/use-redis.js';
import { concurrentRunSuite } from './race.js';

const redis = useRedis();

concurrentRunSuite(
  'redis',
  () =>
    `provider: redis\nredis:\n  addr: ${redis.server.addr}\n  keyPrefix: "race${Math.random().toString(36).slice(2)}:"\n`,
);
