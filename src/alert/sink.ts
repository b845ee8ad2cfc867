// The sink port, the sink configs it is built from, and createSinks: config → console, webhook, file, Slack and
// PagerDuty sinks, each behind its kinds/minLevel filter, with `${VAR}` secrets read from the environment.
import { InterlockError } from '../core/errors.js';
import { ALERT_LEVELS } from '../core/lists.js';
import { missingVarState } from '../core/template.js';
import type { Alert, AlertKind } from '../core/types.js';
import { ConsoleSink } from './console-sink.js';
import { FileSink } from './file-sink.js';
import { PagerDutySink } from './pagerduty-sink.js';
import type { AlertSink } from './sink-port.js';
import { SlackSink } from './slack-sink.js';
import { WebhookSink } from './webhook-sink.js';

export type { AlertSink };

/** Which alerts a sink gets: these kinds only (default all), at this level or above (default all). */
export interface SinkFilter {
  kinds?: AlertKind[];
  minLevel?: Alert['level'];
}

/**
 * One sink as configured. The shape of config's AlertConfig (which alert/ may not import): a loaded project's
 * `config.alerts.sinks` passes straight to createSinks. Missing webhook timeout/retries take the config defaults.
 */
export type AlertSinkConfig = SinkFilter &
  (
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
      }
    | {
        type: 'slack';
        /** The incoming-webhook URL, or `${VAR}` naming the environment variable that holds it. */
        url: string;
        timeout?: number;
        retries?: number;
      }
    | {
        type: 'pagerduty';
        /** The 32-character integration key, or `${VAR}` naming the environment variable that holds it. */
        routingKey: string;
        /** Default https://events.pagerduty.com/v2/enqueue. */
        url?: string;
        source?: string;
        timeout?: number;
        retries?: number;
      }
  );

export interface CreateSinksOptions {
  /** Where the console sink writes each line (default: process.stderr, newline added). */
  stderr?: (line: string) => void;
  /** The webhook sink's fetch (default: global fetch). */
  fetchImpl?: typeof fetch;
  /** The webhook sink's wait between attempts (default: a real timer). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Where `${VAR}` secrets (Slack URL, PagerDuty routing key) are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** server.publicUrl: Slack and PagerDuty alerts link to the pipeline there. */
  publicUrl?: string;
}

/** PagerDuty's Events API v2 endpoint (a pagerduty sink's default `url`). */
export const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';

const SECRET_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** `value`, or the environment variable a `${VAR}` value names; `missing` names a variable unset or empty. */
export function resolveSecret(value: string, env: NodeJS.ProcessEnv): { value: string } | { missing: string } {
  const m = SECRET_REF.exec(value);
  if (!m) return { value };
  const name = m[1] as string;
  const v = env[name];
  return v === undefined || v === '' ? { missing: name } : { value: v };
}

/** Whether `alert` passes `filter`. */
export function passesFilter(alert: Alert, filter: SinkFilter): boolean {
  if (filter.kinds && !filter.kinds.includes(alert.kind)) return false;
  if (filter.minLevel && ALERT_LEVELS.indexOf(alert.level) < ALERT_LEVELS.indexOf(filter.minLevel)) return false;
  return true;
}

/** A sink behind its filter: alerts that do not pass are dropped (delivered nowhere by this sink, no error). */
export class FilteredSink implements AlertSink {
  readonly name: string;
  constructor(
    readonly inner: AlertSink,
    readonly filter: SinkFilter,
  ) {
    this.name = inner.name;
  }
  async send(alert: Alert, signal?: AbortSignal): Promise<void> {
    if (passesFilter(alert, this.filter)) await this.inner.send(alert, signal);
  }
}

/** A sink whose secret is missing from the environment: every send fails, saying which variable to set. */
class MissingSecretSink implements AlertSink {
  constructor(
    readonly name: string,
    readonly variable: string,
    readonly state: 'not set' | 'empty' = 'not set',
  ) {}
  async send(): Promise<void> {
    throw new InterlockError('IO_ERROR', `${this.name}: environment variable ${this.variable} is ${this.state}`, {
      sink: this.name,
      variable: this.variable,
    });
  }
}

/** Webhook defaults when a config leaves them out (the same as interlock.yaml's). */
export const WEBHOOK_DEFAULTS = { timeoutSeconds: 2, retries: 2 } as const;

/** One sink per config entry, in order. */
export function createSinks(sinks: AlertSinkConfig[], opts: CreateSinksOptions = {}): AlertSink[] {
  return sinks.map((s) => {
    const sink = createSink(s, opts);
    return s.kinds || s.minLevel ? new FilteredSink(sink, { kinds: s.kinds, minLevel: s.minLevel }) : sink;
  });
}

function createSink(s: AlertSinkConfig, opts: CreateSinksOptions): AlertSink {
  const env = opts.env ?? process.env;
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
    case 'slack': {
      const url = resolveSecret(s.url, env);
      if ('missing' in url) return new MissingSecretSink('slack', url.missing, missingVarState(env, url.missing));
      return new SlackSink({
        url: url.value,
        timeoutSeconds: s.timeout ?? WEBHOOK_DEFAULTS.timeoutSeconds,
        retries: s.retries ?? WEBHOOK_DEFAULTS.retries,
        publicUrl: opts.publicUrl,
        fetchImpl: opts.fetchImpl,
        sleep: opts.sleep,
      });
    }
    case 'pagerduty': {
      const key = resolveSecret(s.routingKey, env);
      const url = s.url ?? PAGERDUTY_URL;
      if ('missing' in key)
        return new MissingSecretSink(
          `pagerduty ${new URL(url).origin}`,
          key.missing,
          missingVarState(env, key.missing),
        );
      return new PagerDutySink({
        routingKey: key.value,
        url,
        source: s.source,
        timeoutSeconds: s.timeout ?? WEBHOOK_DEFAULTS.timeoutSeconds,
        retries: s.retries ?? WEBHOOK_DEFAULTS.retries,
        publicUrl: opts.publicUrl,
        fetchImpl: opts.fetchImpl,
        sleep: opts.sleep,
      });
    }
    default: {
      // Config validation rejects unknown types; this guards callers that build configs by hand.
      const type = (s as { type?: unknown }).type;
      throw new InterlockError('INTERNAL', `unknown alert sink type '${String(type)}'`, { sinkType: type });
    }
  }
}
