// Exclusions: windows that open on excluded days (weekdays, dates, named calendars) are EXCLUDED, judged on the
// window's local date in its schedule's timezone. Pure.
import { type Weekday, weekdayOf } from './local-time.js';

/** A named calendar (calendars/<name>.yaml): weekdays and dates that are off. */
export interface CalendarSpec {
  name: string;
  days?: readonly Weekday[];
  dates?: readonly string[];
}

/** A pipeline's exclusions, calendars already resolved by name. */
export interface ExclusionSpec {
  days?: readonly Weekday[];
  dates?: readonly string[];
  calendars?: readonly CalendarSpec[];
}

/** Why a window is excluded: which rule matched. */
export interface ExclusionMatch {
  rule: 'day' | 'date' | 'calendar';
  /** The weekday or date that matched. */
  value: string;
  /** The calendar's name, for rule 'calendar'. */
  calendar?: string;
  /** Human text: "saturday is excluded", "2026-12-25 is in calendar holidays". */
  reason: string;
}

/** Whether a window on local date `date` (YYYY-MM-DD) is excluded, and by which rule (pipeline rules first). */
export function exclusionFor(date: string, ex: ExclusionSpec | undefined): ExclusionMatch | undefined {
  if (!ex) return undefined;
  const day = weekdayOf(date);
  if (ex.dates?.includes(date)) return { rule: 'date', value: date, reason: `${date} is an excluded date` };
  if (ex.days?.includes(day)) return { rule: 'day', value: day, reason: `${day} (${date}) is an excluded day` };
  for (const c of ex.calendars ?? []) {
    if (c.dates?.includes(date)) {
      return { rule: 'calendar', value: date, calendar: c.name, reason: `${date} is in calendar ${c.name}` };
    }
    if (c.days?.includes(day)) {
      return {
        rule: 'calendar',
        value: day,
        calendar: c.name,
        reason: `${day} (${date}) is off in calendar ${c.name}`,
      };
    }
  }
  return undefined;
}
