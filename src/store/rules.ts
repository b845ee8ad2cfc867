// The store rules every TS store applies the same way (memory, SQLite): whether to send an alert, the compare-and-swap
// precondition, and when a run transition releases its pipeline's lock. The Redis Lua scripts carry their own copy
// (they must decide inside the atomic step); test/store-conformance.ts keeps all of them equal.
import { isTerminal } from '../core/run-status.js';
import type { RunState } from '../core/types.js';

/** What an alert de-duplication state is kept for: one pipeline's readiness, or one of its traits. */
export type AlertKey = { pipeline: string; kind: 'readiness' } | { pipeline: string; kind: 'trait'; trait: string };

/**
 * The alert key as one string, for a map key or a database column: `<pipeline>\u0000readiness` or
 * `<pipeline>\u0000trait\u0000<trait>` (the form stored before keys were typed, so existing state still matches).
 */
export function alertKeyId(key: AlertKey): string {
  return key.kind === 'trait' ? `${key.pipeline}\u0000trait\u0000${key.trait}` : `${key.pipeline}\u0000readiness`;
}

/** The stored de-duplication state of one alert key. */
export interface AlertMark {
  fingerprint: string;
  /** epoch ms */
  sentAt: number;
}

/**
 * Send this alert? Yes when nothing was sent for the key, the fingerprint changed, or the same one was sent at least
 * `repeatAfterMs` ago. When it fires, the caller stores `{fingerprint, sentAt: now}`.
 */
export function shouldSendAlert(
  prev: AlertMark | undefined,
  fingerprint: string,
  now: number,
  repeatAfterMs: number,
): boolean {
  return !prev || prev.fingerprint !== fingerprint || now - prev.sentAt >= repeatAfterMs;
}

/**
 * The compare-and-swap precondition: `next` may replace `current` only if the stored version is the expected one,
 * `next` is exactly one version on, and (with `ifOverdue`) the stored run is past its deadline at `now`.
 */
export function casApplies(
  current: RunState,
  next: RunState,
  expectedVersion: number,
  ifOverdue: boolean | undefined,
  now: number,
): boolean {
  if (current.version !== expectedVersion || next.version !== expectedVersion + 1) return false;
  return !ifOverdue || now >= current.deadlineAt;
}

/** Whether storing `next` releases its pipeline's lock: it ended, and does not keep the lock for a live job. */
export function releasesLock(next: RunState): boolean {
  return isTerminal(next.status) && next.lockHeldUntil === undefined;
}
