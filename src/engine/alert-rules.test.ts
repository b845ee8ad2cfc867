import { describe, expect, it } from 'vitest';
import type { Readiness, RunState, TraitView } from '../core/types.js';
import { readinessAlert, readinessFingerprint, traitAlert, traitFingerprint, transitionAlert } from './alert-rules.js';

const T = 1_700_000_000_000;
const pass: TraitView = { trait: 'fresh', required: true, state: 'PASS' };
const fail: TraitView = {
  trait: 'rows',
  required: true,
  state: 'FAIL',
  result: {
    trait: 'rows',
    status: 'FAIL',
    reason: 'only 3 rows',
    reasonCode: 'THRESHOLD',
    value: { rows: 3 },
    evaluatedAt: T,
  } as unknown as TraitView['result'],
};
const stale: TraitView = { trait: 'old', required: false, state: 'STALE' };

function readiness(outcome: Readiness['outcome'], blocking: Readiness['blocking'] = []): Readiness {
  return {
    pipeline: 'p',
    outcome,
    rule: { type: 'all-required-pass' },
    traits: [],
    blocking,
    decidedAt: T,
    ...(outcome === 'NOT_READY' && blocking.length === 0 ? { note: 'no traits' } : {}),
  };
}
const b = (trait: string, reasonCode: string) =>
  ({ trait, state: 'FAIL', reasonCode, reason: '' }) as Readiness['blocking'][number];

describe('fingerprints', () => {
  it('a trait: PASS, or state:reasonCode (STALE without a result)', () => {
    expect(traitFingerprint(pass)).toBe('PASS');
    expect(traitFingerprint(fail)).toBe('FAIL:THRESHOLD');
    expect(traitFingerprint(stale)).toBe('STALE:STALE');
  });

  it('readiness: READY, or NOT_READY with its blockers sorted (order of evaluation never matters)', () => {
    expect(readinessFingerprint(readiness('READY'))).toBe('READY');
    const one = readinessFingerprint(readiness('NOT_READY', [b('z', 'TIMEOUT'), b('a', 'THRESHOLD')]));
    const two = readinessFingerprint(readiness('NOT_READY', [b('a', 'THRESHOLD'), b('z', 'TIMEOUT')]));
    expect(one).toBe('NOT_READY:a=THRESHOLD,z=TIMEOUT');
    expect(two).toBe(one);
    expect(readinessFingerprint(readiness('NOT_READY'))).toBe('NOT_READY:');
  });
});

describe('what changed', () => {
  it('TRAIT_FAILED only for a failure whose claim fired', () => {
    expect(traitAlert('p', fail, { fire: false })).toBeUndefined();
    expect(traitAlert('p', pass, { fire: true, previous: 'FAIL:THRESHOLD' })).toBeUndefined();
    expect(traitAlert('p', fail, { fire: true }, 'r1')).toEqual({
      kind: 'TRAIT_FAILED',
      pipeline: 'p',
      trait: 'rows',
      runId: 'r1',
      message: 'trait rows is FAIL: only 3 rows',
      details: { state: 'FAIL', reasonCode: 'THRESHOLD', value: { rows: 3 }, required: true },
    });
    expect(traitAlert('p', stale, { fire: true })?.message).toBe('trait old is STALE: no result');
    expect(traitAlert('p', stale, { fire: true })).not.toHaveProperty('runId');
  });

  it('PIPELINE_BLOCKED for a fired NOT_READY; PIPELINE_READY only for a recovery; nothing when not fired', () => {
    const blocked = readiness('NOT_READY', [b('rows', 'THRESHOLD')]);
    expect(readinessAlert(blocked, 'd1', { fire: false })).toBeUndefined();
    expect(readinessAlert(blocked, 'd1', { fire: true })).toEqual({
      kind: 'PIPELINE_BLOCKED',
      pipeline: 'p',
      message: 'p is NOT_READY: rows (THRESHOLD)',
      details: { blocking: blocked.blocking, decisionId: 'd1', note: undefined },
    });
    expect(readinessAlert(readiness('NOT_READY'), 'd1', { fire: true })?.message).toBe('p is NOT_READY: no traits');
    // The first READY ever (nothing before) and READY after READY (a repeat) say nothing.
    expect(readinessAlert(readiness('READY'), 'd2', { fire: true })).toBeUndefined();
    expect(readinessAlert(readiness('READY'), 'd2', { fire: true, previous: 'READY' })).toBeUndefined();
    expect(
      readinessAlert(readiness('READY'), 'd2', { fire: true, previous: 'NOT_READY:rows=THRESHOLD' }, 'r1'),
    ).toEqual({ kind: 'PIPELINE_READY', pipeline: 'p', runId: 'r1', message: 'p is READY again' });
  });
});

describe('transitionAlert', () => {
  const pending = {
    runId: 'r1',
    pipeline: 'p',
    status: 'PENDING',
    version: 1,
    createdAt: T,
    updatedAt: T,
    deadlineAt: T + 60_000,
  } as RunState;
  const moved = (patch: Partial<RunState>) => ({ ...pending, version: 2, ...patch }) as RunState;

  it('RUN_TIMED_OUT with the age since the trigger (or the start) at the move', () => {
    const triggering = moved({ status: 'TRIGGERING', triggeredAt: T + 1000 });
    const out = moved({ status: 'TIMED_OUT', version: 3, reason: 'past its deadline' });
    expect(transitionAlert(triggering, out, { reason: 'still TRIGGERING 60s' }, undefined, T + 61_000)).toEqual({
      kind: 'RUN_TIMED_OUT',
      pipeline: 'p',
      runId: 'r1',
      message: 'run r1 timed out: still TRIGGERING 60s',
      details: { previousStatus: 'TRIGGERING', ageSeconds: 60 },
    });
    expect(transitionAlert(pending, out, {}, undefined, T + 90_400)?.details).toEqual({
      previousStatus: 'PENDING',
      ageSeconds: 90,
    });
  });

  it('TRIGGER_FAILED when the move records a failed trigger outcome', () => {
    const trigger = { type: 'command', ok: false, async: false, durationMs: 5, error: 'exit code 1' } as const;
    const failed = moved({ status: 'FAILED' });
    expect(transitionAlert(pending, failed, { trigger }, undefined, T)).toEqual({
      kind: 'TRIGGER_FAILED',
      pipeline: 'p',
      runId: 'r1',
      message: 'trigger of p failed: exit code 1',
      details: { trigger },
    });
    expect(
      transitionAlert(pending, moved({ status: 'COMPLETED' }), { trigger: { ...trigger, ok: true } }, undefined, T),
    ).toBeUndefined();
  });

  it('TRIGGER_OUTCOME_UNKNOWN (not TRIGGER_FAILED) when the failed outcome is UNKNOWN, with the run key', () => {
    const trigger = {
      type: 'http',
      ok: false,
      async: false,
      durationMs: 5,
      error: 'request failed: socket hang up',
      requestSent: true,
      category: 'UNKNOWN',
    } as const;
    const failed = moved({ status: 'FAILED', outcome: 'UNKNOWN', runKey: 'p@d@2026-12-01T04:00:00.000Z#1' });
    expect(transitionAlert(pending, failed, { trigger, outcome: 'UNKNOWN' }, undefined, T)).toEqual({
      kind: 'TRIGGER_OUTCOME_UNKNOWN',
      pipeline: 'p',
      runId: 'r1',
      message:
        'trigger of p has an UNKNOWN outcome (the job may have started; not retried): request failed: socket hang up',
      details: { trigger, runKey: 'p@d@2026-12-01T04:00:00.000Z#1' },
    });
    // Another category is a plain failure.
    const transient = { ...trigger, requestSent: false, category: 'TRANSIENT' } as const;
    expect(transitionAlert(pending, moved({ status: 'FAILED' }), { trigger: transient }, undefined, T)?.kind).toBe(
      'TRIGGER_FAILED',
    );
  });

  it("names the run's schedule window (from its run key) so sinks can key on it; a manual run has none", () => {
    const trigger = { type: 'command', ok: false, async: false, durationMs: 5, error: 'exit code 1' } as const;
    const windowed = moved({ status: 'FAILED', runKey: 'p@daily@2026-12-01T04:00:00Z#2' });
    expect(transitionAlert(pending, windowed, { trigger }, undefined, T)?.window).toBe('p@daily@2026-12-01T04:00:00Z');
    const attempt = moved({ status: 'FAILED', window: { key: 'p@daily@2026-12-02T04:00:00Z', attempt: 1 } });
    expect(transitionAlert(pending, attempt, { trigger }, undefined, T)?.window).toBe('p@daily@2026-12-02T04:00:00Z');
    for (const runKey of [
      undefined,
      'my-own-key',
      'p@daily@not-a-time#1',
      'p@daily@2026-12-01T04:00:00Z',
      'p@d@2026-12-01T04:00:00.000Z#1',
    ]) {
      const plain = moved({ status: 'FAILED', ...(runKey ? { runKey } : {}) });
      expect(transitionAlert(pending, plain, { trigger }, undefined, T)?.window, String(runKey)).toBeUndefined();
    }
  });

  it('RUN_FAILED only for a completion callback that says failed', () => {
    const failed = moved({ status: 'FAILED' });
    expect(transitionAlert(pending, failed, { metadata: { x: 1 } }, 'completion-callback', T)).toEqual({
      kind: 'RUN_FAILED',
      pipeline: 'p',
      runId: 'r1',
      message: 'run r1 of p failed',
      details: { metadata: { x: 1 } },
    });
    // FAILED for another reason (evaluation failed, aborted) raises nothing; nor does a successful callback.
    expect(transitionAlert(pending, failed, { reason: 'evaluation failed' }, undefined, T)).toBeUndefined();
    expect(transitionAlert(pending, moved({ status: 'COMPLETED' }), {}, 'completion-callback', T)).toBeUndefined();
    expect(transitionAlert(pending, moved({ status: 'BLOCKED' }), {}, undefined, T)).toBeUndefined();
  });
});
