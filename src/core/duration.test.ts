// parseDuration: seconds as numbers, unit strings, and everything else refused.
import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('takes numbers as seconds, as config always has', () => {
    expect(parseDuration(90)).toBe(90);
    expect(parseDuration(0.5)).toBe(0.5);
    expect(parseDuration(0)).toBe(0);
  });

  it('reads 90s, 15m, 2h, 1d and compounds largest unit first', () => {
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('2h')).toBe(7200);
    expect(parseDuration('1d')).toBe(86_400);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('1d2h3m4s')).toBe(93_784);
    expect(parseDuration('0s')).toBe(0);
  });

  it('refuses everything else', () => {
    for (const bad of ['', '90', '1.5h', '15 m', '15M', '30m1h', '1h1h', 'h', '5ms', '1w', ' 5s', '-5s', 'soon']) {
      expect(parseDuration(bad), bad).toBeUndefined();
      expect(DURATION_PATTERN.test(bad), bad).toBe(false);
    }
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, true, null, undefined, {}, ['5s']]) {
      expect(parseDuration(bad), String(bad)).toBeUndefined();
    }
  });
});
