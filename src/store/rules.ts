// The store rules every TS store applies the same way (memory, SQLite): whether to send an alert, the compare-and-swap
// precondition, and when a run transition releases its pipeline's lock. The Redis Lua scripts carry their own copy
// (they must decide inside the atomic step); test/store-conformance.ts keeps all of them equal.

import { isTerminal } from '../core/run-status.js';
import type { RunState } from '../core/types.js';
import type { WindowRecord } from '../engine/window.js';
import { isWindowTerminal } from '../engine/window.js';
import type { Lease, LeaseResult, WindowListOptions } from './watch-types.js';

/** What an alert de-duplication state is kept for: a pipeline's readiness, one of its traits, a window or a run. */
export type AlertKey =
  | { pipeline: string; kind: 'readiness' }
  | { pipeline: string; kind: 'trait'; trait: string }
  /** An alert about one schedule window: `alert` names which (e.g. `SLA_BREACHED:evaluation`). */
  | { pipeline: string; kind: 'window'; window: string; alert: string }
  /** An alert about one run (e.g. `RUN_STUCK`). */
  | { pipeline: string; kind: 'run'; runId: string; alert: string };

/**
 * The alert key as one string, for a map key or a database column: `<pipeline>\u0000readiness` or
 * `<pipeline>\u0000trait\u0000<trait>` (the form stored before keys were typed, so existing state still matches).
 */
export function alertKeyId(key: AlertKey): string {
  switch (key.kind) {
    case 'trait':
      return `${key.pipeline}\u0000trait\u0000${key.trait}`;
    case 'window':
      return `${key.pipeline}\u0000window\u0000${key.window}\u0000${key.alert}`;
    case 'run':
      return `${key.pipeline}\u0000run\u0000${key.runId}\u0000${key.alert}`;
    default:
      return `${key.pipeline}\u0000readiness`;
  }
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

/** The window compare-and-swap precondition: the stored version is the expected one and `next` is one on. */
export function windowCasApplies(current: WindowRecord, next: WindowRecord, expectedVersion: number): boolean {
  return current.version === expectedVersion && next.version === expectedVersion + 1 && current.key === next.key;
}

/** Newest `openAt` first, ties by key descending. */
export function compareWindowsNewestFirst(a: WindowRecord, b: WindowRecord): number {
  return b.openAt - a.openAt || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0);
}

/** listWindows' filter, order and limit, for stores that filter in TypeScript. */
export function windowListFilter(all: readonly WindowRecord[], opts: WindowListOptions): WindowRecord[] {
  const list = all
    .filter(
      (w) =>
        (opts.before === undefined || w.openAt < opts.before) &&
        (opts.state === undefined || w.state === opts.state) &&
        (opts.schedule === undefined || w.schedule === opts.schedule),
    )
    .sort(compareWindowsNewestFirst);
  return list.slice(0, opts.limit ?? list.length);
}

/** windowHeads: every non-terminal window plus the newest of each (pipeline, schedule). */
export function windowHeadsOf(all: readonly WindowRecord[]): WindowRecord[] {
  const newest = new Map<string, WindowRecord>();
  const out = new Map<string, WindowRecord>();
  for (const w of all) {
    if (!isWindowTerminal(w.state)) out.set(w.key, w);
    const id = JSON.stringify([w.pipeline, w.schedule]);
    const cur = newest.get(id);
    if (!cur || compareWindowsNewestFirst(w, cur) < 0) newest.set(id, w);
  }
  for (const w of newest.values()) out.set(w.key, w);
  return [...out.values()];
}

/**
 * The lease rule: granted when free, expired (at `now`) or held by `holder`; a renewal (same holder, unexpired)
 * keeps the epoch, anything else is a new tenure with epoch + 1. The result is what to store (when ok).
 */
export function leaseGrant(
  current: Lease | undefined,
  name: string,
  holder: string,
  ttlMs: number,
  now: number,
): LeaseResult {
  const live = current !== undefined && current.expiresAt > now;
  if (live && current.holder !== holder) return { ok: false, lease: current };
  const epoch = live ? current.epoch : (current?.epoch ?? 0) + 1;
  return { ok: true, lease: { name, holder, epoch, expiresAt: now + ttlMs } };
}
