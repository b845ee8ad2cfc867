// Where things are: the repository root, the CLI launcher, the fixture evaluator scripts.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** `bin/interlock`, the launcher of the BUILT CLI (dist/). */
export const BIN = join(REPO, 'bin', 'interlock');
/** The fixture evaluator scripts (pass, fail, slow, grandchild…). */
export const FIXTURE_EVALUATORS = join(REPO, 'test', 'fixtures', 'evaluators');
