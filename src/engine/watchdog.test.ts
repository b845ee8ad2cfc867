// The watchdog's pure rules at their boundaries: stuck and overdue exactly at the instant and 1 ms before, terminal
// runs, runs without an expected duration, what a run waits for, and the TRAIT_STALE instants (TTL configured now).
import { describe, expect, it } from 'vitest';
import type { ResolvedTrait, RunState, TraitResult } from '../core/types.js';
import {
  runStartedAt,
  runWaitNote,
  runWaitsFor,
  shortDuration,
  staleAlert,
  staleInstants,
  stuckAlert,
  watchRun,
} from './watchdog.js';

const T0 = Date.parse('2026-06-01T06:00:00Z');
const MIN = 60_000;

function run(over: Partial<RunState> = {}): RunState {
  return {
    runId: 'r1',
    pipeline: 'p',
    status: 'RUNNING',
    version: 1,
    createdAt: T0 - MIN,
    updatedAt: T0,
    triggeredAt: T0,
    source: 'manual',
    deadlineAt: T0 + 60 * MIN,
    ...over,
  } as RunState;
}
const trait = (type: string, over: Partial<ResolvedTrait> = {}): ResolvedTrait => ({
  type,
  required: true,
  config: {},
  timeoutSeconds: 30,
  ...over,
});
const pass = (t: string, evaluatedAt: number, expiresAt?: number, over: Partial<TraitResult> = {}): TraitResult => ({
  pipeline: 'p',
  trait: t,
  status: 'PASS',
  durationMs: 1,
  evaluatedAt,
  ...(expiresAt !== undefined ? { expiresAt } : {}),
  ...over,
});

describe('runStartedAt', () => {
  it('is the trigger instant, else the creation', () => {
    expect(runStartedAt(run())).toBe(T0);
    expect(runStartedAt(run({ triggeredAt: undefined }))).toBe(T0 - MIN);
  });
});

describe('watchRun', () => {
  const EXP = 10 * MIN;
  it('stuck exactly at start + expectedDuration, not 1 ms before; next instant is the stuck one, then the deadline', () => {
    expect(watchRun(run(), EXP, T0 + EXP - 1)).toEqual({
      overdue: false,
      stuck: false,
      stuckAt: T0 + EXP,
      nextAt: T0 + EXP,
    });
    expect(watchRun(run(), EXP, T0 + EXP)).toEqual({
      overdue: false,
      stuck: true,
      stuckAt: T0 + EXP,
      nextAt: T0 + 60 * MIN,
    });
  });
  it('overdue exactly at deadlineAt (not 1 ms before); an overdue run is not also stuck and has no next instant', () => {
    expect(watchRun(run(), EXP, T0 + 60 * MIN - 1)).toMatchObject({
      overdue: false,
      stuck: true,
      nextAt: T0 + 60 * MIN,
    });
    const at = watchRun(run(), EXP, T0 + 60 * MIN);
    expect(at).toEqual({ overdue: true, stuck: false, stuckAt: T0 + EXP });
    expect(at.nextAt).toBeUndefined();
  });
  it('counts from the creation when the run was never triggered (TRIGGERING)', () => {
    const r = run({ status: 'TRIGGERING', triggeredAt: undefined });
    expect(watchRun(r, EXP, T0 - MIN + EXP).stuck).toBe(true);
    expect(watchRun(r, EXP, T0 - MIN + EXP - 1).stuck).toBe(false);
  });
  it('a PENDING run is never stuck, only overdue; without (or with a zero) expected duration: no stuck instant', () => {
    expect(watchRun(run({ status: 'PENDING' }), EXP, T0 + 30 * MIN)).toEqual({
      overdue: false,
      stuck: false,
      nextAt: T0 + 60 * MIN,
    });
    expect(watchRun(run(), undefined, T0 + 59 * MIN)).toEqual({ overdue: false, stuck: false, nextAt: T0 + 60 * MIN });
    expect(watchRun(run(), 0, T0 + 59 * MIN)).toEqual({ overdue: false, stuck: false, nextAt: T0 + 60 * MIN });
  });
  it('a terminal run is neither stuck nor overdue, whatever the clock says', () => {
    for (const status of ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'BLOCKED'] as const) {
      expect(watchRun(run({ status }), EXP, T0 + 120 * MIN)).toEqual({ overdue: false, stuck: false });
    }
  });
});

describe('runWaitsFor / runWaitNote', () => {
  const job = { pgid: 1, host: 'h' } as unknown as RunState['job'];
  it('names what an active run waits for; nothing for an ended run', () => {
    expect(runWaitsFor(run({ status: 'PENDING' }))).toBe('start');
    expect(runWaitsFor(run({ status: 'TRIGGERING' }))).toBe('trigger');
    expect(runWaitsFor(run({ status: 'RUNNING', triggerType: 'command', job }))).toBe('command');
    expect(runWaitsFor(run({ status: 'RUNNING', platform: {} as RunState['platform'] }))).toBe('platform');
    expect(runWaitsFor(run({ status: 'RUNNING' }))).toBe('callback');
    expect(runWaitsFor(run({ status: 'COMPLETED' }))).toBeUndefined();
  });
  it('one line with age and timeout (in the timezone); past the deadline says so', () => {
    expect(runWaitNote(run(), T0 + 42 * MIN)).toBe(
      'RUNNING 42m, waiting for a callback (none received), times out at 07:00',
    );
    expect(runWaitNote(run(), T0 + 42 * MIN, 'Europe/Berlin')).toMatch(/times out at 09:00$/);
    expect(runWaitNote(run(), T0 + 60 * MIN)).toMatch(/1h00m, .*past its deadline$/);
    expect(runWaitNote(run(), T0 + 60 * MIN - 1)).toMatch(/times out at 07:00$/);
    expect(runWaitNote(run({ status: 'FAILED' }), T0)).toBeUndefined();
  });
});

describe('shortDuration', () => {
  it('seconds, minutes, hours with padded minutes; never negative', () => {
    expect([0, 999, 59_999, 60_000, 3_599_999, 3_600_000, 3_900_000, -5000].map(shortDuration)).toEqual([
      '0s',
      '0s',
      '59s',
      '1m',
      '59m',
      '1h00m',
      '1h05m',
      '0s',
    ]);
  });
});

describe('stuckAlert', () => {
  it('RUN_STUCK with the wait note, expected duration and the window', () => {
    const a = stuckAlert(run({ window: { key: 'p@daily@x', attempt: 1 } }), 10 * MIN, T0 + 12 * MIN);
    expect(a).toMatchObject({
      kind: 'RUN_STUCK',
      pipeline: 'p',
      runId: 'r1',
      window: 'p@daily@x',
      message:
        'run r1 of p is stuck: RUNNING 12m, waiting for a callback (none received), times out at 07:00 (expected within 10m)',
      details: {
        status: 'RUNNING',
        startedAt: T0,
        expectedDurationMs: 10 * MIN,
        deadlineAt: T0 + 60 * MIN,
        waitingFor: 'callback',
      },
    });
    expect(stuckAlert(run(), MIN, T0).window).toBeUndefined();
  });
});

describe('staleInstants', () => {
  it('due exactly at expiresAt, next 1 ms before; only required PASS results with an expiry count', () => {
    const traits = [trait('a'), trait('b'), trait('opt', { required: false }), trait('f'), trait('none')];
    const results = [
      pass('a', T0, T0 + MIN),
      pass('b', T0, T0 + 5 * MIN),
      pass('opt', T0, T0 + 30_000),
      pass('f', T0, T0 + 30_000, { status: 'FAIL' }),
      pass('none', T0),
    ];
    expect(staleInstants(traits, results, T0 + MIN - 1)).toEqual({ due: [], next: T0 + MIN });
    expect(staleInstants(traits, results, T0 + MIN)).toEqual({
      due: [{ trait: 'a', at: T0 + MIN, evaluatedAt: T0 }],
      next: T0 + 5 * MIN,
    });
    expect(staleInstants(traits, results, T0 + 5 * MIN).next).toBeUndefined();
    expect(staleInstants(traits, [], T0)).toEqual({ due: [] });
  });
  it('a ttl configured shorter than the stored expiry bounds the instant (as readiness does)', () => {
    const traits = [trait('a', { ttlSeconds: 60 })];
    const results = [pass('a', T0, T0 + 60 * MIN)];
    expect(staleInstants(traits, results, T0)).toEqual({ due: [], next: T0 + MIN });
    expect(staleInstants(traits, results, T0 + MIN).due).toEqual([{ trait: 'a', at: T0 + MIN, evaluatedAt: T0 }]);
    // A ttl alone (no stored expiry) makes an instant too.
    expect(staleInstants(traits, [pass('a', T0)], T0)).toEqual({ due: [], next: T0 + MIN });
  });
});

describe('staleAlert', () => {
  it('TRAIT_STALE naming the trait, the window and both instants', () => {
    const a = staleAlert('p', 'p@daily@x', { trait: 'a', at: T0 + MIN, evaluatedAt: T0 });
    expect(a).toEqual({
      kind: 'TRAIT_STALE',
      pipeline: 'p',
      window: 'p@daily@x',
      trait: 'a',
      message: 'trait a of p went STALE at 06:01: its PASS (evaluated 06:00) expired while window p@daily@x is open',
      details: { expiredAt: T0 + MIN, evaluatedAt: T0 },
    });
  });
});
