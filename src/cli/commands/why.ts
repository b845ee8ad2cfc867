// `interlock why <pipeline> [--window KEY] [--json]`: one screen answering "why hasn't it run?" — the window and its
// deadline, READY or the blocking traits (reason, value, since when, TTL left, what would unblock each), last attempts.
import { type Context, type OpenOptions, openContext } from '../../runtime/context.js';
import { type WhyView, whyView } from '../../runtime/why.js';
import { formatDuration } from '../format.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';
import { shortLocal, wakeText } from './windows.js';

export type OpenCtx = (o: OpenOptions) => Promise<Context>;

const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ').trim();

/** The human screen of a WhyView, one string per line (colours from `out.c`). */
export function whyLines(out: Out, v: WhyView): string[] {
  const now = v.now.at;
  const lines: string[] = [];
  const head = v.outcome === 'READY' ? out.c.green(v.summary) : out.c.yellow(v.summary);
  lines.push(`${out.c.bold(v.pipeline)}  ${head}`);
  const w = v.window;
  if (w) {
    const deadline = w.terminal
      ? `deadline ${shortLocal(w.deadline)}`
      : `deadline ${shortLocal(w.deadline)} (${w.deadline.at > now ? `in ${formatDuration(w.deadline.at - now)}` : 'passed'})`;
    lines.push(
      `  window ${w.key}  ${w.state}  opens ${shortLocal(w.open)}, may trigger from ${shortLocal(w.after)}, ${deadline} [${w.timezone}]`,
    );
    if (!w.terminal) {
      if (w.due.length) lines.push(`  due now: ${w.due.map((d) => d.what).join('; ')}`);
      else if (w.nextWake) lines.push(`  next wake-up ${wakeText(w.nextWake, now)}`);
    }
    if (w.note) lines.push(out.c.dim(`  ${w.note}`));
  } else if (v.scheduled) {
    lines.push(
      v.nextWindow
        ? `  no live window; next ${v.nextWindow.key} opens ${shortLocal(v.nextWindow.open)}, deadline ${shortLocal(v.nextWindow.deadline)}`
        : '  no live window and none will open',
    );
  } else {
    lines.push(out.c.dim('  no schedules: runs on demand only (readiness below)'));
  }
  if (v.note) lines.push(`  ${v.note}`);
  for (const b of v.blocking) {
    const since = b.blockingSince
      ? ` since ${shortLocal(b.blockingSince)}${b.sinceAtLeast ? ' or earlier' : ''} (${formatDuration(now - b.blockingSince.at)})`
      : b.state === 'STALE'
        ? ' (never evaluated)'
        : '';
    lines.push(`  ${out.c.red('✗')} ${b.trait} ${b.state}${since}: ${oneLine(b.reason)} [${b.reasonCode}]`);
    if (b.value) lines.push(out.c.dim(`      value ${JSON.stringify(b.value)}`));
    if (b.ttlLeftMs !== null) lines.push(out.c.dim(`      this result counts for ${formatDuration(b.ttlLeftMs)} more`));
    lines.push(`      → ${b.unblock}`);
  }
  if (v.activeRun) lines.push(`  active run ${v.activeRun.runId} ${v.activeRun.status}`);
  const attempts = w?.attempts ?? [];
  if (attempts.length) {
    lines.push('  attempts:');
    for (const a of attempts) {
      const outcome = a.result ?? a.run?.status ?? 'unknown';
      const detail = a.error ?? a.run?.reason ?? a.run?.trigger?.error;
      lines.push(
        `    #${a.attempt} ${a.runId} ${shortLocal(a.claimedAt)} ${outcome}${detail ? `: ${oneLine(detail)}` : ''}`,
      );
    }
  } else if (v.lastRuns.length) {
    lines.push('  last runs:');
    for (const r of v.lastRuns) {
      const detail = r.reason ?? r.trigger?.error;
      lines.push(
        `    ${r.runId} ${new Date(r.createdAt).toISOString()} ${r.status}${detail ? `: ${oneLine(detail)}` : ''}`,
      );
    }
  } else {
    lines.push(out.c.dim('  no runs yet'));
  }
  return lines;
}

/** Exit 0 whatever the answer (it is a report, not a gate); errors as usual (unknown pipeline 2, …). */
export async function why(
  out: Out,
  g: GlobalOptions,
  name: string,
  o: { window?: string },
  open: OpenCtx = openContext,
): Promise<number> {
  const ctx = await open(contextOptions(g));
  try {
    const v = await whyView(ctx, name, o.window !== undefined ? { window: o.window } : {});
    if (out.json) out.printJson(v);
    else for (const l of whyLines(out, v)) out.fitLine(l);
    return 0;
  } finally {
    await ctx.close();
  }
}
