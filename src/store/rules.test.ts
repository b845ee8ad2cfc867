// The shared store rules on their own: alert sending, the CAS precondition, lock release, alert key strings.
import { describe, expect, it } from 'vitest';
import { newRun } from '../engine/run-state.js';
import { alertKeyId, casApplies, releasesLock, shouldSendAlert } from './rules.js';

const run = newRun({ runId: 'r', pipeline: 'p', source: 'test', now: 100, deadlineAt: 200 });

describe('store rules', () => {
  it('sends a new or changed fingerprint at once, an unchanged one only after repeatAfter', () => {
    expect(shouldSendAlert(undefined, 'A', 0, 1000)).toBe(true);
    expect(shouldSendAlert({ fingerprint: 'A', sentAt: 0 }, 'B', 1, 1000)).toBe(true);
    expect(shouldSendAlert({ fingerprint: 'A', sentAt: 0 }, 'A', 999, 1000)).toBe(false);
    expect(shouldSendAlert({ fingerprint: 'A', sentAt: 0 }, 'A', 1000, 1000)).toBe(true);
    expect(shouldSendAlert({ fingerprint: 'A', sentAt: 5 }, 'A', 5, 0)).toBe(true);
  });

  it('CAS applies only at the expected version, one step on, and (ifOverdue) from the deadline on', () => {
    const next = { ...run, version: 2 };
    expect(casApplies(run, next, 1, false, 0)).toBe(true);
    expect(casApplies(run, next, 2, false, 0)).toBe(false);
    expect(casApplies(run, { ...run, version: 3 }, 1, false, 0)).toBe(false);
    expect(casApplies(run, next, 1, true, 199)).toBe(false);
    expect(casApplies(run, next, 1, true, 200)).toBe(true);
  });

  it('a terminal run releases the lock unless it holds it for a live job', () => {
    expect(releasesLock({ ...run, status: 'RUNNING' })).toBe(false);
    expect(releasesLock({ ...run, status: 'COMPLETED' })).toBe(true);
    expect(releasesLock({ ...run, status: 'CANCELLED', lockHeldUntil: 300 })).toBe(false);
  });

  it('alert keys keep their stored string form, distinct per pipeline, kind and trait', () => {
    expect(alertKeyId({ pipeline: 'p', kind: 'readiness' })).toBe('p\u0000readiness');
    expect(alertKeyId({ pipeline: 'p', kind: 'trait', trait: 't' })).toBe('p\u0000trait\u0000t');
    expect(alertKeyId({ pipeline: 'p', kind: 'trait', trait: 'readiness' })).not.toBe(
      alertKeyId({ pipeline: 'p', kind: 'readiness' }),
    );
  });
});
