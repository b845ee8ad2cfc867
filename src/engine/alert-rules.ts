// PURE: which alert a change raises. The fingerprints of an evaluation's alert conditions (compared by the store's
// atomic claim), the alerts a fired claim means, and the alert a run transition means. Time comes in as `now`.
import type { AlertKind, Readiness, RunState, TraitView } from '../core/types.js';
import type { TransitionPatch } from './run-state.js';
import { windowOfRunKey } from './window-key.js';

/** An alert before it is stamped (level, timestamp and UCA are added by makeAlert). */
export interface AlertDraft {
  kind: AlertKind;
  pipeline: string;
  runId?: string;
  /** The schedule window the alert concerns, when it does. */
  window?: string;
  trait?: string;
  message: string;
  details?: Record<string, unknown>;
}

/** What the store's claim of one alert condition answered: send now, and the fingerprint it replaced. */
export interface AlertClaim {
  fire: boolean;
  previous?: string;
}

/** Why a run moved, when its status alone does not say (the alert rules need it). */
/** Why a run moved when its status alone does not say: a completion callback, or its platform's polled state. */
export type TransitionCause = 'completion-callback' | 'platform-poll';

/** A trait's alert condition: `PASS`, or its state and reason code (`FAIL:THRESHOLD`, `STALE:STALE`). */
export function traitFingerprint(t: TraitView): string {
  return t.state === 'PASS' ? 'PASS' : `${t.state}:${t.result?.reasonCode ?? 'STALE'}`;
}

/** The pipeline's alert condition: `READY`, or NOT_READY with its sorted blockers (`NOT_READY:a=FAIL,b=STALE`). */
export function readinessFingerprint(r: Readiness): string {
  if (r.outcome === 'READY') return 'READY';
  return `NOT_READY:${r.blocking
    .map((b) => `${b.trait}=${b.reasonCode}`)
    .sort()
    .join(',')}`;
}

function withRun(d: AlertDraft, runId: string | undefined): AlertDraft {
  return runId === undefined ? d : { ...d, runId };
}

/** TRAIT_FAILED when the trait's claim fired for a failure (going to FAIL, or changing its failure); else nothing. */
export function traitAlert(pipeline: string, t: TraitView, claim: AlertClaim, runId?: string): AlertDraft | undefined {
  if (!claim.fire || t.state === 'PASS') return undefined;
  return withRun(
    {
      kind: 'TRAIT_FAILED',
      pipeline,
      trait: t.trait,
      message: `trait ${t.trait} is ${t.state}: ${t.result?.reason ?? t.result?.reasonCode ?? 'no result'}`,
      details: { state: t.state, reasonCode: t.result?.reasonCode, value: t.result?.value, required: t.required },
    },
    runId,
  );
}

/**
 * PIPELINE_BLOCKED when the readiness claim fired for NOT_READY (newly, or with other blockers); PIPELINE_READY when
 * it fired for READY after a known non-READY condition (a recovery; the first READY ever says nothing).
 */
export function readinessAlert(
  r: Readiness,
  decisionId: string,
  claim: AlertClaim,
  runId?: string,
): AlertDraft | undefined {
  const pipeline = r.pipeline;
  if (!claim.fire) return undefined;
  if (r.outcome === 'NOT_READY') {
    return withRun(
      {
        kind: 'PIPELINE_BLOCKED',
        pipeline,
        message: `${pipeline} is NOT_READY: ${r.blocking.map((b) => `${b.trait} (${b.reasonCode})`).join(', ') || r.note}`,
        details: { blocking: r.blocking, decisionId, note: r.note },
      },
      runId,
    );
  }
  if (claim.previous !== undefined && claim.previous !== 'READY') {
    return withRun({ kind: 'PIPELINE_READY', pipeline, message: `${pipeline} is READY again` }, runId);
  }
  return undefined;
}

/**
 * The alert a run transition raises: RUN_TIMED_OUT when it timed out, TRIGGER_OUTCOME_UNKNOWN when the trigger's own
 * outcome (recorded by this move) is a failure of category UNKNOWN, TRIGGER_FAILED when it is another failure, RUN_FAILED when a completion callback (or the platform's polled state) said it failed. `now` is the move's.
 */
export function transitionAlert(
  before: RunState,
  after: RunState,
  patch: TransitionPatch,
  cause: TransitionCause | undefined,
  now: number,
): AlertDraft | undefined {
  const window = after.window?.key ?? (after.runKey === undefined ? undefined : windowOfRunKey(after.runKey));
  const base = { pipeline: after.pipeline, runId: after.runId, ...(window !== undefined ? { window } : {}) };
  if (after.status === 'TIMED_OUT') {
    const ageSeconds = Math.round((now - (before.triggeredAt ?? before.createdAt)) / 1000);
    return {
      kind: 'RUN_TIMED_OUT',
      ...base,
      message: `run ${after.runId} timed out: ${patch.reason ?? after.reason ?? 'past its deadline'}`,
      details: { previousStatus: before.status, ageSeconds },
    };
  }
  if (patch.trigger !== undefined && !patch.trigger.ok && patch.trigger.category === 'UNKNOWN') {
    // Not a plain failure: the job may be running. Never retried automatically, so a human must look.
    return {
      kind: 'TRIGGER_OUTCOME_UNKNOWN',
      ...base,
      message: `trigger of ${after.pipeline} has an UNKNOWN outcome (the job may have started; not retried): ${patch.trigger.error ?? 'no answer'}`,
      details: { trigger: patch.trigger, ...(after.runKey !== undefined ? { runKey: after.runKey } : {}) },
    };
  }
  if (patch.trigger !== undefined && !patch.trigger.ok) {
    return {
      kind: 'TRIGGER_FAILED',
      ...base,
      message: `trigger of ${after.pipeline} failed: ${patch.trigger.error ?? 'unknown error'}`,
      details: { trigger: patch.trigger },
    };
  }
  if ((cause === 'completion-callback' || cause === 'platform-poll') && after.status === 'FAILED') {
    return {
      kind: 'RUN_FAILED',
      ...base,
      message: `run ${after.runId} of ${after.pipeline} failed`,
      details: { metadata: patch.metadata },
    };
  }
  return undefined;
}
