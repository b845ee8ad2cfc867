// The PagerDuty sink (Events API v2): a trigger per (window or pipeline, kind), a resolve when the condition clears.
import { createHash } from 'node:crypto';
import type { Alert, AlertKind } from '../core/types.js';
import { dashboardLink } from './link.js';
import { WebhookSink } from './webhook-sink.js';

export interface PagerDutySinkOptions {
  routingKey: string;
  /** The enqueue endpoint (default PagerDuty's; tests point it at a local server). */
  url: string;
  /** payload.source (default 'interlock'). */
  source?: string | undefined;
  timeoutSeconds: number;
  retries: number;
  publicUrl?: string | undefined;
  fetchImpl?: typeof fetch | undefined;
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
}

/** The Events API v2 limits: payload.summary and dedup_key lengths. */
export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255 } as const;

/**
 * Recovery alerts and the kinds whose incidents they close. PIPELINE_READY is sent only after a known non-READY
 * condition (engine/alert-rules.ts), so it resolves what the blocked pipeline opened.
 */
export const RESOLVES: Partial<Record<AlertKind, readonly AlertKind[]>> = {
  PIPELINE_READY: ['PIPELINE_BLOCKED', 'TRAIT_FAILED'],
  // A window's SLA alerts cleared (triggered, COMPLETED, or READY again after it ended): same window, same dedup_key.
  RECOVERED: ['SLA_AT_RISK', 'SLA_BREACHED', 'WINDOW_MISSED'],
};

/**
 * The dedup_key of `kind` for an alert: `<window key>/<kind>` when the alert concerns a window, else
 * `<pipeline>/<kind>`. A key past 255 characters keeps its start and ends in a hash of the whole.
 */
export function dedupKey(alert: Pick<Alert, 'pipeline' | 'window'>, kind: AlertKind): string {
  const key = `${alert.window ?? alert.pipeline}/${kind}`;
  if (key.length <= PAGERDUTY_LIMITS.dedupKey) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return `${key.slice(0, PAGERDUTY_LIMITS.dedupKey - hash.length - 1)}~${hash}`;
}

/** The Events API v2 events one alert means: resolves for a recovery kind, one trigger otherwise. */
export function pagerDutyEvents(
  alert: Alert,
  o: Pick<PagerDutySinkOptions, 'routingKey' | 'source' | 'publicUrl'>,
): Array<Record<string, unknown>> {
  const resolves = RESOLVES[alert.kind];
  if (resolves) {
    return resolves.map((kind) => ({
      routing_key: o.routingKey,
      event_action: 'resolve',
      dedup_key: dedupKey(alert, kind),
    }));
  }
  const summary = `${alert.kind} ${alert.pipeline}: ${alert.message}`.replace(/\s+/g, ' ').trim();
  const link = o.publicUrl ? dashboardLink(o.publicUrl, alert) : undefined;
  const custom: Record<string, unknown> = {
    pipeline: alert.pipeline,
    kind: alert.kind,
    message: alert.message,
    ...(alert.window !== undefined ? { window: alert.window } : {}),
    ...(alert.runId !== undefined ? { runId: alert.runId } : {}),
    ...(alert.trait !== undefined ? { trait: alert.trait } : {}),
    ...(alert.details !== undefined ? { details: alert.details } : {}),
    uca: alert.uca,
  };
  return [
    {
      routing_key: o.routingKey,
      event_action: 'trigger',
      dedup_key: dedupKey(alert, alert.kind),
      payload: {
        summary:
          summary.length <= PAGERDUTY_LIMITS.summary ? summary : `${summary.slice(0, PAGERDUTY_LIMITS.summary - 1)}…`,
        source: o.source ?? 'interlock',
        severity: alert.level,
        timestamp: new Date(alert.timestamp).toISOString(),
        component: alert.pipeline,
        group: alert.window?.split('@')[1] ?? alert.pipeline,
        class: alert.kind,
        custom_details: custom,
      },
      client: 'Interlock',
      ...(link ? { client_url: link, links: [{ href: link, text: 'Why (Interlock)' }] } : {}),
    },
  ];
}

/**
 * Enqueues each alert's events. PagerDuty answers 202 when it accepted an event; 400 (an invalid event) fails at
 * once and is logged; 429 (waiting its Retry-After) and 5xx are retried with backoff within the alert budget. The
 * routing key is a secret: the name shows only the endpoint's origin, and failure messages mask it.
 */
export class PagerDutySink extends WebhookSink {
  constructor(o: PagerDutySinkOptions) {
    super({
      url: o.url,
      timeoutSeconds: o.timeoutSeconds,
      retries: o.retries,
      fetchImpl: o.fetchImpl,
      sleep: o.sleep,
      name: `pagerduty ${originOf(o.url)}`,
      bodies: (alert) => pagerDutyEvents(alert, o).map((e) => JSON.stringify(e)),
      accept: (status) => status === 202,
      secrets: [o.routingKey],
    });
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}
