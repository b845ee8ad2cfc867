// AlertDispatcher: fans alerts out to every sink at once, within a total time budget, and absorbs every sink failure.
import { type Clock, systemClock } from '../core/clock.js';
import type { Alert } from '../core/types.js';
import type { AlertSink } from './sink.js';

/** The default total budget of one dispatch (interlock.yaml `alerts.timeout`, in seconds there). */
export const DEFAULT_ALERT_BUDGET_MS = 5000;

/** Starts a timer; returns its cancel. The default is the host clock's (tests pass a manual one, or clockTimer). */
export type StartTimer = (ms: number, fire: () => void) => () => void;

export interface DispatcherOptions {
  /** Told about each failed delivery (one call per alert and sink). Default: a line on stderr. */
  onError?: (sink: string, err: unknown) => void;
  /**
   * Told about each delivery still unfinished when the budget ran out (one call per alert and sink); that delivery
   * is then abandoned. Default: a warning on stderr.
   */
  onUndelivered?: (sink: string, alert: Alert, budgetMs: number) => void;
  /** Total time one dispatch may take, all sinks and retries included. Default 5 s. */
  budgetMs?: number;
  startTimer?: StartTimer;
  /** Told the result of each delivery (one call per alert and sink), after onError/onUndelivered. */
  onResult?: (sink: string, alert: Alert, result: DeliveryResult) => void;
}

/** What became of one alert at one sink. */
export type DeliveryResult = 'sent' | 'failed' | 'undelivered';

/**
 * Delivers alerts. Alerting is feedback, never control: a failing or slow sink must not fail or delay the command
 * that raised the alert, so dispatch never rejects and never takes longer than its budget.
 */
export class AlertDispatcher {
  readonly #sinks: readonly AlertSink[];
  readonly #onError: (sink: string, err: unknown) => void;
  readonly #onUndelivered: (sink: string, alert: Alert, budgetMs: number) => void;
  readonly #budgetMs: number;
  readonly #startTimer: StartTimer;
  readonly #onResult: (sink: string, alert: Alert, result: DeliveryResult) => void;

  constructor(sinks: AlertSink[], opts: DispatcherOptions = {}) {
    this.#sinks = [...sinks];
    this.#onError = opts.onError ?? reportToStderr;
    this.#onUndelivered = opts.onUndelivered ?? reportUndelivered;
    this.#budgetMs = opts.budgetMs ?? DEFAULT_ALERT_BUDGET_MS;
    this.#startTimer = opts.startTimer ?? realTimer;
    this.#onResult = opts.onResult ?? (() => {});
  }

  /** Names of the sinks, in config order. */
  get sinkNames(): string[] {
    return this.#sinks.map((s) => s.name);
  }

  /** The total budget of one dispatch, in ms. */
  get budgetMs(): number {
    return this.#budgetMs;
  }

  /**
   * Sends each alert to every sink concurrently; never throws. Resolves when every delivery finished or failed, or
   * when the budget ran out: then each delivery still in flight is reported through onUndelivered and abandoned (its
   * signal aborts, so a webhook stops its attempt and its retries). A fast sink (file, console) is never held up by
   * a slow one: each sink gets every alert at once.
   */
  async dispatch(alerts: Alert[]): Promise<void> {
    if (alerts.length === 0 || this.#sinks.length === 0) return;
    const abandon = new AbortController();
    const inFlight = new Set<{ sink: AlertSink; alert: Alert }>();
    const deliveries: Promise<void>[] = [];
    for (const sink of this.#sinks) {
      for (const alert of alerts) {
        const d = { sink, alert };
        inFlight.add(d);
        deliveries.push(this.#deliver(sink, alert, abandon.signal).finally(() => inFlight.delete(d)));
      }
    }
    let cancelTimer = () => {};
    const outOfTime = new Promise<'late'>((resolve) => {
      cancelTimer = this.#startTimer(this.#budgetMs, () => resolve('late'));
    });
    const outcome = await Promise.race([Promise.all(deliveries).then(() => 'done' as const), outOfTime]);
    cancelTimer();
    if (outcome === 'late') {
      const late = [...inFlight];
      abandon.abort();
      for (const { sink, alert } of late) {
        try {
          this.#onUndelivered(sink.name, alert, this.#budgetMs);
        } catch {
          // A throwing handler must not turn into a rejected dispatch.
        }
        this.#report(sink.name, alert, 'undelivered');
      }
    }
  }

  #report(sink: string, alert: Alert, result: DeliveryResult): void {
    try {
      this.#onResult(sink, alert, result);
    } catch {
      // A throwing result handler must not turn into a rejected dispatch.
    }
  }

  async #deliver(sink: AlertSink, alert: Alert, signal: AbortSignal): Promise<void> {
    try {
      await sink.send(alert, signal);
      // Sent in time; one that finished after the budget was already counted undelivered.
      if (!signal.aborted) this.#report(sink.name, alert, 'sent');
    } catch (err) {
      // An abandoned delivery was already reported as undelivered; its abort error says nothing new.
      if (signal.aborted) return;
      try {
        this.#onError(sink.name, err);
        this.#report(sink.name, alert, 'failed');
      } catch {
        // A throwing error handler must not turn into a rejected dispatch either.
      }
    }
  }
}

/** A StartTimer on `clock` (a FakeClock in tests). */
export function clockTimer(clock: Clock): StartTimer {
  return (ms, fire) => {
    const t = clock.setTimeout(fire, ms);
    return () => clock.clearTimeout(t);
  };
}

// Not unref'd: while a delivery is pending, the budget timer is what guarantees dispatch settles.
const realTimer: StartTimer = clockTimer(systemClock);

/** "alert PIPELINE_BLOCKED of daily-sales not delivered to webhook https://hooks.example within 5 s (alerts.timeout)" */
export function undeliveredMessage(sink: string, alert: Alert, budgetMs: number): string {
  const about = alert.runId ? ` (run ${alert.runId})` : '';
  return `alert ${alert.kind} of ${alert.pipeline}${about} not delivered to ${sink} within ${budgetMs / 1000} s (alerts.timeout); given up`;
}

function reportToStderr(sink: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`interlock: warning: alert sink ${sink} failed: ${message}\n`);
}

function reportUndelivered(sink: string, alert: Alert, budgetMs: number): void {
  process.stderr.write(`interlock: warning: ${undeliveredMessage(sink, alert, budgetMs)}\n`);
}
