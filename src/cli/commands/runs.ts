// `interlock runs <pipeline> | runs --id <runId>`
import { InterlockError } from '../../core/errors.js';
import { openContext } from '../../runtime/context.js';
import { getRunState, listRuns } from '../../runtime/runs.js';
import { describeRun, runLine } from '../format.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';

export async function runs(
  out: Out,
  g: GlobalOptions,
  name: string | undefined,
  o: { limit: string; id?: string },
): Promise<number> {
  if (!name && !o.id)
    throw new InterlockError('USAGE', "give a pipeline ('interlock runs <pipeline>') or a run id (--id <runId>)");
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new InterlockError('USAGE', `--limit must be a whole number ≥ 1, got '${o.limit}'`);
  const ctx = await openContext(contextOptions(g));
  try {
    const now = ctx.clock.now();
    if (o.id) {
      const r = await getRunState(ctx, o.id);
      if (name && r.pipeline !== name) throw new InterlockError('RUN_NOT_FOUND', `run ${o.id} is not a run of ${name}`);
      if (out.json) out.printJson(r);
      else for (const l of describeRun(r, now)) out.line(l);
      return 0;
    }
    const list = await listRuns(ctx, name as string, { limit });
    if (out.json) out.printJson(list);
    else if (list.length === 0) out.line(`no runs of ${name} yet (start one with 'interlock run ${name}')`);
    else for (const r of list) out.line(runLine(out, r, now));
    return 0;
  } finally {
    await ctx.close();
  }
}
