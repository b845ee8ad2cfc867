// The sink port, the sink configs it is built from, and createSinks: config → console, webhook and file sinks.
import { InterlockError } from '../core/errors.js';
import { ConsoleSink } from './console-sink.js';
import { FileSink } from './file-sink.js';
import type { AlertSink } from './sink-port.js';
import { WebhookSink } from './webhook-sink.js';

export type { AlertSink };

/**
 * One sink as configured. The shape of config's AlertConfig (which alert/ may not import): a loaded project's
 * `config.alerts.sinks` passes straight to createSinks. Missing webhook timeout/retries take the config defaults.
 */
export type AlertSinkConfig =
  | { type: 'console' }
  | {
      type: 'webhook';
      url: string;
      /** Seconds per attempt. Default 2. */
      timeout?: number;
      /** Retries after the first attempt. Default 2. */
      retries?: number;
      headers?: Record<string, string>;
    }
  | {
      type: 'file';
      /** Absolute (the loader resolves it against interlock.yaml). */
      path: string;
    };

export interface CreateSinksOptions {
  /** Where the console sink writes each line (default: process.stderr, newline added). */
  stderr?: (line: string) => void;
  /** The webhook sink's fetch (default: global fetch). */
  fetchImpl?: typeof fetch;
  /** The webhook sink's wait between attempts (default: a real timer). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Webhook defaults when a config leaves them out (the same as interlock.yaml's). */
export const WEBHOOK_DEFAULTS = { timeoutSeconds: 2, retries: 2 } as const;

/** One sink per config entry, in order. */
export function createSinks(sinks: AlertSinkConfig[], opts: CreateSinksOptions = {}): AlertSink[] {
  return sinks.map((s): AlertSink => {
    switch (s.type) {
      case 'console':
        return new ConsoleSink(opts.stderr);
      case 'file':
        return new FileSink(s.path);
      case 'webhook':
        return new WebhookSink({
          url: s.url,
          timeoutSeconds: s.timeout ?? WEBHOOK_DEFAULTS.timeoutSeconds,
          retries: s.retries ?? WEBHOOK_DEFAULTS.retries,
          headers: s.headers ?? {},
          fetchImpl: opts.fetchImpl,
          sleep: opts.sleep,
        });
      default: {
        // Config validation rejects unknown types; this guards callers that build configs by hand.
        const type = (s as { type?: unknown }).type;
        throw new InterlockError('INTERNAL', `unknown alert sink type '${String(type)}'`, { sinkType: type });
      }
    }
  });
}
