// Semantic rules of the watchdog and drift blocks of a pipeline document: `monitor.traits` must name traits of the
// pipeline (error), and an `sla.expectedDuration` not below the trigger's maxRunSeconds could never fire (warning).
import type { PipelineSpec } from '../core/types.js';
import { DEFAULT_MAX_RUN_SECONDS } from '../engine/index.js';
import type { RuleProblem } from './pipeline-rules.js';
import type { PipelineWatchConfig } from './schedule-schema.js';

/** The problems of `monitor` and `expectedDuration` of one pipeline (its normalised spec and watch config). */
export function watchdogProblems(spec: PipelineSpec, watch: PipelineWatchConfig | undefined): RuleProblem[] {
  if (!watch) return [];
  const out: RuleProblem[] = [];
  const names = spec.traits.map((t) => t.type);
  (watch.monitor?.traits ?? []).forEach((t, i) => {
    if (names.includes(t)) return;
    out.push({
      path: ['monitor', 'traits', i],
      message: `monitor.traits: '${t}' is not a trait of pipeline '${spec.name}' (traits: ${names.join(', ') || 'none'})`,
      severity: 'error',
    });
  });
  const maxMs = (spec.trigger?.maxRunSeconds ?? DEFAULT_MAX_RUN_SECONDS) * 1000;
  const pointless = (ms: number | undefined) => ms !== undefined && ms >= maxMs;
  const warn = (path: Array<string | number>, ms: number) =>
    out.push({
      path,
      message: `expectedDuration ${ms / 1000}s is not below maxRunSeconds ${maxMs / 1000}: a run times out before it could be stuck (RUN_STUCK never fires)`,
      severity: 'warning',
    });
  if (pointless(watch.sla?.expectedDurationMs)) warn(['sla', 'expectedDuration'], watch.sla?.expectedDurationMs ?? 0);
  watch.schedules.forEach((s, i) => {
    const ms = s.sla?.expectedDurationMs;
    if (ms !== watch.sla?.expectedDurationMs && pointless(ms))
      warn(['schedules', i, 'sla', 'expectedDuration'], ms ?? 0);
  });
  return out;
}
