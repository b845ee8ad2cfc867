// The drift monitor's pure rules at their boundaries: the monitoring span (exactly at its end, 1 ms before), only the
// newest COMPLETED live window, expired results re-checked at once then under backoff, episodes, capped reruns, and
// the next wake-up (the ttl configured now bounds a result's expiry, as readiness counts it).
import { describe, expect, it } from 'vitest';
import type { ResolvedTrait, TraitResult } from '../core/types.js';
import { type DriftInput, driftAlert, driftDecision, monitorEnd, monitoredTraits, whatDrifts } from './drift.js';
import type { MonitorSpec } from './sla.js';
import type { WindowDrift, WindowRecord } from './window.js';

const T0 = Date.parse('2026-06-01T06:00:00Z'); // the window COMPLETED here
const MIN = 60_000;
const HOUR = 60 * MIN;
const MON: MonitorSpec = { durationMs: 2 * HOUR, onDrift: 'rerun', maxReruns: 2 };

const trait = (type: string, over: Partial<ResolvedTrait> = {}): ResolvedTrait => ({
  type,
  required: true,
  config: {},
  timeoutSeconds: 30,
  ...over,
});
const result = (t: string, status: 'PASS' | 'FAIL', evaluatedAt: number, expiresAt?: number): TraitResult => ({
  pipeline: 'p',
  trait: t,
  status,
  durationMs: 1,
  evaluatedAt,
  ...(status === 'FAIL' ? { reasonCode: 'EVALUATOR_FAIL' as const, reason: 'marker missing' } : {}),
  ...(expiresAt !== undefined ? { expiresAt } : {}),
});

function win(over: Partial<WindowRecord> = {}, drift?: WindowDrift): WindowRecord {
  const openAt = T0 - HOUR;
  return {
    key: `p@daily@${new Date(openAt).toISOString()}`,
    pipeline: 'p',
    schedule: 'daily',
    openAt,
    afterAt: openAt,
    deadlineAt: openAt + 3 * HOUR,
    date: '2026-06-01',
    mode: 'live',
    state: 'COMPLETED',
    version: 3,
    createdAt: openAt,
    updatedAt: T0,
    attempts: [{ attempt: 1, runId: 'r1', runKey: 'k#1', claimedAt: openAt + MIN }],
    unchanged: 0,
    terminal: { at: T0, reason: 'run r1 COMPLETED', detail: { state: 'COMPLETED', attempt: 1, runId: 'r1' } },
    ...(drift ? { drift } : {}),
    ...over,
  } as WindowRecord;
}

const TRAITS = [trait('a'), trait('b'), trait('opt', { required: false })];
const input = (over: Partial<DriftInput>): DriftInput => ({
  pipeline: 'p',
  monitor: MON,
  traits: TRAITS,
  results: [result('a', 'PASS', T0, T0 + 10 * MIN), result('b', 'PASS', T0, T0 + 30 * MIN)],
  records: [win()],
  reevaluateMs: MIN,
  now: T0 + MIN,
  ...over,
});

describe('monitoredTraits', () => {
  it("the monitor's list (counted as required), else every required trait", () => {
    expect(monitoredTraits(TRAITS, MON).map((t) => t.type)).toEqual(['a', 'b']);
    const listed = monitoredTraits(TRAITS, { ...MON, traits: ['opt', 'nope'] });
    expect(listed.map((t) => [t.type, t.required])).toEqual([['opt', true]]);
  });
});

describe('monitorEnd', () => {
  it('only a COMPLETED live window with a terminal instant is monitored', () => {
    expect(monitorEnd(win(), MON)).toBe(T0 + 2 * HOUR);
    expect(monitorEnd(win({ mode: 'shadow' }), MON)).toBeUndefined();
    expect(monitorEnd(win({ state: 'FAILED' }), MON)).toBeUndefined();
    expect(monitorEnd(win({ terminal: undefined }), MON)).toBeUndefined();
  });
});

describe('driftDecision', () => {
  it('decides over the monitored traits only', () => {
    const d = driftDecision('p', TRAITS, [result('a', 'PASS', T0), result('b', 'FAIL', T0)], MON, T0 + MIN);
    expect(d.outcome).toBe('NOT_READY');
    expect(d.blocking.map((b) => b.trait)).toEqual(['b']);
    expect(d.decidedAt).toBe(T0 + MIN);
    const ok = driftDecision('p', TRAITS, [result('b', 'PASS', T0)], { ...MON, traits: ['b'] }, T0 + MIN);
    expect(ok.outcome).toBe('READY');
  });
});

describe('whatDrifts', () => {
  it('holding evidence: nothing to do, wake at the first expiry', () => {
    expect(whatDrifts(input({}))).toEqual({ actions: [], nextAt: T0 + 10 * MIN });
  });

  it('monitored until 1 ms before the end; exactly at the end nothing, and no wake-up', () => {
    const results = [result('a', 'PASS', T0), result('b', 'PASS', T0)];
    expect(whatDrifts(input({ results, now: T0 + 2 * HOUR - 1 }))).toEqual({ actions: [], nextAt: T0 + 2 * HOUR });
    expect(whatDrifts(input({ results: [], now: T0 + 2 * HOUR }))).toEqual({ actions: [] });
  });

  it('not monitored: not COMPLETED, shadow, or an older window of the schedule', () => {
    expect(whatDrifts(input({ results: [], records: [win({ state: 'FAILED' })] }))).toEqual({ actions: [] });
    expect(whatDrifts(input({ results: [], records: [win({ mode: 'shadow' })] }))).toEqual({ actions: [] });
    // A newer window of the same schedule (still OPEN) replaces the COMPLETED one.
    const newer = win({ key: 'newer', openAt: T0, state: 'OPEN', terminal: undefined });
    expect(whatDrifts(input({ results: [], records: [win(), newer] }))).toEqual({ actions: [] });
  });

  it('a result expired exactly now is re-checked at once; 1 ms before it still holds', () => {
    expect(whatDrifts(input({ now: T0 + 10 * MIN - 1 })).actions).toEqual([]);
    expect(whatDrifts(input({ now: T0 + 10 * MIN })).actions).toEqual([
      { kind: 'drift-check', key: win().key, traits: ['a'] },
    ]);
  });

  it('an expired result already checked after it expired waits for reevaluate (exactly then: due)', () => {
    const checked = win({}, { reruns: 0, lastCheckAt: T0 + 11 * MIN });
    const at = (now: number) => whatDrifts(input({ records: [checked], now }));
    expect(at(T0 + 12 * MIN - 1)).toEqual({ actions: [], nextAt: T0 + 12 * MIN });
    expect(at(T0 + 12 * MIN).actions).toEqual([{ kind: 'drift-check', key: checked.key, traits: ['a'] }]);
  });

  it('a missing monitored result on the first look is re-checked at once (with the failing ones)', () => {
    const results = [result('b', 'FAIL', T0)];
    expect(whatDrifts(input({ results })).actions).toEqual([
      { kind: 'drift-check', key: win().key, traits: ['a', 'b'] },
    ]);
  });

  it('NOT_READY outside an episode starts one; READY inside one ends it (decided from the stored results)', () => {
    const results = [result('a', 'PASS', T0), result('b', 'FAIL', T0)];
    expect(whatDrifts(input({ results })).actions).toEqual([{ kind: 'drift-check', key: win().key, traits: [] }]);
    const inEpisode = win({}, { reruns: 0, lastCheckAt: T0, episode: { since: T0, blocking: [] } });
    const ok = [result('a', 'PASS', T0), result('b', 'PASS', T0)];
    expect(whatDrifts(input({ results: ok, records: [inEpisode] })).actions).toEqual([
      { kind: 'drift-check', key: inEpisode.key, traits: [] },
    ]);
  });

  it('drifted: the failing traits are looked at again after reevaluate, not 1 ms before', () => {
    const w = win({}, { reruns: 0, lastCheckAt: T0, episode: { since: T0, blocking: [] } });
    const results = [result('a', 'PASS', T0), result('b', 'FAIL', T0)];
    expect(whatDrifts(input({ results, records: [w], now: T0 + MIN - 1 }))).toEqual({ actions: [], nextAt: T0 + MIN });
    expect(whatDrifts(input({ results, records: [w], now: T0 + MIN })).actions).toEqual([
      { kind: 'drift-check', key: w.key, traits: ['b'] },
    ]);
  });

  it('a wanted rerun fires as rerun n+1 once READY, at most maxReruns; a refused one waits for reevaluate', () => {
    const results = [result('a', 'PASS', T0), result('b', 'PASS', T0)];
    const wanted = (d: Partial<WindowDrift>) => win({}, { reruns: 0, lastCheckAt: T0, rerunWanted: true, ...d });
    expect(whatDrifts(input({ results, records: [wanted({})] })).actions).toEqual([
      { kind: 'rerun', key: win().key, rerun: 1 },
    ]);
    expect(whatDrifts(input({ results, records: [wanted({ reruns: 1 })] })).actions).toEqual([
      { kind: 'rerun', key: win().key, rerun: 2 },
    ]);
    // The cap: maxReruns used, no more.
    expect(whatDrifts(input({ results, records: [wanted({ reruns: 2 })] })).actions).toEqual([]);
    // Refused at T0 + 30 s: again only from T0 + 90 s.
    const tried = wanted({ rerunTriedAt: T0 + 30_000 });
    expect(whatDrifts(input({ results, records: [tried], now: T0 + 90_000 - 1 }))).toEqual({
      actions: [],
      nextAt: T0 + 90_000,
    });
    expect(whatDrifts(input({ results, records: [tried], now: T0 + 90_000 })).actions).toEqual([
      { kind: 'rerun', key: win().key, rerun: 1 },
    ]);
  });

  it('a ttl configured shorter than the stored expiry bounds the wake-up and the expiry', () => {
    const traits = [trait('a', { ttlSeconds: 60 })];
    const results = [result('a', 'PASS', T0, T0 + HOUR)];
    expect(whatDrifts(input({ traits, results, now: T0 + 30_000 }))).toEqual({ actions: [], nextAt: T0 + MIN });
    // Checked after it expired by its ttl: not re-checked on every look (the backoff applies).
    const checked = win({}, { reruns: 0, lastCheckAt: T0 + 2 * MIN });
    expect(whatDrifts(input({ traits, results, records: [checked], now: T0 + 2 * MIN + 1 }))).toEqual({
      actions: [],
      nextAt: T0 + 3 * MIN,
    });
  });
});

describe('driftAlert', () => {
  const d = driftDecision('p', TRAITS, [result('a', 'PASS', T0), result('b', 'FAIL', T0)], MON, T0 + MIN);
  it('names the blocking traits and what happens next (rerun n of max, cap used, alert only)', () => {
    const a = driftAlert('p', win(), d, MON);
    expect(a).toMatchObject({
      kind: 'DRIFT_DETECTED',
      pipeline: 'p',
      window: win().key,
      details: { completedAt: T0, onDrift: 'rerun', reruns: 0 },
    });
    expect(a.message).toBe(
      `window ${win().key} COMPLETED at 06:00 but its evidence drifted: b FAIL: marker missing (rerun 1 of 2 fires once the evidence holds again)`,
    );
    expect(driftAlert('p', win({}, { reruns: 2 }), d, MON).message).toMatch(/\(no rerun: 2 rerun\(s\) used\)$/);
    expect(driftAlert('p', win(), d, { ...MON, onDrift: 'alert' }).message).toMatch(/\(alert only\)$/);
  });
});
