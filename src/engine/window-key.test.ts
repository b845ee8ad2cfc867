import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attemptKey, parseWindowKey, windowKey } from './window-key.js';

const T = (s: string) => Date.parse(s);
const name = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/);

describe('window keys', () => {
  it('are <pipeline>@<schedule>@<open instant in UTC ISO 8601>', () => {
    expect(windowKey('orders-daily', 'daily', T('2026-03-29T01:00:00Z'))).toBe(
      'orders-daily@daily@2026-03-29T01:00:00Z',
    );
    expect(attemptKey('orders-daily@daily@2026-03-29T01:00:00Z', 2)).toBe('orders-daily@daily@2026-03-29T01:00:00Z#2');
  });

  it('depend only on the names and the instant, and parse back (property)', () => {
    fc.assert(
      fc.property(name, name, fc.integer({ min: 0, max: 4_102_444_800_000 }), (p, s, t) => {
        const k = windowKey(p, s, t);
        expect(windowKey(p, s, t)).toBe(k);
        expect(parseWindowKey(k)).toEqual({ pipeline: p, schedule: s, openAt: t });
      }),
    );
  });

  it('two instants never share a key, even one millisecond apart', () => {
    const t = T('2026-10-25T00:00:00Z');
    expect(windowKey('p', 's', t)).not.toBe(windowKey('p', 's', t + 1));
    expect(windowKey('p', 's', t)).not.toBe(windowKey('p', 's', t + 3_600_000));
  });

  it('refuse anything windowKey would not write', () => {
    for (const bad of [
      'p@s',
      'p@s@2026-03-29T01:00:00Z@x',
      'P@s@2026-03-29T01:00:00Z',
      'p@@2026-03-29T01:00:00Z',
      'p@s@2026-03-29T01:00:00.000Z',
      'p@s@2026-03-29T03:00:00+02:00',
      'p@s@1774746000000',
      '',
    ]) {
      expect(parseWindowKey(bad), bad).toBeUndefined();
    }
    expect(() => windowKey('Bad Name', 's', 0)).toThrow(/pipeline/);
    expect(() => windowKey('p', 'a@b', 0)).toThrow(/schedule/);
    expect(() => windowKey('p', 's', Number.NaN)).toThrow(/finite/);
    expect(() => attemptKey('k', 0)).toThrow(/positive/);
  });
});
