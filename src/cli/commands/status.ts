// `interlock status [pipeline]`
import { formatDiagnostic } from '../../core/errors.js';
import { isInvalid } from '../../core/invalid.js';
import type { InvalidPipeline } from '../../core/types.js';
import { openContext } from '../../runtime/context.js';
import { invalidStatusView, type PipelineStatus, statusOverview, statusView } from '../../runtime/status.js';
import type { ScheduledStatusView } from '../../runtime/windows.js';
import {
  formatBlocking,
  formatColumns,
  formatDuration,
  formatTime,
  formatValue,
  formatVerdict,
  stateLabel,
} from '../format.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';
import { type OpenCtx, shortLocal, wakeText, windowWhy } from './windows.js';

/** Per schedule: the live window (or the next to open), its state, time to its deadline; then the next wake-up. */
function scheduledLines(out: Out, v: ScheduledStatusView, now: number): string[] {
  const lines: string[] = [];
  const mode = v.mode === 'shadow' ? out.c.dim(' (shadow mode: never fires)') : '';
  for (const s of v.schedules) {
    const cur = s.current;
    if (cur) {
      const left = s.deadlineInMs !== null && s.deadlineInMs > 0 ? `in ${formatDuration(s.deadlineInMs)}` : 'passed';
      lines.push(
        `  schedule ${s.schedule} (${s.timezone})${mode}: window ${shortLocal(cur.open)} ${cur.state}, deadline ${shortLocal(cur.deadline).slice(11)} (${left})`,
      );
      const why = windowWhy(cur);
      if (why) lines.push(`    ${why}`);
    } else {
      lines.push(
        `  schedule ${s.schedule} (${s.timezone})${mode}: ${s.next ? `next window opens ${shortLocal(s.next.open)} (in ${formatDuration(s.next.open.at - now)})` : 'no further windows'}`,
      );
    }
    if (s.last) lines.push(out.c.dim(`    last: window ${shortLocal(s.last.open)} ${s.last.state}: ${s.last.reason}`));
  }
  for (const d of v.due) lines.push(out.c.yellow(`  due now: ${d.what}`));
  lines.push(`  next wake-up ${wakeText(v.nextWake, now)}`);
  if (v.note) lines.push(out.c.dim(`  ${v.note}`));
  return lines;
}

/** One row per schedule of each scheduled pipeline, for the overview. */
function scheduledRows(v: ScheduledStatusView, now: number): string[][] {
  return v.schedules.map((s) => {
    const cur = s.current;
    return [
      v.pipeline,
      s.schedule,
      cur ? shortLocal(cur.open) : s.next ? `next ${shortLocal(s.next.open)}` : '-',
      cur ? cur.state : s.next ? `opens in ${formatDuration(s.next.open.at - now)}` : '-',
      cur && s.deadlineInMs !== null ? (s.deadlineInMs > 0 ? `in ${formatDuration(s.deadlineInMs)}` : 'passed') : '-',
      v.due.length > 0 ? `due now: ${v.due.map((d) => d.what).join('; ')}` : wakeText(v.nextWake, now),
    ];
  });
}

function detail(out: Out, s: PipelineStatus, now: number): void {
  const p = s.pipeline;
  out.line(
    `${out.c.bold(p.name)} ${out.c.dim(`(${p.archetype}${p.tier !== undefined ? `, tier ${p.tier}` : ''}, ${p.source})`)}`,
  );
  out.line(
    s.lastEvaluatedAt === undefined
      ? '  never evaluated'
      : `  last evaluated ${formatTime(s.lastEvaluatedAt)} (${formatDuration(now - s.lastEvaluatedAt)} ago): ${s.lastOutcome}`,
  );
  const width = Math.max(...s.readiness.traits.map((t) => t.trait.length), 5);
  for (const t of s.readiness.traits) {
    const ttl =
      t.state === 'STALE'
        ? t.result
          ? 'expired'
          : 'no result'
        : t.ttlLeftMs === undefined
          ? 'no ttl'
          : `ttl ${formatDuration(t.ttlLeftMs)}`;
    const why = t.state === 'FAIL' ? (t.result?.reason ?? t.result?.reasonCode ?? '') : formatValue(t.result?.value);
    const opt = t.required ? '' : out.c.dim(' (optional)');
    out.fitLine(
      `  ${stateLabel(out.c, t.state)} ${t.trait.padEnd(width)}${opt}  ${out.c.dim(ttl.padEnd(10))}  ${why}`.trimEnd(),
    );
  }
  for (const l of formatVerdict(out.c, s.readiness)) out.fitLine(l);
  const a = s.activeRun;
  if (a) {
    out.line(
      out.c.yellow(
        `active run ${a.runId}: ${a.status} for ${formatDuration(now - a.createdAt)} (holds the lock; times out at ${formatTime(a.deadlineAt)})`,
      ),
    );
  } else if (s.lastRun) {
    out.line(
      out.c.dim(`last run ${s.lastRun.runId}: ${s.lastRun.status} ${formatDuration(now - s.lastRun.updatedAt)} ago`),
    );
  }
  if (s.scheduled) for (const l of scheduledLines(out, s.scheduled, now)) out.fitLine(l);
}

/** One problem of an INVALID pipeline: file:line:col when it came from a file, else path: message. */
function problemLine(p: InvalidPipeline['problems'][number]): string {
  if (p.file !== undefined && p.line !== undefined && p.col !== undefined) {
    return formatDiagnostic({
      file: p.file,
      line: p.line,
      col: p.col,
      path: p.path,
      message: p.message,
      severity: 'error',
    });
  }
  return p.path ? `${p.path}: ${p.message}` : p.message;
}

function invalidDetail(out: Out, p: InvalidPipeline): void {
  out.line(`${out.c.bold(p.name)} ${out.c.dim(`(${p.source})`)}`);
  for (const problem of p.problems) out.line(`  ${problemLine(problem)}`);
  out.line(out.c.red('INVALID'));
  out.line(out.c.dim('  never evaluated or triggered until its config is fixed (interlock validate)'));
}

const view = (s: PipelineStatus | InvalidPipeline) => (isInvalid(s) ? invalidStatusView(s) : statusView(s));

export async function status(out: Out, g: GlobalOptions, name?: string, open: OpenCtx = openContext): Promise<number> {
  const ctx = await open(contextOptions(g));
  try {
    const now = ctx.clock.now();
    const list = await statusOverview(ctx, name);
    const one = list[0];
    if (out.json) {
      out.printJson(name && one ? view(one) : list.map(view));
    } else if (name && one) {
      if (isInvalid(one)) invalidDetail(out, one);
      else detail(out, one, now);
    } else if (list.length === 0) {
      out.line('no pipelines defined (add one with `interlock add-pipeline`)');
    } else {
      const rows = list.map((s) => {
        if (isInvalid(s)) {
          const first = s.problems[0];
          const why = `${s.problems.length} config problem(s)${first ? `: ${problemLine(first)}` : ''}`;
          return [s.name, stateLabel(out.c, 'INVALID'), '-', '-', '-', why.length > 90 ? `${why.slice(0, 89)}…` : why];
        }
        const traits = s.readiness.traits;
        const passing = traits.filter((t) => t.state === 'PASS').length;
        const stale = traits.filter((t) => t.state === 'STALE').length;
        const blocking = s.readiness.blocking.map(formatBlocking).join('; ') || s.readiness.note || '';
        return [
          s.pipeline.name,
          stateLabel(out.c, s.readiness.outcome),
          `${passing}/${traits.length} pass${stale ? `, ${stale} stale` : ''}`,
          s.lastEvaluatedAt === undefined ? 'never' : `${formatDuration(now - s.lastEvaluatedAt)} ago`,
          s.activeRun ? s.activeRun.status : (s.lastRun?.status ?? '-'),
          blocking,
        ];
      });
      rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      for (const l of formatColumns(['PIPELINE', 'READINESS', 'TRAITS', 'LAST EVALUATED', 'RUN', 'BLOCKING'], rows)) {
        out.fitLine(l);
      }
      // Scheduled pipelines get a second table below the first (which stays as it was).
      const scheduled = list.flatMap((s) => (!isInvalid(s) && s.scheduled ? scheduledRows(s.scheduled, now) : []));
      if (scheduled.length > 0) {
        scheduled.sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])));
        out.line();
        for (const l of formatColumns(
          ['PIPELINE', 'SCHEDULE', 'WINDOW', 'STATE', 'DEADLINE', 'NEXT WAKE-UP'],
          scheduled,
        )) {
          out.fitLine(l);
        }
      }
    }
    // An INVALID pipeline is a config error (2), like `evaluate` of it; NOT_READY is 1.
    if (!name || !one) return 0;
    return isInvalid(one) ? 2 : one.readiness.outcome !== 'READY' ? 1 : 0;
  } finally {
    await ctx.close();
  }
}
