// Use-case: a pushed trait result (POST /api/pipelines/{id}/traits/{type}, `interlock push`): validate, store it
// (source push), re-decide the pipeline's readiness from the stored results, record and announce the decision.
import { DURATION_FORMS, parseDuration } from '../core/duration.js';
import { InterlockError } from '../core/errors.js';
import { expiryOf } from '../core/expiry.js';
import { EVAL_STATUSES } from '../core/lists.js';
import type { EvalStatus, ResolvedTrait, TraitResult } from '../core/types.js';
import { decideReadiness, traitState } from '../engine/index.js';
import { MAX_REASON_CHARS } from '../evaluator/index.js';
import { withAlerts } from './alerting.js';
import { getPipeline } from './context.js';
import type { Context } from './context-type.js';
import { decisionRecord, type Evaluation, recordDecision } from './evaluate.js';
import type { TraitResultView } from './status.js';

/** What a push says: as the HTTP body and the CLI options carry it (checked here, whatever the adapter did). */
export interface PushInput {
  status: unknown;
  value?: unknown;
  reason?: unknown;
  /** A duration: seconds, or a string like 90s, 15m, 2h, 1d, 1h30m. Default: the trait's ttl (none: never expires). */
  ttl?: unknown;
}

/** Largest pushed `value`, serialized (as completion metadata). */
export const MAX_PUSH_VALUE_BYTES = 64 * 1024;
/** Largest pushed ttl, seconds (30 days): a pushed result must expire in a time someone will still remember. */
export const MAX_PUSH_TTL_SECONDS = 30 * 86_400;
/** Longest pushed reason, characters (as a runner-written one). */
export const MAX_PUSH_REASON_CHARS = MAX_REASON_CHARS;

export interface Push {
  /** The result as stored, with its state now and whether the trait is required. */
  result: TraitResultView;
  /** The decision the push made: every trait from the store, the pushed one fresh. */
  evaluation: Evaluation;
}

function bad(field: string, message: string, pipeline: string, trait: string): InterlockError {
  return new InterlockError('USAGE', `${field}: ${message}`, {
    pipeline,
    trait,
    problems: [{ path: field, message }],
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The pushed result, checked field by field; every refusal names its field. */
function pushedResult(pipeline: string, trait: ResolvedTrait, input: PushInput, now: number): TraitResult {
  const fail = (field: string, message: string) => bad(field, message, pipeline, trait.type);
  if (!isObject(input)) throw fail('status', 'required');
  const status = input.status;
  if (!EVAL_STATUSES.includes(status as EvalStatus)) {
    throw fail(
      'status',
      `expected ${EVAL_STATUSES.join(' or ')}${status === undefined ? '' : `, got ${JSON.stringify(status)}`}`,
    );
  }
  if (input.value !== undefined) {
    if (!isObject(input.value)) throw fail('value', 'expected a JSON object');
    if (Buffer.byteLength(JSON.stringify(input.value)) > MAX_PUSH_VALUE_BYTES) {
      throw fail('value', `larger than ${MAX_PUSH_VALUE_BYTES / 1024} KiB as JSON`);
    }
  }
  if (input.reason !== undefined) {
    if (typeof input.reason !== 'string') throw fail('reason', 'expected a string');
    if (input.reason.length > MAX_PUSH_REASON_CHARS) {
      throw fail('reason', `longer than ${MAX_PUSH_REASON_CHARS} characters`);
    }
  }
  let ttlSeconds = trait.ttlSeconds;
  if (input.ttl !== undefined) {
    const s = parseDuration(input.ttl);
    if (s === undefined || s <= 0) throw fail('ttl', `expected a positive duration: ${DURATION_FORMS}`);
    if (s > MAX_PUSH_TTL_SECONDS)
      throw fail('ttl', `at most ${MAX_PUSH_TTL_SECONDS / 86_400} days (${MAX_PUSH_TTL_SECONDS}s)`);
    // The configured ttl bounds every result of the trait (engine/trait-state.ts): a longer one would only look valid.
    if (trait.ttlSeconds !== undefined && s > trait.ttlSeconds) {
      throw fail(
        'ttl',
        `${s}s is longer than the ttl of trait '${trait.type}' (${trait.ttlSeconds}s); a result cannot outlive it`,
      );
    }
    ttlSeconds = s;
  }
  const r: TraitResult = {
    pipeline,
    trait: trait.type,
    status: status as EvalStatus,
    durationMs: 0,
    evaluatedAt: now,
    source: 'push',
  };
  if (input.value !== undefined) r.value = input.value as Record<string, unknown>;
  if (input.reason !== undefined) r.reason = input.reason as string;
  if (r.status === 'FAIL') {
    r.reasonCode = 'PUSHED_FAIL';
    r.reason ??= 'pushed FAIL';
  }
  const expiresAt = expiryOf(now, ttlSeconds);
  if (expiresAt !== undefined) r.expiresAt = expiresAt;
  return r;
}

/**
 * Stores a pushed result for one trait of a pipeline and re-decides the pipeline's readiness: the pushed result
 * fresh, every other trait with its latest stored result (expired or missing → STALE). Results, readiness and a
 * decision record (source push, in history) are written atomically, then evaluation.decided is published exactly
 * as an evaluation does (alerts follow: a pushed FAIL alerts like an evaluated one). Never runs an evaluator.
 * Unknown pipeline → PIPELINE_NOT_FOUND; INVALID → as for evaluate; a trait the pipeline lacks → TRAIT_NOT_FOUND;
 * a bad field → USAGE naming it (`problems`).
 */
export async function pushTraitResult(ctx: Context, name: string, traitType: string, input: PushInput): Promise<Push> {
  const pipeline = await getPipeline(ctx, name);
  const trait = pipeline.traits.find((t) => t.type === traitType);
  if (!trait) {
    const known = pipeline.traits.map((t) => t.type).join(', ') || 'none';
    throw new InterlockError(
      'TRAIT_NOT_FOUND',
      `pipeline '${pipeline.name}' has no trait '${traitType}' (traits: ${known})`,
      { pipeline: pipeline.name, trait: traitType },
    );
  }
  // `now` is captured once: the result's time, its expiry and the decision's.
  const now = ctx.clock.now();
  const result = pushedResult(pipeline.name, trait, input, now);
  return withAlerts(ctx, async () => {
    const stored = (await ctx.store.getTraitResults(pipeline.name)).filter((r) => r.trait !== trait.type);
    const readiness = decideReadiness(pipeline.name, pipeline.traits, [...stored, result], pipeline.readinessRule, now);
    const decision = decisionRecord(readiness, 'push');
    const evaluation = await recordDecision(ctx, { pipeline, results: [result], readiness, decision });
    const view: TraitResultView = {
      ...result,
      state: traitState(result, now, trait.ttlSeconds),
      required: trait.required,
    };
    return { result: view, evaluation };
  });
}

/** The JSON shape of a push, as `push --json` prints it and POST …/traits/{type} returns: the stored result. */
export function pushView(p: Push): TraitResultView {
  return p.result;
}
