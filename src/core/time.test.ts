// parseTime: the one reader of user-written times (CLI --at/--before, API ?before=).
import { describe, expect, it } from 'vitest';
import { EPOCH_MS_FROM, parseTime } from './time.js';

// A fixed "now" in local time, so HH:MM has a day to fall on whatever TZ the tests run in.
const NOW = new Date(2026, 11, 1, 15, 30, 0).getTime();

describe('parseTime', () => {
  it('HH:MM and HH:MM:SS are today, local time', () => {
    expect(parseTime('06:02', NOW)).toBe(new Date(2026, 11, 1, 6, 2, 0).getTime());
    expect(parseTime('6:02:09', NOW)).toBe(new Date(2026, 11, 1, 6, 2, 9).getTime());
    expect(parseTime('23:59', NOW)).toBe(new Date(2026, 11, 1, 23, 59).getTime());
    expect(parseTime('00:00', NOW)).toBe(new Date(2026, 11, 1, 0, 0).getTime());
  });

  it('rejects clock times that do not exist', () => {
    for (const bad of ['99:99', '25:00', '24:00', '12:60', '12:30:60', '1:2', '123:00']) {
      expect(parseTime(bad, NOW), bad).toBeUndefined();
    }
  });

  it('ISO 8601: with Z or an offset exact, without one local; a date alone is local midnight', () => {
    expect(parseTime('2026-12-01T06:02:00Z', NOW)).toBe(Date.UTC(2026, 11, 1, 6, 2));
    expect(parseTime('2026-12-01T06:02:00.250Z', NOW)).toBe(Date.UTC(2026, 11, 1, 6, 2, 0, 250));
    expect(parseTime('2026-12-01T08:02:00+02:00', NOW)).toBe(Date.UTC(2026, 11, 1, 6, 2));
    expect(parseTime('2026-12-01T01:02-0500', NOW)).toBe(Date.UTC(2026, 11, 1, 6, 2));
    expect(parseTime('2026-12-01T06:02', NOW)).toBe(new Date(2026, 11, 1, 6, 2).getTime());
    expect(parseTime('2026-12-01 06:02:03', NOW)).toBe(new Date(2026, 11, 1, 6, 2, 3).getTime());
    expect(parseTime('2026-12-01', NOW)).toBe(new Date(2026, 11, 1).getTime());
  });

  it('rejects impossible dates and other words', () => {
    for (const bad of [
      '2026-02-30',
      '2026-13-01',
      '2026-12-01T25:00Z',
      '2026-12-01T06:02+25:00',
      'yesterday',
      'now',
      'Dec 1 2026',
      '',
      '-5',
      '12e3',
    ]) {
      expect(parseTime(bad, NOW), bad).toBeUndefined();
    }
    expect(parseTime('2028-02-29', NOW)).toBe(new Date(2028, 1, 29).getTime());
  });

  it('epoch seconds and milliseconds are told apart by magnitude (below 10^11: seconds)', () => {
    expect(parseTime('1764570120', NOW)).toBe(1_764_570_120_000);
    expect(parseTime('1764570120000', NOW)).toBe(1_764_570_120_000);
    expect(parseTime(String(EPOCH_MS_FROM - 1), NOW)).toBe((EPOCH_MS_FROM - 1) * 1000);
    expect(parseTime(String(EPOCH_MS_FROM), NOW)).toBe(EPOCH_MS_FROM);
    expect(parseTime('0', NOW)).toBe(0);
  });
});
