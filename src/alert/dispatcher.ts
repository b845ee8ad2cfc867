// AlertDispatcher: fans alerts out to every sink at once and absorbs every sink failure.
import type { Alert } from '../core/types.js';
import type { AlertSink } from './sink.js';

export interface DispatcherOptions {
  /** Told about each failed delivery (one call per alert and sink). Default: a line on stderr. */
  onError?: (sink: string, err: unknown) => void;
}

/**
 * Delivers alerts. Alerting is feedback, never control: a failing sink must not fail the command that raised
 * the alert, so dispatch never rejects.
 */
export class AlertDispatcher {
  readonly #sinks: readonly AlertSink[];
  readonly #onError: (sink: string, err: unknown) => void;

  constructor(sinks: AlertSink[], opts: DispatcherOptions = {}) {
    this.#sinks = [...sinks];
    this.#onError = opts.onError ?? reportToStderr;
  }

  /** Names of the sinks, in config order. */
  get sinkNames(): string[] {
    return this.#sinks.map((s) => s.name);
  }

  /**
   * Sends each alert to every sink concurrently; never throws; resolves when all sinks finished or gave up.
   * (A webhook is bounded by its timeout × attempts + backoff; a file sink keeps its lines in order itself.)
   */
  async dispatch(alerts: Alert[]): Promise<void> {
    const deliveries: Promise<void>[] = [];
    for (const sink of this.#sinks) for (const alert of alerts) deliveries.push(this.#deliver(sink, alert));
    await Promise.all(deliveries);
  }

  async #deliver(sink: AlertSink, alert: Alert): Promise<void> {
    try {
      await sink.send(alert);
    } catch (err) {
      try {
        this.#onError(sink.name, err);
      } catch {
        // A throwing error handler must not turn into a rejected dispatch either.
      }
    }
  }
}

function reportToStderr(sink: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`interlock: warning: alert sink ${sink} failed: ${message}\n`);
}
