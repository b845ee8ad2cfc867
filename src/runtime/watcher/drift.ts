// Drift after completion, one pass of a watched pipeline with a `monitor` (called from the watcher's pass, under its
// lease): re-evaluates the monitored traits of its newest COMPLETED windows when their TTLs pass, records the check on
// the window (compare-and-swap under the fence), raises DRIFT_DETECTED once per window and drift episode, and — with
// onDrift rerun — hands a wanted rerun to the watcher's fire order (run created under `<window key>#rerun-<n>` →
// window claimed under the fence → TRIGGERING), which makes each rerun fire at most once across replicas.

import { makeAlert } from '../../alert/index.js';
import type { PipelineWatchConfig } from '../../config/index.js';
import type { PipelineSpec, TraitResult } from '../../core/types.js';
import {
  decideReadiness,
  driftAlert,
  driftDecision,
  type WindowEvent,
  type WindowRecord,
  whatDrifts,
} from '../../engine/index.js';
import type { LeaseFence } from '../../store/index.js';
import { withAlerts } from '../alerting.js';
import type { Context } from '../context-type.js';
import type { Evaluation } from '../evaluate.js';

const ONCE = Number.MAX_SAFE_INTEGER;

/** What the drift pass needs of the watcher. */
export interface DriftHost {
  ctx: Context;
  move(rec: WindowRecord, event: WindowEvent, fence: LeaseFence): Promise<WindowRecord | 'fenced' | 'lost' | 'noop'>;
  evaluate(rec: WindowRecord, only: string[]): Promise<Evaluation>;
  /** The watcher's fire order for rerun `rerun` of `rec`, re-deciding from the stored results first. */
  fireRerun(rec: WindowRecord, rerun: number): Promise<'progress' | 'none' | 'fenced' | 'reload'>;
}

export interface DriftPass {
  /** Something was evaluated or written: look again. */
  progress: boolean;
  fenced?: boolean;
  nextAt?: number;
}

/** One drift pass over `records` (the watcher's window heads). */
export async function driftPass(
  host: DriftHost,
  spec: PipelineSpec,
  watch: PipelineWatchConfig,
  records: readonly WindowRecord[],
  results: readonly TraitResult[],
  fence: LeaseFence,
): Promise<DriftPass> {
  const monitor = watch.monitor;
  if (!monitor) return { progress: false };
  const ctx = host.ctx;
  const p = spec.name;
  const due = whatDrifts({
    pipeline: p,
    monitor,
    traits: spec.traits,
    results,
    records,
    reevaluateMs: watch.reevaluateMs,
    now: ctx.clock.now(),
  });
  const out: DriftPass = { progress: false, ...(due.nextAt !== undefined ? { nextAt: due.nextAt } : {}) };
  for (const action of due.actions) {
    const rec = records.find((r) => r.key === action.key);
    if (!rec) continue;
    if (action.kind === 'rerun') {
      const r = await host.fireRerun(rec, action.rerun);
      if (r === 'fenced') return { ...out, fenced: true };
      if (r !== 'none') out.progress = true;
      continue;
    }
    if (action.traits.length > 0) await host.evaluate(rec, action.traits);
    const now = ctx.clock.now();
    const fresh = await ctx.store.getTraitResults(p);
    const decision = driftDecision(p, spec.traits, fresh, monitor, now);
    const r = await host.move(
      rec,
      { type: 'drift-checked', decision, onDrift: monitor.onDrift, maxReruns: monitor.maxReruns },
      fence,
    );
    if (r === 'fenced') return { ...out, fenced: true };
    out.progress = true;
    if (typeof r !== 'object' || !r.drift?.episode || rec.drift?.episode) continue;
    // A new drift episode of this window: DRIFT_DETECTED, claimed once per (window, completion, episode start).
    const fingerprint = `${rec.terminal?.at ?? 0}:${r.drift.episode.since}`;
    const claim = await ctx.store.claimAlert(
      { pipeline: p, kind: 'window', window: rec.key, alert: 'DRIFT_DETECTED' },
      fingerprint,
      now,
      ONCE,
    );
    if (!claim.fire) continue;
    const tz = watch.schedules.find((s) => s.name === rec.schedule)?.timezone ?? 'UTC';
    const draft = driftAlert(p, rec, decision, monitor, tz);
    await withAlerts(ctx, () => ctx.events.publish('alert.raised', { alert: makeAlert(draft.kind, draft, now) }));
  }
  return out;
}

/** The traits a rerun evaluates before firing: those of the pipeline not PASS now (the rest count as stored). */
export function rerunNeeds(spec: PipelineSpec, results: readonly TraitResult[], now: number): string[] {
  const r = decideReadiness(spec.name, spec.traits, results, spec.readinessRule, now);
  return r.traits.filter((v) => v.state !== 'PASS').map((v) => v.trait);
}
