// Key layout: the encoding keeps names injective and inside their braces; alert keys share the pipeline's tag.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePart, KeyLayout, keyPipeline, WATCH_TAG } from './keys.js';

/** The inverse of encodePart: if it round-trips every string, the encoding is injective. */
function decodePart(s: string): string {
  if (s === '%') return '';
  return s.replace(/%([0-9a-f]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

describe('redis key layout', () => {
  it('encodePart is injective, and never yields braces, colons or an empty tag (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (name) => {
        const e = encodePart(name);
        expect(decodePart(e)).toBe(name);
        expect(e).not.toMatch(/[{}:\s]/);
        expect(e.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps plain pipeline names readable', () => {
    expect(encodePart('daily-sales.v2_x')).toBe('daily-sales.v2_x');
    expect(new KeyLayout('interlock:').pipeline('daily-sales').readiness).toBe('interlock:{daily-sales}:readiness');
  });

  it('names that look alike get different hash tags', () => {
    const k = new KeyLayout('p:');
    const tags = ['a', 'a:b', 'a}x', 'a{b}', '{a}', 'a%003a', '', '%'].map((n) => k.pipeline(n).tag);
    expect(new Set(tags).size).toBe(tags.length);
    for (const t of tags) expect(t).toMatch(/^\{[^{}]+\}$/);
  });

  it("alert keys live in their pipeline's hash tag, and stay distinct", () => {
    const k = new KeyLayout('p:');
    const a = k.alert({ pipeline: 'a:b', kind: 'trait', trait: 'x' });
    expect(a.startsWith(`p:${k.pipeline('a:b').tag}:alert:`)).toBe(true);
    expect(k.alert({ pipeline: 'a', kind: 'trait', trait: 'b' })).not.toBe(
      k.alert({ pipeline: 'a', kind: 'trait', trait: 'b\u0000' }),
    );
    expect(k.alert({ pipeline: 'a', kind: 'trait', trait: 'readiness' })).not.toBe(
      k.alert({ pipeline: 'a', kind: 'readiness' }),
    );
    expect(k.alert({ pipeline: 'solo', kind: 'readiness' })).toContain(k.pipeline('solo').tag);
  });

  it("no pipeline's tag is the watcher's, and every watcher key carries it (property)", () => {
    const k = new KeyLayout('p:');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (name) => {
        expect(k.pipeline(name).tag).not.toBe(WATCH_TAG);
        for (const key of [k.watch.windows(name), k.watch.live(name), k.watch.newest(name), k.watch.lease(name)]) {
          expect(key.startsWith(`p:${WATCH_TAG}:`)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
    expect(k.watch.windows('a:b')).not.toBe(k.watch.windows('a%003ab'));
  });

  it('a run key or window key names its pipeline before the first @', () => {
    expect(keyPipeline('daily-sales@daily@2026-01-01T05:00:00.000Z#2')).toBe('daily-sales');
    expect(keyPipeline('p@x@y')).toBe('p');
    expect(keyPipeline('no-at#1')).toBeUndefined();
    expect(keyPipeline('@daily@x')).toBeUndefined();
  });

  it('refuses a key prefix with braces (it would change every hash tag)', () => {
    expect(() => new KeyLayout('x{y}:')).toThrow(/must not contain/);
  });
});
