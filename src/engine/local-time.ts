// Wall-clock arithmetic in IANA timezones from epoch milliseconds (Intl only): local parts, local → instant, ISO text.
// Pure: no clock reads. Formatters are memoised per timezone (a cache, not state that changes any answer).

/** A wall-clock reading in some timezone. Month 1–12. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const MS_DAY = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when `tz` is an IANA timezone this runtime knows (e.g. Europe/Berlin, UTC). */
export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock in `tz` at instant `ms` (seconds precision). Throws RangeError on an unknown timezone. */
export function localParts(ms: number, tz: string): LocalParts {
  const out: LocalParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of formatter(tz).formatToParts(ms)) {
    if (p.type in out) out[p.type as keyof LocalParts] = Number.parseInt(p.value, 10);
  }
  if (out.hour === 24) out.hour = 0;
  return out;
}

/** The wall-clock reading as if it were UTC: lets wall times be compared and subtracted as numbers. */
function wallMs(p: LocalParts): number {
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

/** UTC offset of `tz` at instant `ms`, in ms (positive east of Greenwich). */
export function offsetAt(ms: number, tz: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallMs(localParts(whole, tz)) - whole;
}

/**
 * The first instant at which the wall clock in `tz` reads `date` `hour:minute` or later. A time that occurs twice
 * (fall back) resolves to its first occurrence; a time that does not exist (spring forward) to the end of the gap,
 * the instant the clock jumps past it (02:30 on a 02:00→03:00 day → 03:00), as croner does for fixed-time crons.
 */
export function localToInstant(date: string, hour: number, minute: number, tz: string): number {
  const d = parseDate(date);
  if (!d) throw new RangeError(`invalid date '${date}'`);
  const wall = Date.UTC(d.year, d.month - 1, d.day, hour, minute, 0);
  // Offsets in force within a day either side; transitions are months apart, so at most two distinct values.
  const offsets = [...new Set([offsetAt(wall - MS_DAY, tz), offsetAt(wall, tz), offsetAt(wall + MS_DAY, tz)])];
  const hits = offsets.map((o) => wall - o).filter((t) => wallMs(localParts(t, tz)) === wall);
  if (hits.length > 0) return Math.min(...hits);
  // In a gap: the transition lies between wall - (larger offset) and wall - (smaller offset).
  const after = Math.max(...offsets);
  let lo = wall - after; // before the transition (still the old offset) …
  let hi = wall - Math.min(...offsets); // … and after it
  if (offsetAt(lo, tz) === after) return lo;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(mid, tz) === after) hi = mid;
    else lo = mid;
  }
  return hi;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD` of the wall clock in `tz` at `ms`. */
export function localDate(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** `HH:MM` of the wall clock in `tz` at `ms`. */
export function localHHMM(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  return `${pad(p.hour)}:${pad(p.minute)}`;
}

/** Parses a strict `YYYY-MM-DD` that names a real calendar day. */
export function parseDate(s: string): { year: number; month: number; day: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return undefined;
  const t = Date.UTC(year, month - 1, day);
  if (utcParts(t).day !== day) return undefined;
  return { year, month, day };
}

/** The calendar day `n` days after `date` (`YYYY-MM-DD`). */
export function addDays(date: string, n: number): string {
  const d = parseDate(date);
  if (!d) throw new RangeError(`invalid date '${date}'`);
  const p = utcParts(Date.UTC(d.year, d.month - 1, d.day) + n * MS_DAY);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** The weekday of a calendar day (`YYYY-MM-DD`). */
export function weekdayOf(date: string): Weekday {
  const d = parseDate(date);
  if (!d) throw new RangeError(`invalid date '${date}'`);
  const days = Math.floor(Date.UTC(d.year, d.month - 1, d.day) / MS_DAY);
  // 1970-01-01 was a Thursday.
  return WEEKDAYS[(((days + 4) % 7) + 7) % 7];
}

/** Civil UTC fields of an instant, by arithmetic (days-from-civil inverse), without a Date object. */
export function utcParts(ms: number): LocalParts & { millisecond: number } {
  const days = Math.floor(ms / MS_DAY);
  let rem = ms - days * MS_DAY;
  const hour = Math.floor(rem / 3_600_000);
  rem -= hour * 3_600_000;
  const minute = Math.floor(rem / 60_000);
  rem -= minute * 60_000;
  const second = Math.floor(rem / 1000);
  const millisecond = rem - second * 1000;
  // Howard Hinnant's civil_from_days.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day, hour, minute, second, millisecond };
}

/**
 * ISO 8601 UTC text of an instant: `2026-03-29T01:00:00Z`, with `.sss` only when the instant has milliseconds.
 * One instant has exactly one text, so it can be part of a key.
 */
export function isoUtc(ms: number): string {
  const p = utcParts(ms);
  const base = `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
  return p.millisecond === 0 ? `${base}Z` : `${base}.${pad(p.millisecond, 3)}Z`;
}

/** Parses exactly the text `isoUtc` writes (and nothing else); undefined for any other spelling. */
export function parseIsoUtc(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?Z$/.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], m[7] === undefined ? 0 : +m[7]);
  return Number.isFinite(ms) && isoUtc(ms) === s ? ms : undefined;
}
