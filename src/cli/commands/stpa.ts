// `interlock stpa [pipeline] [--json]`: the pipeline's control structure and, for each of the four unsafe control
// action types, guarded or NOT GUARDED and by what config.
import { openContext } from '../../runtime/context.js';
import { type StpaReport, stpaAll, stpaView } from '../../runtime/stpa.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';
import type { OpenCtx } from './why.js';

/** The human screen of one report, one string per line. */
export function stpaLines(out: Out, r: StpaReport): string[] {
  const cs = r.controlStructure;
  const lines = [
    `${out.c.bold(r.pipeline)}  ${r.scheduled ? 'scheduled' : 'on demand'}`,
    `  controller  ${cs.controller}`,
    `  action      ${cs.controlAction}`,
    `  actuator    ${cs.actuator}`,
    '  feedback',
    ...cs.feedback.map((f) => `    ${f}`),
    '  unsafe control actions',
  ];
  for (const u of r.ucas) {
    const status =
      u.status === 'guarded'
        ? out.c.green(u.status)
        : u.status === 'NOT GUARDED'
          ? out.c.red(u.status)
          : u.status === 'partly guarded'
            ? out.c.yellow(u.status)
            : out.c.dim(u.status);
    lines.push(`    ${u.type}: ${u.title}`);
    lines.push(`      ${status}${u.guards.length ? ` — ${u.guards.join('; ')}` : ''}`);
    for (const g of u.gaps) lines.push(`      ${u.status === 'not applicable' ? '·' : out.c.yellow('!')} ${g}`);
  }
  return lines;
}

/** Exit 0 whatever it finds (a report, not a gate; `validate --stpa` warns); unknown pipeline 2. */
export async function stpa(out: Out, g: GlobalOptions, name: string | undefined, open: OpenCtx = openContext) {
  const ctx = await open(contextOptions(g));
  try {
    const reports = name === undefined ? stpaAll(ctx.project) : [await stpaView(ctx, name)];
    if (out.json) out.printJson(name === undefined ? { pipelines: reports } : reports[0]);
    else
      reports.forEach((r, i) => {
        if (i > 0) out.line('');
        for (const l of stpaLines(out, r)) out.fitLine(l);
      });
    return 0;
  } finally {
    await ctx.close();
  }
}
