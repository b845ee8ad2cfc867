// Readiness rules: turn trait results into READY or NOT_READY with the blocking traits. Pure and fail-closed.

import { isoTime } from '../core/clock.js';
import type {
  BlockingTrait,
  Readiness,
  ReadinessRule,
  ReasonCode,
  ResolvedTrait,
  TraitResult,
  TraitView,
} from '../core/types.js';
import { effectiveExpiry, traitState } from './trait-state.js';

/** "at 2026-11-28T06:02:13.000Z", or nothing when the time is not a usable instant. */
function at(ms: number | undefined): string {
  const iso = isoTime(ms);
  return iso === undefined ? '' : ` at ${iso}`;
}

function blockingTrait(view: TraitView, expiry: number | undefined): BlockingTrait {
  const r = view.result;
  if (view.state === 'STALE') {
    return {
      trait: view.trait,
      state: 'STALE',
      reasonCode: 'STALE',
      reason: r ? `result expired (TTL passed)${at(expiry)}; evaluate again` : 'no result yet; evaluate first',
    };
  }
  const reasonCode: ReasonCode = r?.reasonCode ?? 'EVALUATOR_FAIL';
  return {
    trait: view.trait,
    state: 'FAIL',
    reasonCode,
    reason: r?.reason ?? (reasonCode === 'EVALUATOR_FAIL' ? 'evaluator reported FAIL' : reasonCode),
  };
}

/**
 * Decides readiness of `traits` from `results` (latest per trait) at `now`.
 * Fail closed: anything other than the rule being met by exact, unexpired PASS results is NOT_READY.
 */
export function decideReadiness(
  pipeline: string,
  traits: readonly ResolvedTrait[],
  results: readonly TraitResult[],
  rule: ReadinessRule,
  now: number,
): Readiness {
  const byTrait = new Map<string, TraitResult>();
  for (const r of results) if (r && r.pipeline === pipeline) byTrait.set(r.trait, r);

  const expiries = new Map<string, number | undefined>();
  const views: TraitView[] = traits.map((t) => {
    const result = byTrait.get(t.type);
    // The ttl configured now bounds a cached result too (a ttl shortened after the evaluation applies at once).
    const state = traitState(result, now, t.ttlSeconds);
    const view: TraitView = { trait: t.type, required: t.required, state };
    if (result) view.result = result;
    const expiry = result ? effectiveExpiry(result, t.ttlSeconds) : undefined;
    expiries.set(t.type, expiry);
    if (expiry !== undefined) view.ttlLeftMs = Number.isFinite(expiry) ? Math.max(0, expiry - now) : 0;
    return view;
  });
  const blockingFor = (v: TraitView) => blockingTrait(v, expiries.get(v.trait));

  const base = { pipeline, rule, traits: views, decidedAt: now };
  if (views.length === 0) {
    return { ...base, outcome: 'NOT_READY', blocking: [], note: 'pipeline has no traits; nothing proves it safe' };
  }

  if (rule.type === 'all-required-pass') {
    const required = views.filter((v) => v.required);
    if (required.length === 0) {
      return { ...base, outcome: 'NOT_READY', blocking: [], note: 'no required traits; nothing proves it safe' };
    }
    const blocking = required.filter((v) => v.state !== 'PASS').map(blockingFor);
    return { ...base, outcome: blocking.length === 0 ? 'READY' : 'NOT_READY', blocking };
  }

  if (rule.type === 'majority-pass') {
    const passing = views.filter((v) => v.state === 'PASS').length;
    const threshold = rule.threshold;
    const valid = threshold === undefined || (Number.isFinite(threshold) && threshold > 0 && threshold <= 1);
    const met = valid && (threshold === undefined ? passing * 2 > views.length : passing >= threshold * views.length);
    const blocking = views.filter((v) => v.state !== 'PASS').map(blockingFor);
    if (met) return { ...base, outcome: 'READY', blocking: [] };
    const need = threshold === undefined ? 'more than half' : `${Math.round(threshold * 1000) / 10}%`;
    return {
      ...base,
      outcome: 'NOT_READY',
      blocking,
      note: valid
        ? `${passing} of ${views.length} traits pass; majority-pass needs ${need}`
        : 'invalid majority-pass threshold',
    };
  }

  // An unknown rule can never make anything READY.
  return {
    ...base,
    outcome: 'NOT_READY',
    blocking: [],
    note: `unsupported readiness rule '${String((rule as ReadinessRule).type)}'`,
  };
}
