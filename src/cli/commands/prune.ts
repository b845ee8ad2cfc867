// `interlock prune [--dry-run] [--pipeline NAME…]`: delete history past `retention` now (the watcher also does it,
// a few batches at a time); --dry-run shows what would go.
import { openContext } from '../../runtime/context.js';
import { type PruneReport, pruneHistory } from '../../runtime/retention.js';
import { formatDuration } from '../format.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';

/** 30d, 12h, or formatDuration's form when it is not whole days or hours. */
const span = (ms: number) =>
  ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : formatDuration(ms);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The human lines of a prune report. */
export function pruneLines(r: PruneReport): string[] {
  const verb = r.dryRun ? 'would delete' : 'deleted';
  const p = r.policy;
  return [
    `retention: decisions ${span(p.decisionsMs)}, runs ${span(p.runsMs)}, windows ${span(p.windowsMs)} (${r.pipelines.length} pipeline${r.pipelines.length === 1 ? '' : 's'})`,
    `  ${verb} ${r.decisions} decisions (before ${iso(r.cutoffs.decisions)}; the newest of each pipeline is kept)`,
    `  ${verb} ${r.windows} windows (ended before ${iso(r.cutoffs.windows)}; open windows and the newest of each schedule are kept)`,
    `  ${verb} ${r.runs} runs with ${r.runEvents} transitions (ended before ${iso(r.cutoffs.runs)}; a window's runs go with their window)`,
    ...(r.alertMarks > 0 ? [`  ${verb} ${r.alertMarks} alert marks of those windows and runs`] : []),
    ...(r.more ? ['  more remain: run it again'] : []),
  ];
}

export async function prune(out: Out, g: GlobalOptions, o: { dryRun?: boolean; pipeline?: string[] }): Promise<number> {
  const ctx = await openContext(contextOptions(g));
  try {
    const r = await pruneHistory(ctx, {
      ...(o.dryRun ? { dryRun: true } : {}),
      ...(o.pipeline && o.pipeline.length > 0 ? { pipelines: o.pipeline } : {}),
    });
    if (out.json) out.printJson(r);
    else for (const line of pruneLines(r)) out.line(line);
    return 0;
  } finally {
    await ctx.close();
  }
}
