// PURE: drift after completion. During `monitor.duration` after a window COMPLETED, its monitored traits are
// re-checked when their results expire (their TTLs); NOT_READY over them is drift (DRIFT_DETECTED once per window and
// episode); with `onDrift: rerun` a new attempt of the same window fires once the evidence is READY again, under the
// run key `<window key>#rerun-<n>`, at most `maxReruns` times. Time comes in as `now`.
import type { ResolvedTrait, TraitResult } from '../core/types.js';
import type { AlertDraft } from './alert-rules.js';
import { localHHMM } from './local-time.js';
import { decideReadiness } from './readiness.js';
import type { MonitorSpec } from './sla.js';
import { effectiveExpiry } from './trait-state.js';
import type { WindowDecision, WindowRecord } from './window.js';

export interface DriftInput {
  pipeline: string;
  monitor: MonitorSpec;
  /** The pipeline's traits (the monitored ones are picked from these). */
  traits: readonly ResolvedTrait[];
  /** Latest stored result per trait. */
  results: readonly TraitResult[];
  /** Window records: only the newest COMPLETED live window of each schedule is monitored. */
  records: readonly WindowRecord[];
  /** Not more often than this is a failing monitored trait re-evaluated (`watch.reevaluate`). */
  reevaluateMs: number;
  now: number;
}

export type DriftStep =
  /** Re-evaluate `traits` (empty: decide from the stored results) and record the decision over the monitored traits. */
  | { kind: 'drift-check'; key: string; traits: string[] }
  /** A rerun is wanted and the monitored evidence holds again: claim rerun `rerun` and fire (re-deciding first). */
  | { kind: 'rerun'; key: string; rerun: number };

export interface DriftResult {
  actions: DriftStep[];
  nextAt?: number;
}

/** The traits `monitor` re-checks: its list, or every required trait. */
export function monitoredTraits(traits: readonly ResolvedTrait[], monitor: MonitorSpec): ResolvedTrait[] {
  const names = monitor.traits;
  const picked = names ? traits.filter((t) => names.includes(t.type)) : traits.filter((t) => t.required);
  // Counted as required: the monitor asks whether each of them still holds.
  return picked.map((t) => ({ ...t, required: true }));
}

/** Until when a COMPLETED window is monitored (undefined: it is not). */
export function monitorEnd(w: WindowRecord, monitor: MonitorSpec): number | undefined {
  if (w.state !== 'COMPLETED' || w.mode !== 'live' || !w.terminal) return undefined;
  return w.terminal.at + monitor.durationMs;
}

/** The decision over the monitored traits from the stored results at `now`. */
export function driftDecision(
  pipeline: string,
  traits: readonly ResolvedTrait[],
  results: readonly TraitResult[],
  monitor: MonitorSpec,
  now: number,
): WindowDecision {
  const r = decideReadiness(pipeline, monitoredTraits(traits, monitor), results, { type: 'all-required-pass' }, now);
  return {
    outcome: r.outcome,
    blocking: r.blocking,
    decidedAt: now,
    ...(r.note !== undefined ? { note: r.note } : {}),
  };
}

/** What the drift monitor must do now for a pipeline's COMPLETED windows, and when to look again. */
export function whatDrifts(input: DriftInput): DriftResult {
  const { now, monitor } = input;
  const actions: DriftStep[] = [];
  let nextAt: number | undefined;
  const wake = (t: number | undefined) => {
    if (t !== undefined && t > now && Number.isFinite(t) && (nextAt === undefined || t < nextAt)) nextAt = t;
  };
  const newest = new Map<string, WindowRecord>();
  for (const r of input.records) {
    const cur = newest.get(r.schedule);
    if (!cur || r.openAt > cur.openAt) newest.set(r.schedule, r);
  }
  const monitored = monitoredTraits(input.traits, monitor);
  const ttlOf = new Map(monitored.map((t) => [t.type, t.ttlSeconds]));
  // When a result stops counting: its stored expiry bounded by the ttl configured now, as readiness counts it.
  const expiryOf = (v: { trait: string; result?: TraitResult }) =>
    v.result ? effectiveExpiry(v.result, ttlOf.get(v.trait)) : undefined;
  for (const w of newest.values()) {
    const end = monitorEnd(w, monitor);
    if (end === undefined || now >= end) continue;
    wake(end);
    const drift = w.drift ?? { reruns: 0 };
    const decision = decideReadiness(input.pipeline, monitored, input.results, { type: 'all-required-pass' }, now);
    const lastCheck = drift.lastCheckAt ?? w.terminal?.at ?? now;
    // Expired or missing results: re-evaluate them when they expire (a result that expired after the last check is
    // due at once), others not more often than reevaluate.
    const unknown = decision.traits.filter((v) => v.state === 'STALE');
    const failing = decision.traits.filter((v) => v.state === 'FAIL');
    const checkDue = (lastCheck: number) => now >= lastCheck + input.reevaluateMs;
    const newlyExpired = unknown.some((v) => {
      const at = expiryOf(v);
      return at !== undefined && at > lastCheck;
    });
    if (unknown.length > 0) {
      if (newlyExpired || drift.lastCheckAt === undefined || checkDue(lastCheck)) {
        actions.push({ kind: 'drift-check', key: w.key, traits: [...unknown, ...failing].map((v) => v.trait) });
        continue;
      }
      wake(lastCheck + input.reevaluateMs);
      continue;
    }
    // Every monitored trait has a current result: record a change of outcome (the start or end of an episode).
    const inEpisode = drift.episode !== undefined;
    if (decision.outcome === 'NOT_READY' && !inEpisode) {
      actions.push({ kind: 'drift-check', key: w.key, traits: [] });
      continue;
    }
    if (decision.outcome === 'READY' && inEpisode) {
      actions.push({ kind: 'drift-check', key: w.key, traits: [] });
      continue;
    }
    if (decision.outcome === 'READY' && drift.rerunWanted && drift.reruns < monitor.maxReruns) {
      const tried = drift.rerunTriedAt;
      if (tried === undefined || checkDue(tried)) {
        actions.push({ kind: 'rerun', key: w.key, rerun: drift.reruns + 1 });
        continue;
      }
      wake(tried + input.reevaluateMs);
    }
    if (failing.length > 0) {
      // Drifted: look again (backoff) to see whether the evidence holds again.
      if (checkDue(lastCheck)) actions.push({ kind: 'drift-check', key: w.key, traits: failing.map((v) => v.trait) });
      else wake(lastCheck + input.reevaluateMs);
      continue;
    }
    for (const v of decision.traits) wake(expiryOf(v));
  }
  return nextAt === undefined ? { actions } : { actions, nextAt };
}

/** The DRIFT_DETECTED alert of a COMPLETED window whose monitored evidence no longer holds. */
export function driftAlert(
  pipeline: string,
  w: WindowRecord,
  decision: WindowDecision,
  monitor: MonitorSpec,
  tz = 'UTC',
): AlertDraft {
  const names = decision.blocking.map((b) => `${b.trait} ${b.state}: ${b.reason}`);
  const reruns = w.drift?.reruns ?? 0;
  const action =
    monitor.onDrift === 'rerun'
      ? reruns < monitor.maxReruns
        ? `rerun ${reruns + 1} of ${monitor.maxReruns} fires once the evidence holds again`
        : `no rerun: ${monitor.maxReruns} rerun(s) used`
      : 'alert only';
  const done = w.terminal ? localHHMM(w.terminal.at, tz) : '?';
  return {
    kind: 'DRIFT_DETECTED',
    pipeline,
    window: w.key,
    message: `window ${w.key} COMPLETED at ${done} but its evidence drifted: ${names.length > 0 ? names.join('; ') : (decision.note ?? 'NOT_READY')} (${action})`,
    details: { blocking: decision.blocking, completedAt: w.terminal?.at, onDrift: monitor.onDrift, reruns },
  };
}
