// Work a server keeps doing after it has answered (a trigger in flight), and how shutdown stops and waits for it.
import { type Clock, systemClock } from '../core/clock.js';
import { InterlockError } from '../core/errors.js';
import { withTimeout } from '../core/timeout.js';
import type { DecisionSource, RunState } from '../core/types.js';
import type { Context } from './context-type.js';
import type { Evaluation } from './evaluate.js';
import { type RunResult, runPipeline } from './run.js';

/** Why in-flight evaluators and triggers were stopped; recorded in the run's reason. */
export const SHUTDOWN_REASON = 'aborted by shutdown';

/**
 * In-flight work of a server: every request's use-case and every background run share one AbortSignal, which
 * shutdown aborts; `drain` then waits (bounded) until the work has recorded its outcome.
 */
export class ServerTasks {
  private readonly controller = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();

  /** `clock` bounds the drain (the server's Context clock; a fake one in tests). */
  constructor(private readonly clock: Clock = systemClock) {}

  /** Aborted at shutdown: evaluators and triggers stop, runs end in a recorded state. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once shutdown has begun: start no new work. */
  get stopping(): boolean {
    return this.controller.signal.aborted;
  }

  /** Work in flight right now. */
  get size(): number {
    return this.inFlight.size;
  }

  /** Tracks `work` until it settles; refuses new work while stopping (SHUTTING_DOWN). */
  track<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.stopping) {
      return Promise.reject(new InterlockError('SHUTTING_DOWN', 'the server is shutting down; try again later'));
    }
    const p = work(this.signal);
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
    return p;
  }

  /**
   * Aborts everything in flight (evaluators and triggers are killed) and waits at most `timeoutMs` for it to
   * settle, i.e. for runs to record their final state. Returns false when the wait timed out.
   */
  async drain(timeoutMs: number, reason = SHUTDOWN_REASON): Promise<boolean> {
    if (!this.controller.signal.aborted) this.controller.abort(new Error(reason));
    const settledAll = async () => {
      // Work tracked while draining (none is accepted, but a task may be mid-track) is waited for too.
      while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
      return true as const;
    };
    return withTimeout(settledAll(), timeoutMs, this.clock, () => false as const);
  }
}

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
export function startRun(ctx: Context, tasks: ServerTasks, name: string, source: DecisionSource): Promise<RunStart> {
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
