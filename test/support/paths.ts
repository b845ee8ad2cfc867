// Where things are: the repository root, the CLI launcher (and its test-only twin), the fixture evaluator scripts.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** `bin/interlock`, the launcher of the BUILT CLI (dist/). */
export const BIN = join(REPO, 'bin', 'interlock');
/**
 * The built CLI with a crash-safety checkpoint hook (test only): `node CHECKPOINT_CLI <point> <args…>` stops a run at
 * <point> after printing `INTERLOCK_PAUSED <point> <runId>` on stderr.
 */
export const CHECKPOINT_CLI = join(REPO, 'test', 'support', 'checkpoint-cli.mjs');
/** The fixture evaluator scripts (pass, fail, slow, grandchild…). */
export const FIXTURE_EVALUATORS = join(REPO, 'test', 'fixtures', 'evaluators');
