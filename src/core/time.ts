// Points in time as users write them (`history --at`, `?before=`): ISO 8601, HH:MM today, epoch s or ms. Pure.

/**
 * Digit strings below this are epoch seconds, at or above it epoch milliseconds. 10^11 seconds is in the year
 * 5138; 10^11 milliseconds is 1973-03-03: no real timestamp of either kind is on the wrong side.
 */
export const EPOCH_MS_FROM = 100_000_000_000;

/** The accepted forms, for messages and docs. */
export const TIME_FORMS =
  'ISO 8601 (2026-12-01T06:02:00Z, 2026-12-01T06:02 local, 2026-12-01), HH:MM[:SS] (today, local time), ' +
  'or epoch seconds or milliseconds (a number below 10^11 is seconds)';

const HH_MM = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function clock(h: number, mi: number, s: number): boolean {
  return h <= 23 && mi <= 59 && s <= 59;
}

/**
 * Epoch milliseconds of `text`, or undefined when it is none of the accepted forms (TIME_FORMS) or out of range
 * (25:00, 99:99, 2026-02-30). `now` (epoch ms) is the day HH:MM refers to; times without an offset are local time.
 */
export function parseTime(text: string, now: number): number | undefined {
  const s = text.trim();
  if (/^\d{1,16}$/.test(s)) {
    const n = Number(s);
    return n < EPOCH_MS_FROM ? n * 1000 : n;
  }
  const hm = HH_MM.exec(s);
  if (hm) {
    const [h, mi, sec] = [Number(hm[1]), Number(hm[2]), Number(hm[3] ?? 0)];
    if (!clock(h, mi, sec)) return undefined;
    const d = new Date(now);
    d.setHours(h, mi, sec, 0);
    return d.getTime();
  }
  const m = ISO.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, sec] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || !clock(h, mi, sec)) return undefined;
  const zone = m[8];
  if (zone === undefined) return new Date(y, mo - 1, d, h, mi, sec, ms).getTime();
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) return undefined;
    const [oh, om] = [Number(z[2]), Number(z[3] ?? 0)];
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (z[1] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms) - offsetMin * 60_000;
}
