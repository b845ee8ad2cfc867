// `interlock runs <pipeline> | runs --id <runId>` (--refresh: poll a RUNNING native run's platform state first)
import { InterlockError } from '../../core/errors.js';
import { openContext } from '../../runtime/context.js';
import { refreshRun, refreshRuns } from '../../runtime/platform-runs.js';
import { getRunState, listRuns } from '../../runtime/runs.js';
import { describeRun, runLine } from '../format.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';

export async function runs(
  out: Out,
  g: GlobalOptions,
  name: string | undefined,
  o: { limit: string; id?: string; refresh?: boolean },
): Promise<number> {
  if (!name && !o.id)
    throw new InterlockError('USAGE', "give a pipeline ('interlock runs <pipeline>') or a run id (--id <runId>)");
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new InterlockError('USAGE', `--limit must be a whole number ≥ 1, got '${o.limit}'`);
  const ctx = await openContext(contextOptions(g));
  try {
    if (o.id) {
      let r = await getRunState(ctx, o.id);
      if (name && r.pipeline !== name) throw new InterlockError('RUN_NOT_FOUND', `run ${o.id} is not a run of ${name}`);
      if (o.refresh) {
        const refreshed = await refreshRun(ctx, r, { force: true });
        if (refreshed.error) out.err(`warning: ${refreshed.error}`);
        r = refreshed.run;
      }
      if (out.json) out.printJson(r);
      else for (const l of describeRun(r, ctx.clock.now())) out.line(l);
      return 0;
    }
    if (o.refresh)
      for (const r of await refreshRuns(ctx, [name as string], { force: true }))
        if (r.error) out.err(`warning: run ${r.run.runId}: ${r.error}`);
    const list = await listRuns(ctx, name as string, { limit });
    if (out.json) out.printJson(list);
    else if (list.length === 0) out.line(`no runs of ${name} yet (start one with 'interlock run ${name}')`);
    else for (const r of list) out.line(runLine(out, r, ctx.clock.now()));
    return 0;
  } finally {
    await ctx.close();
  }
}
