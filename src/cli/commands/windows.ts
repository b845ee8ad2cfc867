// `interlock windows <pipeline> [--limit N] [--state S]`: a pipeline's schedule windows, newest first, and why each is
// where it is (last decision's blocking traits, or how it ended), with the next wake-up of the live ones.
import { InterlockError } from '../../core/errors.js';
import { type Context, type OpenOptions, openContext } from '../../runtime/context.js';
import {
  type InstantView,
  listWindowsView,
  type WakeView,
  WINDOW_LIST_MAX,
  WINDOW_STATES,
  type WindowState,
  type WindowView,
} from '../../runtime/windows.js';
import { formatBlocking, formatColumns, formatDuration } from '../format.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';

/** `2026-06-01 05:00` (seconds only when not :00) from an instant's local ISO text; the offset is left out. */
export function shortLocal(i: InstantView): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?/.exec(i.local);
  if (!m) return i.local;
  return `${m[1]} ${m[2]}${m[3] && m[3] !== ':00' ? m[3] : ''}`;
}

/** `in 30m: upstream-dependency expires 06:10` (the reason carries the local time already). */
export function wakeText(w: WakeView | null, now: number): string {
  if (!w) return '-';
  return `in ${formatDuration(w.at - now)}: ${w.reason}`;
}

/** Why a window is where it is: how it ended, else what blocks it, else what is due. */
export function windowWhy(w: WindowView): string {
  if (w.end) return w.end.reason;
  const d = w.lastDecision;
  if (d && d.outcome === 'NOT_READY') {
    return `NOT_READY: ${d.blocking.map(formatBlocking).join('; ') || d.note || 'readiness rule not met'}`;
  }
  if (d && d.outcome === 'READY') return 'READY';
  return w.note ?? '';
}

/** The deadline as `09:00 (in 3h20m)` for a live window, `09:00` for one that ended. */
function deadlineText(w: WindowView, now: number): string {
  const at = shortLocal(w.deadline).slice(11);
  if (w.terminal) return at;
  return w.deadline.at > now ? `${at} (in ${formatDuration(w.deadline.at - now)})` : `${at} (passed)`;
}

export function windowRows(list: readonly WindowView[], now: number): string[] {
  const rows = list.map((w) => [
    w.schedule,
    shortLocal(w.open),
    w.state,
    String(w.attempts.length),
    deadlineText(w, now),
    w.terminal ? '-' : w.due.length > 0 ? `due now: ${w.due.map((d) => d.what).join('; ')}` : wakeText(w.nextWake, now),
    windowWhy(w),
  ]);
  return formatColumns(['SCHEDULE', 'OPENS (LOCAL)', 'STATE', 'ATTEMPTS', 'DEADLINE', 'NEXT WAKE-UP', 'WHY'], rows);
}

export interface WindowsOptions {
  limit: string;
  state?: string;
}

/** Opens the command's Context (tests pass one over a memory store). */
export type OpenCtx = (o: OpenOptions) => Promise<Context>;

export async function windows(
  out: Out,
  g: GlobalOptions,
  name: string,
  o: WindowsOptions,
  open: OpenCtx = openContext,
): Promise<number> {
  const limit = Number(o.limit);
  if (!/^\d+$/.test(o.limit) || !Number.isInteger(limit) || limit < 1 || limit > WINDOW_LIST_MAX) {
    throw new InterlockError('USAGE', `--limit must be a whole number from 1 to ${WINDOW_LIST_MAX}, got '${o.limit}'`);
  }
  if (o.state !== undefined && !WINDOW_STATES.includes(o.state as WindowState)) {
    throw new InterlockError('USAGE', `--state must be one of ${WINDOW_STATES.join(', ')}, got '${o.state}'`);
  }
  const ctx = await open(contextOptions(g));
  try {
    const now = ctx.clock.now();
    const v = await listWindowsView(ctx, name, {
      limit,
      ...(o.state !== undefined ? { state: o.state as WindowState } : {}),
    });
    if (out.json) {
      out.printJson(v);
      return 0;
    }
    const schedules = v.schedules.map((s) => `${s.name} (${s.timezone})`).join(', ');
    out.line(`${out.c.bold(v.pipeline)} ${out.c.dim(schedules ? `schedules: ${schedules}` : 'no schedules')}`);
    if (v.note) out.line(out.c.dim(`  ${v.note}`));
    if (v.nextWake) out.fitLine(`  next wake-up ${wakeText(v.nextWake, now)}`);
    if (v.windows.length === 0) {
      out.line(o.state ? `no ${o.state} windows` : 'no windows recorded yet');
      return 0;
    }
    for (const l of windowRows(v.windows, now)) out.fitLine(l);
    return 0;
  } finally {
    await ctx.close();
  }
}
