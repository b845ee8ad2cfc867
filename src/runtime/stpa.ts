// Use-case: `interlock stpa` — a pipeline's control structure and, per unsafe-control-action type, what guards it;
// and the warnings `validate --stpa` prints for scheduled pipelines with an unguarded UCA.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultLevel } from '../alert/index.js';
import type { LoadedProject } from '../config/index.js';
import type { Diagnostic } from '../core/errors.js';
import { ALERT_KINDS } from '../core/lists.js';
import type { AlertKind, PipelineSpec } from '../core/types.js';
import { type AlertLevel, analyseStpa, type StpaReport, type StpaSink } from '../engine/index.js';

export type { StpaReport, UcaAnalysis } from '../engine/index.js';

import { getPipeline } from './context.js';
import type { Context } from './context-type.js';

/** The project's alert sinks, named by type (`webhook #2` for the second of a type). */
function sinksOf(project: LoadedProject): StpaSink[] {
  const seen = new Map<string, number>();
  return project.config.alerts.sinks.map((s) => {
    const n = (seen.get(s.type) ?? 0) + 1;
    seen.set(s.type, n);
    const sink: StpaSink = { name: n > 1 ? `${s.type} #${n}` : s.type };
    if (s.kinds) sink.kinds = s.kinds;
    if (s.minLevel) sink.minLevel = s.minLevel;
    return sink;
  });
}

const LEVELS = Object.fromEntries(ALERT_KINDS.map((k) => [k, defaultLevel(k)])) as Record<AlertKind, AlertLevel>;

/** The STPA report of one pipeline as this project configures it (YAML or registered). */
export function stpaOf(project: LoadedProject, spec: PipelineSpec): StpaReport {
  const watch = project.watch.get(spec.name);
  return analyseStpa({
    pipeline: spec,
    schedules: watch?.schedules ?? [],
    ...(watch ? { mode: watch.mode } : {}),
    ...(watch?.monitor ? { monitor: watch.monitor } : {}),
    sinks: sinksOf(project),
    levels: LEVELS,
  });
}

/** `interlock stpa <pipeline>`: PIPELINE_NOT_FOUND / CONFIG_INVALID as for evaluate. */
export async function stpaView(ctx: Context, name: string): Promise<StpaReport> {
  return stpaOf(ctx.project, await getPipeline(ctx, name));
}

/** Every pipeline's report (`interlock stpa` without a name): YAML pipelines, by name. */
export function stpaAll(project: LoadedProject): StpaReport[] {
  return [...project.pipelines.values()].sort((a, b) => a.name.localeCompare(b.name)).map((p) => stpaOf(project, p));
}

/** The line:col of a top-level key of a pipeline file (1:1 when it cannot be found). */
function keyPosition(project: LoadedProject, file: string, keys: readonly string[]): { line: number; col: number } {
  try {
    const lines = readFileSync(join(project.root, file), 'utf8').split('\n');
    for (const key of keys) {
      const i = lines.findIndex((l) => l.startsWith(`${key}:`));
      if (i >= 0) return { line: i + 1, col: 1 };
    }
  } catch {
    // The file moved since it was loaded: point at its start.
  }
  return { line: 1, col: 1 };
}

/** `validate --stpa`: a warning per NOT GUARDED UCA of each scheduled (live) pipeline, at its sla or schedules key. */
export function stpaDiagnostics(project: LoadedProject): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const report of stpaAll(project)) {
    if (!report.scheduled) continue;
    const file = project.pipelines.get(report.pipeline)?.source ?? '';
    for (const u of report.ucas) {
      if (u.status !== 'NOT GUARDED') continue;
      const at = keyPosition(project, file, u.type === 'wrong-duration' ? ['trigger', 'sla'] : ['sla', 'schedules']);
      out.push({
        file,
        ...at,
        path: u.type === 'wrong-duration' ? 'trigger' : 'sla',
        message: `STPA: ${u.type} (${u.title}) is NOT GUARDED for pipeline '${report.pipeline}': ${u.gaps.join('; ')} (see interlock stpa ${report.pipeline})`,
        severity: 'warning',
      });
    }
  }
  return out;
}
