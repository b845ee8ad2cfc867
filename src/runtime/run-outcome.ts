// What a run came to, named once: the CLI's exit code and the HTTP API's status for each outcome are read from the
// two tables here, so the adapters cannot map a RunResult differently.
import { EXIT } from '../core/errors.js';
import type { RunResult } from './run.js';

export const RUN_OUTCOMES = [
  'triggered',
  'blocked',
  'already-running',
  'superseded',
  'trigger-failed',
  'ended-after-trigger',
  'aborted',
] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/**
 * The outcome of a run: its result kind, except that a trigger that fired into a run someone else ended counts as
 * `triggered` when that run ended COMPLETED (a callback came first) and `ended-after-trigger` otherwise.
 */
export function runOutcome(r: RunResult): RunOutcome {
  if (r.kind === 'superseded-after-trigger') return r.run.status === 'COMPLETED' ? 'triggered' : 'ended-after-trigger';
  return r.kind;
}

/**
 * `interlock run`'s exit code per outcome (README "Exit codes"): 0 fired; 1 nothing fired (blocked, another run
 * active, ended before its trigger); 3 the trigger failed, or the run ended other than COMPLETED after it fired, or
 * it was aborted by shutdown (an interrupted CLI exits 130/143 instead).
 */
export const RUN_EXIT_CODE: Record<RunOutcome, number> = {
  triggered: EXIT.OK,
  blocked: EXIT.BLOCKED,
  'already-running': EXIT.BLOCKED,
  superseded: EXIT.BLOCKED,
  'trigger-failed': EXIT.RUNTIME,
  'ended-after-trigger': EXIT.RUNTIME,
  aborted: EXIT.RUNTIME,
};

/**
 * `POST /api/pipelines/{id}/run`'s status per outcome (README "HTTP API"). The API answers once the run is
 * TRIGGERING, so every outcome decided after the trigger started is 202 (its final state is at GET /api/runs/{id});
 * the refusals carry the status of their error code (NOT_READY 412; ALREADY_RUNNING, CONFLICT 409; SHUTTING_DOWN
 * 503).
 */
export const RUN_HTTP_STATUS: Record<RunOutcome, number> = {
  triggered: 202,
  blocked: 412,
  'already-running': 409,
  superseded: 409,
  'trigger-failed': 202,
  'ended-after-trigger': 202,
  aborted: 503,
};
