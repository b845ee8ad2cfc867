// Retry math: the failure category of a trigger outcome, when (and whether) the next attempt of a window runs, and
// the watch re-evaluation backoff. Pure: randomness comes in as a number in [0, 1).
import { FAILURE_CATEGORIES } from '../core/lists.js';
import type { TriggerOutcome } from '../core/types.js';

export { FAILURE_CATEGORIES };

/**
 * TRANSIENT and TIMEOUT may be retried (per policy); PERMANENT never helps to repeat; UNKNOWN means the target may
 * have started the job (an http request was sent, no answer came back), so it is never retried automatically.
 * The list lives in core (lists.ts): trigger outcomes carry it.
 */
export type FailureCategory = (typeof FAILURE_CATEGORIES)[number];
/** The categories a policy may list under `retry.on`. */
export const RETRYABLE_CATEGORIES: readonly FailureCategory[] = ['TRANSIENT', 'TIMEOUT'];

/** EX_TEMPFAIL (sysexits.h): "try again later". */
export const EXIT_TEMPFAIL = 75;
/** Jitter applied to every backoff: ±20 %. */
export const JITTER = 0.2;

/**
 * A trigger's outcome as classified here. `requestSent` (http only): whether the request left this process before
 * the failure; `undefined` means "cannot tell" and is treated as sent (fail closed: never fire twice).
 */
export type ClassifiableOutcome = Pick<
  TriggerOutcome,
  'type' | 'ok' | 'exitCode' | 'signal' | 'timedOut' | 'httpStatus'
> & { requestSent?: boolean };

/** The failure category of a failed trigger outcome; undefined when it succeeded. */
export function failureCategory(o: ClassifiableOutcome): FailureCategory | undefined {
  if (o.ok) return undefined;
  if (o.type === 'command') {
    if (o.timedOut) return 'TIMEOUT';
    if (o.signal) return 'TRANSIENT';
    if (o.exitCode === EXIT_TEMPFAIL) return 'TRANSIENT';
    return 'PERMANENT'; // any other non-zero exit, or a spawn failure
  }
  if (o.httpStatus !== undefined) {
    if (o.httpStatus === 429 || (o.httpStatus >= 500 && o.httpStatus <= 599)) return 'TRANSIENT';
    return 'PERMANENT'; // other 4xx (and anything else a failed response can carry)
  }
  // No response. Before the request went out nothing can have started; after it, anything may have.
  if (o.requestSent !== false) return 'UNKNOWN';
  return o.timedOut ? 'TIMEOUT' : 'TRANSIENT';
}

/** `retry:` of a pipeline, durations in ms. */
export interface RetryPolicy {
  /** Total attempts including the first (1 = no retry). */
  maxAttempts: number;
  backoffMs: number;
  multiplier: number;
  maxBackoffMs: number;
  on: readonly FailureCategory[];
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 1,
  backoffMs: 30_000,
  multiplier: 2,
  maxBackoffMs: 3_600_000,
  on: ['TRANSIENT'],
};

/** A random number clamped into [0, 1) (NaN → 0.5, the centre: no jitter). */
function unit(random: number): number {
  if (!Number.isFinite(random)) return 0.5;
  return Math.min(Math.max(random, 0), 1 - Number.EPSILON);
}

/** `ms` scaled by a factor in [1 − JITTER, 1 + JITTER) picked by `random`. */
export function jitter(ms: number, random: number): number {
  return ms * (1 + JITTER * (2 * unit(random) - 1));
}

/** The delay before attempt `attempt` (≥ 2): backoff × multiplier^(attempt − 2), capped, ±20 %, never above the cap. */
export function retryDelay(policy: RetryPolicy, attempt: number, random: number): number {
  const exp = Math.max(0, attempt - 2);
  const raw = policy.backoffMs * Math.max(1, policy.multiplier) ** exp;
  const capped = Math.min(raw, policy.maxBackoffMs);
  return Math.round(Math.max(0, Math.min(jitter(capped, random), policy.maxBackoffMs)));
}

export type RetryDecision =
  | { retry: true; attempt: number; at: number }
  | { retry: false; cause: 'not-retryable' | 'attempts-exhausted'; reason: string };

/** After attempt `failedAttempt` failed with `category` at `failedAt`: the next attempt and when, or why none. */
export function decideRetry(
  policy: RetryPolicy,
  failedAttempt: number,
  category: FailureCategory,
  failedAt: number,
  random: number,
): RetryDecision {
  if (category === 'UNKNOWN') {
    return {
      retry: false,
      cause: 'not-retryable',
      reason: 'outcome UNKNOWN: the request was sent and no answer came; the job may have started, so no retry',
    };
  }
  if (!policy.on.includes(category) || !RETRYABLE_CATEGORIES.includes(category)) {
    return { retry: false, cause: 'not-retryable', reason: `${category} failures are not retried` };
  }
  if (failedAttempt >= policy.maxAttempts) {
    return {
      retry: false,
      cause: 'attempts-exhausted',
      reason: `attempts exhausted (${failedAttempt} of ${policy.maxAttempts})`,
    };
  }
  const attempt = failedAttempt + 1;
  return { retry: true, attempt, at: failedAt + retryDelay(policy, attempt, random) };
}

/** How many times the watch backoff may double the re-evaluation interval: up to 10 × `reevaluate`. */
export const REEVALUATE_MAX_FACTOR = 10;

/**
 * The delay before the next re-evaluation of an open NOT_READY window after `unchanged` evaluations in a row that
 * changed nothing: reevaluate × 2^unchanged, capped at 10 ×, ±20 % jitter, and kept within [reevaluate, 10 ×
 * reevaluate] so it is never more often than configured.
 */
export function reevaluateDelay(reevaluateMs: number, unchanged: number, random: number): number {
  const n = Math.max(0, Math.floor(unchanged));
  const max = reevaluateMs * REEVALUATE_MAX_FACTOR;
  const capped = Math.min(reevaluateMs * 2 ** Math.min(n, 31), max);
  return Math.round(Math.min(Math.max(jitter(capped, random), reevaluateMs), max));
}
