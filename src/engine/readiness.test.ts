import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReadinessRule, ResolvedTrait, TraitResult } from '../core/types.js';
import { decideReadiness } from './readiness.js';
import { traitState } from './trait-state.js';

const NOW = 1_700_000_000_000;
const trait = (type: string, required = true): ResolvedTrait => ({ type, required, config: {}, timeoutSeconds: 30 });
const res = (trait: string, extra: Partial<TraitResult> = {}): TraitResult => ({
  pipeline: 'p',
  trait,
  status: 'PASS',
  durationMs: 1,
  evaluatedAt: NOW - 1000,
  ...extra,
});
const ALL: ReadinessRule = { type: 'all-required-pass' };

describe('all-required-pass', () => {
  it('READY when every required trait passes', () => {
    const r = decideReadiness('p', [trait('a'), trait('b')], [res('a'), res('b')], ALL, NOW);
    expect(r.outcome).toBe('READY');
    expect(r.blocking).toEqual([]);
  });

  it('NOT_READY names each blocking trait and why', () => {
    const r = decideReadiness(
      'p',
      [trait('a'), trait('b'), trait('c')],
      [res('a', { status: 'FAIL', reasonCode: 'EVALUATOR_TIMEOUT', reason: 'timed out after 1s' }), res('b')],
      ALL,
      NOW,
    );
    expect(r.outcome).toBe('NOT_READY');
    expect(r.blocking).toEqual([
      { trait: 'a', state: 'FAIL', reasonCode: 'EVALUATOR_TIMEOUT', reason: 'timed out after 1s' },
      { trait: 'c', state: 'STALE', reasonCode: 'STALE', reason: 'no result yet; evaluate first' },
    ]);
  });

  it('an optional trait failing does not block', () => {
    const r = decideReadiness('p', [trait('a'), trait('o', false)], [res('a'), res('o', { status: 'FAIL' })], ALL, NOW);
    expect(r.outcome).toBe('READY');
    expect(r.traits.find((t) => t.trait === 'o')?.state).toBe('FAIL');
  });

  it('TTL boundary: valid strictly before expiresAt, STALE at and after', () => {
    const t = [trait('a')];
    expect(decideReadiness('p', t, [res('a', { expiresAt: NOW + 1 })], ALL, NOW).outcome).toBe('READY');
    const at = decideReadiness('p', t, [res('a', { expiresAt: NOW })], ALL, NOW);
    expect(at.outcome).toBe('NOT_READY');
    expect(at.blocking[0]).toMatchObject({
      state: 'STALE',
      reason: `result expired (TTL passed) at ${new Date(NOW).toISOString()}; evaluate again`,
    });
    expect(decideReadiness('p', t, [res('a', { expiresAt: NOW - 1 })], ALL, NOW).outcome).toBe('NOT_READY');
  });

  it('a cached result expires at the earlier of its stored expiresAt and evaluatedAt + the ttl configured now', () => {
    const withTtl = (ttlSeconds?: number): ResolvedTrait[] => [{ ...trait('a'), ttlSeconds }];
    // Evaluated with no ttl (no expiresAt stored), then the config says ttl: 1 → STALE 1 s after evaluatedAt.
    const cached = res('a', { evaluatedAt: NOW - 3_600_000 });
    expect(decideReadiness('p', withTtl(undefined), [cached], ALL, NOW).outcome).toBe('READY');
    const later = decideReadiness('p', withTtl(1), [cached], ALL, NOW);
    expect(later.outcome).toBe('NOT_READY');
    expect(later.blocking[0]).toMatchObject({
      state: 'STALE',
      reason: `result expired (TTL passed) at ${new Date(NOW - 3_600_000 + 1000).toISOString()}; evaluate again`,
    });
    expect(later.traits[0].ttlLeftMs).toBe(0);
    // Just inside the configured ttl it still counts, and ttlLeftMs follows the configured ttl.
    const fresh = res('a', { evaluatedAt: NOW - 400 });
    const r = decideReadiness('p', withTtl(1), [fresh], ALL, NOW);
    expect(r.outcome).toBe('READY');
    expect(r.traits[0].ttlLeftMs).toBe(600);
    // A longer ttl configured now never extends the stored expiry.
    expect(decideReadiness('p', withTtl(3600), [res('a', { expiresAt: NOW })], ALL, NOW).outcome).toBe('NOT_READY');
    // An evaluatedAt that is not a time cannot prove the result's age under a ttl: STALE, never PASS.
    expect(traitState(res('a', { evaluatedAt: Number.NaN }), NOW, 60)).toBe('STALE');
  });

  it('a result a store marks expired (a Redis tombstone) is STALE whatever the clock says', () => {
    const tomb = res('a', { expiresAt: NOW + 60_000, expired: true });
    expect(traitState(tomb, NOW)).toBe('STALE');
    expect(decideReadiness('p', [trait('a')], [tomb], ALL, NOW).outcome).toBe('NOT_READY');
  });

  it('reports ttl left', () => {
    const r = decideReadiness('p', [trait('a')], [res('a', { expiresAt: NOW + 5000 })], ALL, NOW);
    expect(r.traits[0].ttlLeftMs).toBe(5000);
  });

  it('no traits, or no required traits, is NOT_READY', () => {
    expect(decideReadiness('p', [], [], ALL, NOW).outcome).toBe('NOT_READY');
    expect(decideReadiness('p', [trait('o', false)], [res('o')], ALL, NOW).outcome).toBe('NOT_READY');
  });

  it("ignores another pipeline's results", () => {
    expect(decideReadiness('p', [trait('a')], [res('a', { pipeline: 'q' })], ALL, NOW).outcome).toBe('NOT_READY');
  });
});

describe('majority-pass', () => {
  const three = [trait('a'), trait('b'), trait('c')];
  it('more than half by default', () => {
    expect(decideReadiness('p', three, [res('a'), res('b')], { type: 'majority-pass' }, NOW).outcome).toBe('READY');
    const r = decideReadiness('p', three, [res('a')], { type: 'majority-pass' }, NOW);
    expect(r.outcome).toBe('NOT_READY');
    expect(r.note).toContain('1 of 3');
    expect(decideReadiness('p', [trait('a'), trait('b')], [res('a')], { type: 'majority-pass' }, NOW).outcome).toBe(
      'NOT_READY',
    );
  });
  it('threshold', () => {
    const rule = { type: 'majority-pass' as const, threshold: 1 };
    expect(decideReadiness('p', three, [res('a'), res('b')], rule, NOW).outcome).toBe('NOT_READY');
    expect(decideReadiness('p', three, [res('a'), res('b'), res('c')], rule, NOW).outcome).toBe('READY');
    expect(decideReadiness('p', three, [res('a')], { type: 'majority-pass', threshold: 0.3 }, NOW).outcome).toBe(
      'READY',
    );
  });
  it('an invalid threshold never passes', () => {
    for (const threshold of [0, -1, 2, Number.NaN]) {
      expect(
        decideReadiness('p', three, [res('a'), res('b'), res('c')], { type: 'majority-pass', threshold }, NOW).outcome,
      ).toBe('NOT_READY');
    }
  });
});

it('an unknown rule is NOT_READY', () => {
  const r = decideReadiness('p', [trait('a')], [res('a')], { type: 'any-pass' } as unknown as ReadinessRule, NOW);
  expect(r.outcome).toBe('NOT_READY');
});

it('only an exact PASS passes', () => {
  for (const status of ['pass', 'PASSED', 'OK', '', 'FAIL', null, undefined, 1, true]) {
    expect(traitState(res('a', { status: status as never }), NOW)).not.toBe('PASS');
  }
});

describe('fail closed (property)', () => {
  const statusArb = fc.oneof(
    fc.constant('PASS'),
    fc.constant('FAIL'),
    fc.constant('pass'),
    fc.constant(undefined),
    fc.string(),
    fc.integer(),
  );
  const resultArb = fc.record({
    trait: fc.constantFrom('a', 'b', 'c', 'd', 'x'),
    status: statusArb,
    expiresAt: fc.option(fc.integer({ min: NOW - 10_000, max: NOW + 10_000 }), { nil: undefined }),
    pipeline: fc.constantFrom('p', 'p', 'p', 'q'),
  });
  const traitsArb = fc.uniqueArray(fc.record({ type: fc.constantFrom('a', 'b', 'c', 'd'), required: fc.boolean() }), {
    selector: (t) => t.type,
    maxLength: 4,
  });
  const ruleArb = fc.oneof(
    fc.constant<ReadinessRule>({ type: 'all-required-pass' }),
    fc.record({
      type: fc.constant('majority-pass' as const),
      threshold: fc.option(fc.double({ noNaN: false }), { nil: undefined }),
    }),
    fc.record({ type: fc.string() }) as fc.Arbitrary<ReadinessRule>,
  );

  it('READY implies the rule is met by exact, unexpired PASS results of this pipeline', () => {
    fc.assert(
      fc.property(traitsArb, fc.array(resultArb, { maxLength: 10 }), ruleArb, (ts, rs, rule) => {
        const traits = ts.map((t) => trait(t.type, t.required));
        const results = rs.map((r) =>
          res(r.trait, { status: r.status as never, expiresAt: r.expiresAt, pipeline: r.pipeline }),
        );
        const out = decideReadiness('p', traits, results, rule, NOW);
        if (out.outcome !== 'READY') {
          // Every NOT_READY explains itself.
          expect(out.blocking.length > 0 || (out.note ?? '').length > 0).toBe(true);
          return;
        }
        // Last result per trait of pipeline p wins.
        const latest = new Map<string, TraitResult>();
        for (const r of results) if (r.pipeline === 'p') latest.set(r.trait, r);
        const passes = (t: ResolvedTrait) => {
          const r = latest.get(t.type);
          return !!r && r.status === 'PASS' && (r.expiresAt === undefined || NOW < r.expiresAt);
        };
        expect(traits.length).toBeGreaterThan(0);
        if (rule.type === 'all-required-pass') {
          const req = traits.filter((t) => t.required);
          expect(req.length).toBeGreaterThan(0);
          expect(req.every(passes)).toBe(true);
        } else {
          expect(rule.type).toBe('majority-pass');
          const n = traits.filter(passes).length;
          const th = rule.threshold;
          if (th === undefined) expect(n * 2).toBeGreaterThan(traits.length);
          else {
            expect(th > 0 && th <= 1).toBe(true);
            expect(n).toBeGreaterThanOrEqual(th * traits.length);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
