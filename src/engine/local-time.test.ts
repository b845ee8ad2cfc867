import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  isoUtc,
  isValidTimeZone,
  localDate,
  localHHMM,
  localParts,
  localToInstant,
  offsetAt,
  parseDate,
  parseIsoUtc,
  utcParts,
  weekdayOf,
} from './local-time.js';

const T = (s: string) => Date.parse(s);
// 1990 … 2100, any millisecond
const instant = fc.integer({ min: 631_152_000_000, max: 4_102_444_800_000 });

describe('local time', () => {
  it('knows IANA timezones and rejects others', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('America/New_York')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });

  it('reads the wall clock in a timezone, across DST', () => {
    expect(localParts(T('2026-03-29T00:59:59Z'), 'Europe/Berlin')).toMatchObject({ hour: 1, minute: 59, second: 59 });
    expect(localParts(T('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toMatchObject({ hour: 3, minute: 0 });
    expect(offsetAt(T('2026-03-29T00:59:59Z'), 'Europe/Berlin')).toBe(3_600_000);
    expect(offsetAt(T('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toBe(7_200_000);
    expect(offsetAt(T('2026-11-01T06:00:00Z'), 'America/New_York')).toBe(-5 * 3_600_000);
    expect(localDate(T('2026-03-28T23:30:00Z'), 'Europe/Berlin')).toBe('2026-03-29');
    expect(localHHMM(T('2026-03-28T23:30:00Z'), 'Europe/Berlin')).toBe('00:30');
    expect(localHHMM(T('2026-01-01T00:00:00Z'), 'UTC')).toBe('00:00');
  });

  it('local → instant: ordinary times, the first of a repeated time, the end of a gap', () => {
    expect(isoUtc(localToInstant('2026-01-15', 5, 30, 'Europe/Berlin'))).toBe('2026-01-15T04:30:00Z');
    expect(isoUtc(localToInstant('2026-07-15', 5, 30, 'Europe/Berlin'))).toBe('2026-07-15T03:30:00Z');
    // Berlin spring forward 02:00 → 03:00: 02:30 does not exist → 03:00 CEST.
    expect(isoUtc(localToInstant('2026-03-29', 2, 30, 'Europe/Berlin'))).toBe('2026-03-29T01:00:00Z');
    expect(isoUtc(localToInstant('2026-03-29', 2, 0, 'Europe/Berlin'))).toBe('2026-03-29T01:00:00Z');
    expect(isoUtc(localToInstant('2026-03-29', 3, 0, 'Europe/Berlin'))).toBe('2026-03-29T01:00:00Z');
    expect(isoUtc(localToInstant('2026-03-29', 1, 59, 'Europe/Berlin'))).toBe('2026-03-29T00:59:00Z');
    // Berlin fall back 03:00 → 02:00: 02:30 occurs twice → the first (CEST).
    expect(isoUtc(localToInstant('2026-10-25', 2, 30, 'Europe/Berlin'))).toBe('2026-10-25T00:30:00Z');
    expect(isoUtc(localToInstant('2026-10-25', 3, 0, 'Europe/Berlin'))).toBe('2026-10-25T02:00:00Z');
    // New York: 2026-03-08 02:00 → 03:00, 2026-11-01 02:00 → 01:00.
    expect(isoUtc(localToInstant('2026-03-08', 2, 30, 'America/New_York'))).toBe('2026-03-08T07:00:00Z');
    expect(isoUtc(localToInstant('2026-11-01', 1, 30, 'America/New_York'))).toBe('2026-11-01T05:30:00Z');
    expect(isoUtc(localToInstant('2026-11-01', 2, 30, 'America/New_York'))).toBe('2026-11-01T07:30:00Z');
  });

  it('local → instant is the first instant whose wall clock reads that time or later (property)', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 3 * 365 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        (tz, d, h, m) => {
          const date = addDays('2025-01-01', d);
          const t = localToInstant(date, h, m, tz);
          const wall = (x: number) => {
            const p = localParts(x, tz);
            return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
          };
          const want = Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10), h, m);
          expect(wall(t)).toBeGreaterThanOrEqual(want);
          expect(wall(t - 1000)).toBeLessThan(want);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('ISO text: one canonical spelling per instant, and only that parses', () => {
    expect(isoUtc(T('2026-03-29T01:00:00Z'))).toBe('2026-03-29T01:00:00Z');
    expect(isoUtc(T('2026-03-29T01:00:00.250Z'))).toBe('2026-03-29T01:00:00.250Z');
    expect(parseIsoUtc('2026-03-29T01:00:00Z')).toBe(T('2026-03-29T01:00:00Z'));
    for (const bad of [
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:00:00+00:00',
      '2026-03-29T01:00Z',
      '2026-02-30T00:00:00Z',
      '2026-3-29T01:00:00Z',
      '2026-03-29 01:00:00Z',
      'x',
    ]) {
      expect(parseIsoUtc(bad), bad).toBeUndefined();
    }
    fc.assert(
      fc.property(instant, (ms) => {
        expect(isoUtc(ms)).toBe(new Date(ms).toISOString().replace('.000Z', 'Z'));
        expect(parseIsoUtc(isoUtc(ms))).toBe(ms);
      }),
    );
  });

  it('civil fields and weekdays by arithmetic agree with Date', () => {
    fc.assert(
      fc.property(instant, (ms) => {
        const d = new Date(ms);
        const p = utcParts(ms);
        expect([p.year, p.month, p.day, p.hour, p.minute, p.second, p.millisecond]).toEqual([
          d.getUTCFullYear(),
          d.getUTCMonth() + 1,
          d.getUTCDate(),
          d.getUTCHours(),
          d.getUTCMinutes(),
          d.getUTCSeconds(),
          d.getUTCMilliseconds(),
        ]);
        const date = d.toISOString().slice(0, 10);
        expect(weekdayOf(date)).toBe(
          ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'][d.getUTCDay()],
        );
      }),
    );
    expect(weekdayOf('2026-12-25')).toBe('friday');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(parseDate('2026-02-29')).toBeUndefined();
    expect(parseDate('2028-02-29')).toEqual({ year: 2028, month: 2, day: 29 });
    expect(parseDate('2026-13-01')).toBeUndefined();
  });
});
