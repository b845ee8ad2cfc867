import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClassifiableOutcome,
  DEFAULT_RETRY,
  decideRetry,
  failureCategory,
  REEVALUATE_MAX_FACTOR,
  type RetryPolicy,
  reevaluateDelay,
  retryDelay,
} from './retry.js';

const cmd = (o: Partial<ClassifiableOutcome>): ClassifiableOutcome => ({ type: 'command', ok: false, ...o });
const http = (o: Partial<ClassifiableOutcome>): ClassifiableOutcome => ({ type: 'http', ok: false, ...o });

describe('failure categories', () => {
  it.each([
    ['command exit 75 (EX_TEMPFAIL)', cmd({ exitCode: 75 }), 'TRANSIENT'],
    ['command killed by a signal', cmd({ exitCode: null, signal: 'SIGKILL' }), 'TRANSIENT'],
    ['command exit 1', cmd({ exitCode: 1 }), 'PERMANENT'],
    ['command exit 127', cmd({ exitCode: 127 }), 'PERMANENT'],
    ['command spawn failure', cmd({ exitCode: null }), 'PERMANENT'],
    ['command timeout', cmd({ timedOut: true, signal: 'SIGTERM' }), 'TIMEOUT'],
    ['http 429', http({ httpStatus: 429 }), 'TRANSIENT'],
    ['http 500', http({ httpStatus: 500 }), 'TRANSIENT'],
    ['http 503', http({ httpStatus: 503 }), 'TRANSIENT'],
    ['http 599', http({ httpStatus: 599 }), 'TRANSIENT'],
    ['http 400', http({ httpStatus: 400 }), 'PERMANENT'],
    ['http 404', http({ httpStatus: 404 }), 'PERMANENT'],
    ['http 409', http({ httpStatus: 409 }), 'PERMANENT'],
    ['http network error before sending', http({ requestSent: false }), 'TRANSIENT'],
    ['http connect timeout before sending', http({ requestSent: false, timedOut: true }), 'TIMEOUT'],
    ['http timeout after sending', http({ requestSent: true, timedOut: true }), 'UNKNOWN'],
    ['http connection lost after sending', http({ requestSent: true }), 'UNKNOWN'],
    ['http no response, unknown phase (fail closed)', http({ timedOut: true }), 'UNKNOWN'],
  ] as const)('%s → %s', (_, o, want) => {
    expect(failureCategory(o)).toBe(want);
  });
  it('a success has no category', () => {
    expect(failureCategory({ type: 'command', ok: true, exitCode: 0 })).toBeUndefined();
    expect(failureCategory({ type: 'http', ok: true, httpStatus: 202 })).toBeUndefined();
  });
});

describe('retry backoff', () => {
  const p: RetryPolicy = {
    maxAttempts: 6,
    backoffMs: 30_000,
    multiplier: 2,
    maxBackoffMs: 100_000,
    on: ['TRANSIENT', 'TIMEOUT'],
  };

  it('backoff × multiplier per attempt, capped at maxBackoff (no jitter at random 0.5)', () => {
    expect([2, 3, 4, 5].map((a) => retryDelay(p, a, 0.5))).toEqual([30_000, 60_000, 100_000, 100_000]);
  });

  it('±20% jitter from the injected random number, never above maxBackoff', () => {
    expect(retryDelay(p, 2, 0)).toBe(24_000);
    expect(retryDelay(p, 2, 0.999999)).toBe(36_000);
    expect(retryDelay(p, 4, 0.999999)).toBe(100_000);
    expect(retryDelay(p, 4, 0)).toBe(80_000);
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 30 }), fc.double({ min: 0, max: 1, noNaN: true }), (a, r) => {
        const base = Math.min(30_000 * 2 ** (a - 2), 100_000);
        const d = retryDelay(p, a, r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
        expect(d).toBeLessThanOrEqual(Math.min(Math.ceil(base * 1.2), 100_000));
      }),
    );
    expect(retryDelay(p, 2, Number.NaN)).toBe(30_000);
  });

  it('decides the next attempt, or why there is none', () => {
    expect(decideRetry(p, 1, 'TRANSIENT', 1000, 0.5)).toEqual({ retry: true, attempt: 2, at: 31_000 });
    expect(decideRetry(p, 2, 'TIMEOUT', 1000, 0.5)).toEqual({ retry: true, attempt: 3, at: 61_000 });
    expect(decideRetry(p, 6, 'TRANSIENT', 1000, 0.5)).toMatchObject({ retry: false, cause: 'attempts-exhausted' });
    expect(decideRetry(p, 1, 'PERMANENT', 1000, 0.5)).toMatchObject({ retry: false, cause: 'not-retryable' });
    expect(decideRetry(p, 1, 'UNKNOWN', 1000, 0.5)).toMatchObject({ retry: false, cause: 'not-retryable' });
    // UNKNOWN is never retried, even by a policy that lists it.
    expect(decideRetry({ ...p, on: ['UNKNOWN', 'PERMANENT'] }, 1, 'UNKNOWN', 0, 0.5).retry).toBe(false);
    expect(decideRetry({ ...p, on: ['PERMANENT'] }, 1, 'PERMANENT', 0, 0.5).retry).toBe(false);
    expect(decideRetry({ ...p, on: ['TRANSIENT'] }, 1, 'TIMEOUT', 0, 0.5).retry).toBe(false);
  });

  it('the default policy makes one attempt only', () => {
    expect(decideRetry(DEFAULT_RETRY, 1, 'TRANSIENT', 0, 0.5)).toMatchObject({
      retry: false,
      cause: 'attempts-exhausted',
    });
  });
});

describe('watch re-evaluation backoff', () => {
  it('doubles while nothing changes, up to 10×', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((n) => reevaluateDelay(60_000, n, 0.5))).toEqual([
      60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000,
    ]);
  });
  it('±20% jitter, but never more often than `reevaluate` nor less often than 10×', () => {
    expect(reevaluateDelay(60_000, 1, 0)).toBe(96_000);
    expect(reevaluateDelay(60_000, 1, 0.999999)).toBe(144_000);
    expect(reevaluateDelay(60_000, 0, 0)).toBe(60_000);
    expect(reevaluateDelay(60_000, 9, 0.999999)).toBe(600_000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, r) => {
        const d = reevaluateDelay(60_000, n, r);
        expect(d).toBeGreaterThanOrEqual(60_000);
        expect(d).toBeLessThanOrEqual(60_000 * REEVALUATE_MAX_FACTOR);
      }),
    );
  });
});
