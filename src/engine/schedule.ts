// Schedule math: when a schedule's windows open (croner cron in an IANA timezone, or a fixed interval from an anchor),
// and each window's `after` and `deadline` instants. Pure: every answer is a function of the spec and the instants
// passed in; croner is only asked for occurrences after/before a given instant (never "now").
import { Cron } from 'croner';
import { addDays, isoUtc, isValidTimeZone, localDate, localToInstant } from './local-time.js';
import type { SlaSpec } from './sla.js';

import type { TimeSpec } from './time-spec.js';

export type { TimeSpec } from './time-spec.js';

/** What to do with windows that opened while no watcher was running. */
export type CatchUpPolicy = 'skip' | 'latest' | 'all';
export const CATCHUP_POLICIES: readonly CatchUpPolicy[] = ['skip', 'latest', 'all'];
/** `catchup: all` opens at most this many missed windows (the newest); older ones are recorded, never dropped. */
export const CATCHUP_ALL_MAX = 50;

/** One schedule of a pipeline, resolved (timezone defaulted, durations in ms). Exactly one of cron / everyMs. */
export interface ScheduleSpec {
  name: string;
  /** 5 fields (minute precision) or 6 (seconds first). */
  cron?: string;
  /** Fixed interval in ms (whole seconds), windows open at anchorMs + k × everyMs. */
  everyMs?: number;
  /** Epoch ms the interval counts from; default 0 (midnight UTC, 1970-01-01). */
  anchorMs?: number;
  /** IANA timezone for the cron, HH:MM times, the window date and exclusions. */
  timezone: string;
  after?: TimeSpec;
  deadline?: TimeSpec;
  catchup: CatchUpPolicy;
  /** This schedule's deadlines and expected run time (the pipeline's sla merged with the schedule's). */
  sla?: SlaSpec;
}

/** A schedule ready to answer questions (the cron parsed once). */
export interface Schedule {
  readonly spec: ScheduleSpec;
  /** croner's parsed pattern; undefined for `every`. */
  readonly cron?: Cron;
}

/** The instants of one window. */
export interface WindowTimes {
  schedule: string;
  /** When the window opens (epoch ms); its identity. */
  openAt: number;
  /** Earliest trigger (≥ openAt). */
  afterAt: number;
  /** The window closes here (> openAt): not triggered by then → MISSED. */
  deadlineAt: number;
  /** YYYY-MM-DD of openAt in the schedule's timezone (exclusions, INTERLOCK_WINDOW_DATE). */
  date: string;
}

export type CompileResult = { ok: true; schedule: Schedule } | { ok: false; error: string };

const MS_DAY = 86_400_000;
// A fixed reference for compile-time sanity checks (not "now": the answer must not depend on when it is asked).
const PROBE_FROM = Date.UTC(2026, 0, 1);

/** Parses and checks a schedule; the error is one human sentence. */
export function compileSchedule(spec: ScheduleSpec): CompileResult {
  if (!isValidTimeZone(spec.timezone)) return { ok: false, error: `unknown timezone '${spec.timezone}'` };
  if ((spec.cron === undefined) === (spec.everyMs === undefined)) {
    return { ok: false, error: 'a schedule needs exactly one of cron or every' };
  }
  let cron: Cron | undefined;
  if (spec.cron !== undefined) {
    const fields = spec.cron.trim().split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) {
      return { ok: false, error: `cron '${spec.cron}' must have 5 fields (or 6 with seconds first)` };
    }
    try {
      cron = new Cron(fields.join(' '), { timezone: spec.timezone, mode: '5-or-6-parts' });
    } catch (e) {
      return { ok: false, error: `invalid cron '${spec.cron}': ${(e as Error).message.replace(/^CronPattern: /, '')}` };
    }
    if (cron.nextRun(isoUtc(PROBE_FROM)) === null) return { ok: false, error: `cron '${spec.cron}' never fires` };
  } else {
    const every = spec.everyMs as number;
    if (!Number.isInteger(every) || every < 1000 || every % 1000 !== 0) {
      return { ok: false, error: 'every must be a whole number of seconds, at least 1s' };
    }
    const anchor = spec.anchorMs ?? 0;
    if (!Number.isInteger(anchor) || anchor % 1000 !== 0) return { ok: false, error: 'anchor must be a whole second' };
  }
  for (const [field, t] of [
    ['after', spec.after],
    ['deadline', spec.deadline],
  ] as const) {
    if (t === undefined) continue;
    if (t.kind === 'time' && !(isHour(t.hour) && isMinute(t.minute))) {
      return { ok: false, error: `${field} must be HH:MM (00:00–23:59)` };
    }
    if (t.kind === 'offset' && !(Number.isFinite(t.ms) && t.ms >= 0)) {
      return { ok: false, error: `${field} must be a non-negative duration` };
    }
  }
  if (spec.deadline?.kind === 'offset' && spec.deadline.ms === 0) {
    return { ok: false, error: 'deadline must be after the window opens' };
  }
  const schedule: Schedule = cron ? { spec, cron } : { spec };
  // A window that can never trigger is a configuration error, not a stream of MISSED records.
  const first = nextOpen(schedule, PROBE_FROM);
  if (first !== undefined) {
    const w = windowTimes(schedule, first);
    if (w.afterAt >= w.deadlineAt) {
      return {
        ok: false,
        error: `after (${isoUtc(w.afterAt)}) is not before the deadline (${isoUtc(w.deadlineAt)}) for the window opening ${isoUtc(first)}`,
      };
    }
  }
  return { ok: true, schedule };
}

const isHour = (h: number) => Number.isInteger(h) && h >= 0 && h <= 23;
const isMinute = (m: number) => Number.isInteger(m) && m >= 0 && m <= 59;

/** Like compileSchedule, but throws (for specs the config layer has already validated). */
export function mustCompileSchedule(spec: ScheduleSpec): Schedule {
  const r = compileSchedule(spec);
  if (!r.ok) throw new RangeError(`schedule '${spec.name}': ${r.error}`);
  return r.schedule;
}

/**
 * The first window opening strictly after `after`. Cron in its timezone with croner's DST rules: a fixed-time
 * cron (`30 2 * * *`) opens once on a fall-back day (first occurrence) and once on a spring-forward day (when the
 * clock jumps past the missing time); an interval cron (`0 * * * *`) follows real hours: each instant once, the
 * repeated hour's two instants are two windows, the missing hour none.
 */
export function nextOpen(s: Schedule, after: number): number | undefined {
  if (s.cron) {
    // croner takes ~0.3 ms per answer in a timezone; the last answer covers every `after` up to it.
    const m = memo.get(s);
    if (m && after >= m.after && after < m.next) return m.next;
    const d = s.cron.nextRun(isoUtc(after));
    if (d === null) return undefined;
    memo.set(s, { after, next: d.getTime() });
    return d.getTime();
  }
  const every = s.spec.everyMs as number;
  const anchor = s.spec.anchorMs ?? 0;
  return anchor + (Math.floor((after - anchor) / every) + 1) * every;
}

// Per schedule: no window opens in (after, next]. A cache only: it never changes an answer.
const memo = new WeakMap<Schedule, { after: number; next: number }>();

/** The last window opening at or before `atOrBefore`, if any. */
export function previousOpen(s: Schedule, atOrBefore: number): number | undefined {
  if (s.cron) {
    // croner answers strictly before its reference, read in whole seconds (openings are whole seconds): the next
    // whole second after `atOrBefore` makes an opening at exactly `atOrBefore` count.
    const [d] = s.cron.previousRuns(1, isoUtc(Math.floor(atOrBefore / 1000) * 1000 + 1000));
    return d === undefined ? undefined : d.getTime();
  }
  const every = s.spec.everyMs as number;
  const anchor = s.spec.anchorMs ?? 0;
  return anchor + Math.floor((atOrBefore - anchor) / every) * every;
}

/** Window openings in [from, to), oldest first, at most `limit` of them. */
export function opensBetween(s: Schedule, from: number, to: number, limit = Number.POSITIVE_INFINITY): number[] {
  const out: number[] = [];
  let t = nextOpen(s, from - 1);
  while (t !== undefined && t < to && out.length < limit) {
    out.push(t);
    t = nextOpen(s, t);
  }
  return out;
}

/** How many windows open in [from, to) (counted arithmetically for `every`). */
export function countOpensBetween(s: Schedule, from: number, to: number): number {
  if (to <= from) return 0;
  if (!s.cron) {
    const first = nextOpen(s, from - 1) as number;
    return first >= to ? 0 : Math.floor((to - 1 - first) / (s.spec.everyMs as number)) + 1;
  }
  return opensBetween(s, from, to).length;
}

/**
 * First instant ≥ (or >, when `strict`) `openAt` at which the local clock reads HH:MM on the window's date or a
 * later day.
 */
function nextLocalTime(t: { hour: number; minute: number }, openAt: number, tz: string, strict: boolean): number {
  let date = localDate(openAt, tz);
  for (let i = 0; i < 3; i++) {
    const at = localToInstant(date, t.hour, t.minute, tz);
    if (strict ? at > openAt : at >= openAt) return at;
    date = addDays(date, 1);
  }
  return openAt + MS_DAY; // unreachable for real timezones; fail towards a closed window
}

/** The instants of the window opening at `openAt` (an instant nextOpen returned). */
export function windowTimes(s: Schedule, openAt: number): WindowTimes {
  const { spec } = s;
  const tz = spec.timezone;
  const afterAt =
    spec.after === undefined
      ? openAt
      : spec.after.kind === 'offset'
        ? openAt + spec.after.ms
        : nextLocalTime(spec.after, openAt, tz, false);
  let deadlineAt: number;
  if (spec.deadline === undefined) deadlineAt = nextOpen(s, openAt) ?? openAt + MS_DAY;
  else if (spec.deadline.kind === 'offset') deadlineAt = openAt + spec.deadline.ms;
  else deadlineAt = nextLocalTime(spec.deadline, openAt, tz, true);
  return { schedule: spec.name, openAt, afterAt, deadlineAt, date: localDate(openAt, tz) };
}

/** Windows opening in [from, to), oldest first. */
export function windowsBetween(s: Schedule, from: number, to: number, limit?: number): WindowTimes[] {
  return opensBetween(s, from, to, limit).map((t) => windowTimes(s, t));
}

/** The next `n` windows opening strictly after `after` (for `interlock schedule --next`). */
export function nextWindows(s: Schedule, after: number, n: number): WindowTimes[] {
  const out: WindowTimes[] = [];
  let t = nextOpen(s, after);
  while (t !== undefined && out.length < n) {
    out.push(windowTimes(s, t));
    t = nextOpen(s, t);
  }
  return out;
}
