// The sink port every alert sink implements (a leaf, so sink.ts can build the sinks that implement it).
import type { Alert } from '../core/types.js';

/** Somewhere alerts go. `send` may reject; AlertDispatcher catches and reports it. */
export interface AlertSink {
  /** For messages about this sink; never contains a secret (a webhook shows only its origin). */
  readonly name: string;
  /** `signal` aborts when the dispatcher gives up on this delivery (its budget ran out): stop, nothing to report. */
  send(alert: Alert, signal?: AbortSignal): Promise<void>;
}
