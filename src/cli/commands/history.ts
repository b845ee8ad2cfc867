// `interlock history <pipeline>`
import { InterlockError } from '../../core/errors.js';
import { parseTime, TIME_FORMS } from '../../core/time.js';
import { openContext } from '../../runtime/context.js';
import { decisionAt, pipelineHistory } from '../../runtime/status.js';
import { formatDecision, formatTime } from '../format.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';

/** A time from the command line (see core/time for the forms), or USAGE naming the accepted forms. */
function timeArg(flag: string, s: string, now: number): number {
  const t = parseTime(s, now);
  if (t === undefined) throw new InterlockError('USAGE', `${flag}: cannot read time '${s}' (use ${TIME_FORMS})`);
  return t;
}

export async function history(
  out: Out,
  g: GlobalOptions,
  name: string,
  o: { limit: string; at?: string; before?: string },
): Promise<number> {
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new InterlockError('USAGE', `--limit must be a whole number ≥ 1, got '${o.limit}'`);
  if (o.at && o.before) throw new InterlockError('USAGE', 'give --at or --before, not both');
  // Times are read before the project is opened: a bad one is a usage error whatever the config says.
  const now = Date.now();
  const at = o.at !== undefined ? timeArg('--at', o.at, now) : undefined;
  const opts = { limit, before: o.before !== undefined ? timeArg('--before', o.before, now) : undefined };
  const ctx = await openContext(contextOptions(g));
  try {
    if (o.at && at !== undefined) {
      const d = await decisionAt(ctx, name, at);
      const records = d ? [d] : [];
      if (out.json) out.printJson(records);
      else if (records.length === 0) out.line(`no decision for ${name} at or before ${o.at}`);
      else for (const d of records) for (const l of formatDecision(out.c, d)) out.fitLine(l);
      return 0;
    }
    const entries = await pipelineHistory(ctx, name, opts);
    if (out.json) {
      out.printJson(entries);
    } else if (entries.length === 0) {
      out.line(`nothing recorded for ${name} yet`);
    } else {
      for (const e of entries) {
        if (e.type === 'decision') for (const l of formatDecision(out.c, e)) out.fitLine(l);
        else {
          const ev = e;
          out.fitLine(
            `${formatTime(ev.at)}  ${out.c.cyan('RUN')}        ${ev.runId} ${ev.from ?? 'new'} → ${ev.to}${ev.reason ? `  ${out.c.dim(ev.reason)}` : ''}`,
          );
        }
      }
    }
    return 0;
  } finally {
    await ctx.close();
  }
}
