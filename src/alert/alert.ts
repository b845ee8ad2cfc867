// Alert construction, and the JSON payload every machine-readable sink (webhook, file) emits.
import type { Alert, AlertKind } from '../core/types.js';
import { defaultLevel, ucaFor } from './uca.js';

/** What a use-case knows when it raises an alert; the rest (level, uca, timestamp) follows from kind and `now`. */
export interface AlertFields {
  pipeline: string;
  message: string;
  /** Default: by kind (PIPELINE_READY info; TRAIT_FAILED, PIPELINE_BLOCKED warning; others error). */
  level?: Alert['level'];
  runId?: string;
  /** The schedule window's key, when the alert concerns a window (or a run of one). */
  window?: string;
  trait?: string;
  details?: Record<string, unknown>;
}

/** An Alert of `kind` at `now` (epoch ms). Optional fields that are undefined are left out. */
export function makeAlert(kind: AlertKind, f: AlertFields, now: number): Alert {
  const alert: Alert = {
    level: f.level ?? defaultLevel(kind),
    kind,
    pipeline: f.pipeline,
    message: f.message,
    timestamp: now,
    uca: ucaFor(kind),
  };
  if (f.runId !== undefined) alert.runId = f.runId;
  if (f.window !== undefined) alert.window = f.window;
  if (f.trait !== undefined) alert.trait = f.trait;
  if (f.details !== undefined) alert.details = f.details;
  return alert;
}

/**
 * The JSON body of a webhook POST and of one line of a file sink:
 *
 * ```json
 * {
 *   "level": "warning",                 // "info" | "warning" | "error" | "critical"
 *   "kind": "PIPELINE_BLOCKED",         // TRAIT_FAILED | PIPELINE_BLOCKED | PIPELINE_READY | TRIGGER_FAILED |
 *                                       //   RUN_FAILED | RUN_TIMED_OUT | CONFIG_RELOAD_FAILED
 *   "pipeline": "daily-sales-rollup",
 *   "runId": "01JD…",                   // only when the alert concerns a run
 *   "window": "daily-sales@daily@2025-01-06T05:00:00Z",  // only when it concerns a schedule window
 *   "trait": "source-freshness",        // only when it concerns one trait
 *   "message": "daily-sales-rollup is NOT_READY: source-freshness (EVALUATOR_FAIL)",
 *   "details": { "blocking": [ … ] },   // kind-specific, optional
 *   "timestamp": "2025-01-06T06:02:00.000Z",  // ISO 8601, UTC
 *   "timestampMs": 1736143320000,             // the same instant, epoch milliseconds
 *   "uca": { "category": "provided-unsafe", "description": "Triggering while unsafe was prevented: …" }
 * }
 * ```
 * Keys appear in this order; absent optional fields are omitted, never null.
 */
export type AlertPayload = Omit<Alert, 'timestamp'> & {
  /** ISO 8601 */
  timestamp: string;
  /** epoch ms */
  timestampMs: number;
};

/** The payload of `alert` (see AlertPayload). */
export function alertPayload(alert: Alert): AlertPayload {
  // Rebuilt in documented order rather than spread, so the JSON reads the same from every sink.
  return {
    level: alert.level,
    kind: alert.kind,
    pipeline: alert.pipeline,
    ...(alert.runId !== undefined ? { runId: alert.runId } : {}),
    ...(alert.window !== undefined ? { window: alert.window } : {}),
    ...(alert.trait !== undefined ? { trait: alert.trait } : {}),
    message: alert.message,
    ...(alert.details !== undefined ? { details: alert.details } : {}),
    timestamp: isoTime(alert.timestamp),
    timestampMs: alert.timestamp,
    uca: { category: alert.uca.category, description: alert.uca.description },
  };
}

function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** A line longer than this has its details replaced: one write per alert must stay one reasonable line. */
export const MAX_ALERT_JSON_BYTES = 256 * 1024;

/**
 * alertPayload as JSON text (no newline). Never throws: details that cannot be serialised (a cycle, a BigInt) or
 * that would push the text past MAX_ALERT_JSON_BYTES are replaced by a note saying so.
 */
export function alertJson(alert: Alert): string {
  let text: string;
  try {
    text = JSON.stringify(alertPayload(alert));
  } catch (err) {
    const details = { detailsOmitted: `not serialisable: ${(err as Error).message}` };
    return JSON.stringify(alertPayload({ ...alert, details }));
  }
  const bytes = Buffer.byteLength(text);
  if (bytes <= MAX_ALERT_JSON_BYTES) return text;
  const details = { detailsOmitted: `alert was ${bytes} bytes (limit ${MAX_ALERT_JSON_BYTES})` };
  const message = alert.message.length > 4096 ? `${alert.message.slice(0, 4096)}…` : alert.message;
  return JSON.stringify(alertPayload({ ...alert, message, details }));
}
