// Background work a long-lived process keeps doing after it has answered (a trigger in flight: the HTTP server
// today, the watcher next), and how shutdown stops and waits for it.
import { type Clock, systemClock } from '../core/clock.js';
import { InterlockError } from '../core/errors.js';
import { withTimeout } from '../core/timeout.js';

/** Why in-flight evaluators and triggers were stopped; recorded in the run's reason. */
export const SHUTDOWN_REASON = 'aborted by shutdown';

/**
 * In-flight work of a process: every tracked use-case and background run share one AbortSignal, which shutdown
 * aborts; `drain` then waits (bounded) until the work has recorded its outcome.
 */
export class Tasks {
  private readonly controller = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();

  /** `clock` bounds the drain (the process's Context clock; a fake one in tests). */
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
