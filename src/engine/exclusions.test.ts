import { describe, expect, it } from 'vitest';
import { exclusionFor } from './exclusions.js';
import { mustCompileSchedule, nextWindows } from './schedule.js';

const T = (s: string) => Date.parse(s);

describe('exclusions', () => {
  const ex = {
    days: ['saturday', 'sunday'] as const,
    dates: ['2026-12-25'],
    calendars: [{ name: 'holidays', dates: ['2026-12-31', '2027-01-01'], days: ['wednesday'] as const }],
  };

  it('match weekdays, dates and calendars, and say which rule matched', () => {
    expect(exclusionFor('2026-12-26', ex)).toMatchObject({ rule: 'day', value: 'saturday' });
    expect(exclusionFor('2026-12-27', ex)).toMatchObject({ rule: 'day', value: 'sunday' });
    expect(exclusionFor('2026-12-25', ex)).toMatchObject({
      rule: 'date',
      value: '2026-12-25',
      reason: '2026-12-25 is an excluded date',
    });
    expect(exclusionFor('2026-12-31', ex)).toMatchObject({
      rule: 'calendar',
      calendar: 'holidays',
      value: '2026-12-31',
    });
    expect(exclusionFor('2026-12-30', ex)).toMatchObject({
      rule: 'calendar',
      calendar: 'holidays',
      value: 'wednesday',
    });
    expect(exclusionFor('2026-12-28', ex)).toBeUndefined();
    expect(exclusionFor('2026-12-28', undefined)).toBeUndefined();
    expect(exclusionFor('2026-12-26', {})).toBeUndefined();
  });

  it("are judged on the window's local date in its timezone, not the UTC date", () => {
    // 00:30 Berlin on Saturday 2026-12-26 is still Friday 23:30 in UTC.
    const berlin = mustCompileSchedule({ name: 'd', cron: '30 0 * * *', timezone: 'Europe/Berlin', catchup: 'latest' });
    const [w] = nextWindows(berlin, T('2026-12-25T12:00:00Z'), 1);
    expect(w.openAt).toBe(T('2026-12-25T23:30:00Z'));
    expect(w.date).toBe('2026-12-26');
    expect(exclusionFor(w.date, { days: ['saturday'] })).toMatchObject({ rule: 'day' });
    expect(exclusionFor('2026-12-25', { days: ['saturday'] })).toBeUndefined();
    // 22:00 New York on Christmas Eve is already the 25th in UTC: not excluded by the 25th.
    const ny = mustCompileSchedule({ name: 'd', cron: '0 22 * * *', timezone: 'America/New_York', catchup: 'latest' });
    const [v] = nextWindows(ny, T('2026-12-24T12:00:00Z'), 1);
    expect(v.date).toBe('2026-12-24');
    expect(exclusionFor(v.date, { dates: ['2026-12-25'] })).toBeUndefined();
  });
});
