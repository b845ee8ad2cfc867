// How the HTTP server starts a run: it answers once the run is TRIGGERING (the trigger goes on as tracked background
// work), and the refusal a run that ended before its trigger stands for.
import { InterlockError } from '../core/errors.js';
import type { DecisionSource, RunState } from '../core/types.js';
import { type Context, type Evaluation, type RunResult, runPipeline, type Tasks } from '../runtime/index.js';

/**
 * The refusal a run that ended before its trigger stands for: ALREADY_RUNNING (with the active runId), NOT_READY
 * (with the blocking traits), CONFLICT (cancelled or timed out meanwhile), SHUTTING_DOWN (aborted).
 */
export function runRefusal(result: RunResult): InterlockError {
  switch (result.kind) {
    case 'already-running': {
      const a = result.active;
      const message = result.stopped
        ? `already running: ${a.runId} was still running its command (${a.status}: ${a.reason ?? ''}); it has been stopped and nothing new was started; try again`
        : `already running: ${a.runId} (${a.status}${a.lockHeldUntil !== undefined ? `: ${a.reason ?? 'its command may still run'}` : ''})`;
      return new InterlockError('ALREADY_RUNNING', message, {
        pipeline: a.pipeline,
        runId: a.runId,
        run: a,
      });
    }
    case 'blocked': {
      const r = result.evaluation.readiness;
      const why = r.blocking.map((b) => `${b.trait} (${b.reasonCode}: ${b.reason})`).join(', ') || r.note || '';
      return new InterlockError('NOT_READY', `${r.pipeline} is NOT_READY: ${why}; run ${result.run.runId} is BLOCKED`, {
        pipeline: r.pipeline,
        runId: result.run.runId,
        run: result.run,
        blocking: r.blocking,
        note: r.note,
        decisionId: result.evaluation.decision.id,
      });
    }
    case 'superseded':
      return new InterlockError(
        'CONFLICT',
        `run ${result.run.runId} became ${result.run.status} before its trigger fired; nothing was triggered`,
        { pipeline: result.run.pipeline, runId: result.run.runId, run: result.run },
      );
    case 'aborted':
      return new InterlockError(
        'SHUTTING_DOWN',
        `the server is shutting down; run ${result.run.runId} did not trigger`,
        {
          runId: result.run.runId,
        },
      );
    default:
      return new InterlockError('INTERNAL', `unexpected run result ${result.kind}`);
  }
}

export type RunStart =
  /** READY, and the run is TRIGGERING: the trigger goes on in the background (final state at GET /api/runs/{id}). */
  | { kind: 'accepted'; run: RunState; evaluation: Evaluation }
  /** The run ended (or never started) before the trigger: already running, blocked, superseded, aborted. */
  | { kind: 'finished'; result: RunResult };

/**
 * `run` for a server: resolves as soon as the run is TRIGGERING (the trigger continues as tracked background work),
 * or with the result when it ends before that. Errors before TRIGGERING reject; later ones go to `ctx.warn` (the run
 * itself is already recorded by then).
 */
export function startRun(ctx: Context, tasks: Tasks, name: string, source: DecisionSource): Promise<RunStart> {
  return new Promise<RunStart>((resolve, reject) => {
    let answered = false;
    const answer = (a: RunStart) => {
      if (!answered) {
        answered = true;
        resolve(a);
      }
    };
    tasks
      .track((signal) =>
        runPipeline(ctx, name, {
          source,
          signal,
          onTriggering: (run, evaluation) => answer({ kind: 'accepted', run, evaluation }),
        }),
      )
      .then(
        (result) => answer({ kind: 'finished', result }),
        (err: unknown) => {
          if (!answered) {
            answered = true;
            reject(err);
          } else {
            ctx.warn(
              `run of ${name} failed after it was accepted: ${err instanceof Error ? err.message : String(err)}`,
            );
          }
        },
      );
  });
}
