// Use-case: evaluate a pipeline's readiness now: run its evaluators, decide, record the decision.
import { InterlockError } from '../core/errors.js';
import { ulid } from '../core/ids.js';
import type { WindowVarsSource } from '../core/run-vars.js';
import type {
  DecisionRecord,
  DecisionSource,
  PipelineSpec,
  Readiness,
  ResolvedTrait,
  TraitResult,
} from '../core/types.js';
import { decideReadiness } from '../engine/index.js';
import { childEnv } from '../proc/index.js';
import { checkHost, redact, secretForms } from '../trigger/index.js';
import { withAlerts } from './alerting.js';
import { getPipeline } from './context.js';
import type { Context } from './context-type.js';
import { addressPolicy, isUntrusted } from './register.js';
import { touchActiveRun } from './touch.js';

export interface EvaluateOptions {
  source: DecisionSource;
  /** Called once the pipeline is found, before any evaluator starts (progress display: the traits to come). */
  onStart?: (pipeline: PipelineSpec) => void;
  /** Called as each trait's result comes in (progress display). */
  onResult?: (r: TraitResult) => void;
  runId?: string;
  /** Aborts running evaluators (server shutdown): their results are FAILs, so the outcome is NOT_READY. */
  signal?: AbortSignal;
  /** A schedule window's decision: its evaluators get INTERLOCK_WINDOW* (env and `${…}` in config). */
  window?: WindowVarsSource;
  /**
   * Evaluate only what is needed: run the evaluators of these trait types only; every other trait counts with its
   * latest stored result as it is (expired or missing → STALE). The decision still covers every trait. A type the
   * pipeline does not have → TRAIT_NOT_FOUND (nothing runs). Push traits (`evaluator: push`) never run either way.
   */
  only?: readonly string[];
}

export interface Evaluation {
  pipeline: PipelineSpec;
  /** The results this evaluation produced (and stored); traits it did not run are in `readiness.traits`. */
  results: TraitResult[];
  readiness: Readiness;
  decision: DecisionRecord;
}

/** Builds the durable decision record of a readiness decision. */
export function decisionRecord(readiness: Readiness, source: DecisionSource, runId?: string): DecisionRecord {
  const d: DecisionRecord = {
    id: ulid(readiness.decidedAt),
    pipeline: readiness.pipeline,
    source,
    rule: readiness.rule,
    outcome: readiness.outcome,
    traits: readiness.traits.map((v) => {
      const t: DecisionRecord['traits'][number] = { trait: v.trait, required: v.required, status: v.state };
      const r = v.result;
      if (r?.value !== undefined) t.value = r.value;
      if (r?.reason !== undefined) t.reason = r.reason;
      if (r?.reasonCode !== undefined) t.reasonCode = r.reasonCode;
      if (r?.durationMs !== undefined) t.durationMs = r.durationMs;
      return t;
    }),
    blocking: readiness.blocking,
    decidedAt: readiness.decidedAt,
  };
  if (readiness.note !== undefined) d.note = readiness.note;
  if (runId !== undefined) d.runId = runId;
  return d;
}

/** Masks every string (keys too) of a JSON-like value. */
function redactDeep(v: unknown, secrets: readonly string[]): unknown {
  if (typeof v === 'string') return redact(v, secrets);
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, secrets));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k, secrets), redactDeep(x, secrets)]));
  }
  return v;
}

/**
 * For each trait, the values of the variables its `env` list passes (from the context's environment, where the
 * evaluator's come from), masked out of its result's reason and value like trigger secrets.
 */
function passedValueMask(
  traits: readonly ResolvedTrait[],
  env: Readonly<NodeJS.ProcessEnv>,
): (r: TraitResult) => TraitResult {
  const byTrait = new Map<string, string[]>();
  for (const t of traits) {
    const values = childEnv(env, t.env ?? []).passed;
    if (values.length) byTrait.set(t.type, values.flatMap(secretForms));
  }
  return (r) => {
    const secrets = byTrait.get(r.trait);
    if (!secrets) return r;
    const out: TraitResult = { ...r };
    if (r.reason !== undefined) out.reason = redact(r.reason, secrets);
    if (r.value !== undefined) out.value = redactDeep(r.value, secrets) as Record<string, unknown>;
    return out;
  };
}

/** The traits whose evaluators this evaluation runs: not push traits, and only those in `only` when given. */
function traitsToRun(pipeline: PipelineSpec, only: readonly string[] | undefined): ResolvedTrait[] {
  if (only !== undefined) {
    const unknown = only.filter((t) => !pipeline.traits.some((x) => x.type === t));
    if (unknown.length) {
      const known = pipeline.traits.map((x) => x.type).join(', ') || 'none';
      throw new InterlockError(
        'TRAIT_NOT_FOUND',
        `pipeline '${pipeline.name}' has no trait ${unknown.map((t) => `'${t}'`).join(', ')} (traits: ${known})`,
        { pipeline: pipeline.name, trait: unknown[0] },
      );
    }
  }
  return pipeline.traits.filter((t) => t.push !== true && (only === undefined || only.includes(t.type)));
}

/**
 * Runs the evaluators of the pipeline's traits (in parallel, under the pool's cap) — all of them but push traits,
 * or only `opts.only` — decides readiness from these fresh results and the latest stored result of every trait not
 * run (expired or missing → STALE), and stores the fresh results + readiness + decision in one atomic write, then
 * publishes evaluation.decided (alerting subscribes). A store failure throws before anything is published: the
 * caller must not treat an unrecorded evaluation as READY.
 */
export async function evaluatePipeline(
  ctx: Context,
  pipeline: PipelineSpec,
  opts: EvaluateOptions,
): Promise<Evaluation> {
  const toRun = traitsToRun(pipeline, opts.only);
  const untrusted = isUntrusted(ctx, pipeline);
  const connections = ctx.project.config.connections;
  const mask = passedValueMask(toRun, ctx.env);
  const onResult = opts.onResult;
  const raw =
    toRun.length === 0
      ? []
      : await ctx.pool.evaluateAll(
          toRun,
          {
            projectDir: ctx.project.root,
            pipeline: pipeline.name,
            clock: ctx.clock,
            env: ctx.env,
            ...(opts.signal ? { signal: opts.signal } : {}),
            ...(opts.window ? { window: opts.window } : {}),
            // Untrusted (API-registered): every spawn re-checks that the evaluator's real path is inside evaluatorDirs.
            ...(untrusted ? { confineTo: ctx.project.config.evaluatorDirs } : {}),
            ...(connections ? { connections } : {}),
            // Untrusted: builtin:http checks connect only where an http trigger of theirs could (server.allowedHosts).
            ...(untrusted ? { guardHost: (host: string) => checkHost(host, addressPolicy(ctx)) } : {}),
            upstream: ctx.store,
          },
          onResult ? (r) => onResult(mask(r)) : undefined,
        );
  // Values of the variables passed through `env` never reach a result, a decision or an alert.
  const results = raw.map(mask);
  // Read once the evaluators are done, so a result pushed meanwhile counts in this decision.
  const reused =
    toRun.length < pipeline.traits.length
      ? (await ctx.store.getTraitResults(pipeline.name)).filter((r) => !toRun.some((t) => t.type === r.trait))
      : [];
  const readiness = decideReadiness(
    pipeline.name,
    pipeline.traits,
    [...reused, ...results],
    pipeline.readinessRule,
    ctx.clock.now(),
  );
  const decision = decisionRecord(readiness, opts.source, opts.runId);
  return recordDecision(ctx, { pipeline, results, readiness, decision }, opts);
}

/**
 * Stores an evaluation (its fresh results, readiness and decision, atomically), then publishes
 * evaluation.decided: the one place a decision is recorded and announced (evaluations and pushes).
 */
export async function recordDecision(
  ctx: Context,
  evaluation: Evaluation,
  opts: { runId?: string; signal?: AbortSignal } = {},
): Promise<Evaluation> {
  const { results, readiness, decision } = evaluation;
  await ctx.store.saveEvaluation({ results, readiness, decision });
  await ctx.events.publish('evaluation.decided', {
    evaluation,
    ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
    aborted: opts.signal?.aborted === true,
  });
  return evaluation;
}

/**
 * The `evaluate` use-case as the adapters call it: times out the pipeline's overdue run (a touch), evaluates,
 * then raises alerts on changes. Alerting never changes the outcome. Every alert goes out once, after the
 * evaluation, in one dispatch: a slow sink delays neither the evaluation nor (past one alerts.timeout) the caller.
 */
export async function evaluateWithAlerts(ctx: Context, name: string, opts: EvaluateOptions): Promise<Evaluation> {
  const pipeline = await getPipeline(ctx, name);
  opts.onStart?.(pipeline);
  return withAlerts(ctx, async () => {
    await touchActiveRun(ctx, pipeline.name);
    return evaluatePipeline(ctx, pipeline, opts);
  });
}

/** The JSON shape of an evaluation, as `evaluate --json` prints it and `POST /api/pipelines/{id}/evaluate` returns. */
export function evaluationView(ev: Evaluation) {
  return {
    pipeline: ev.pipeline.name,
    outcome: ev.readiness.outcome,
    readiness: ev.readiness,
    decisionId: ev.decision.id,
  };
}
