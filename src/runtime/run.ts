// Use-case: run a pipeline — take the lock, evaluate afresh, trigger only on READY, record every transition.

import { makeAlert } from '../alert/index.js';
import { InterlockError } from '../core/errors.js';
import { ulid } from '../core/ids.js';
import { missingVarsMessage } from '../core/template.js';
import type { Alert, DecisionSource, RunState, TraitResult, TriggerOutcome } from '../core/types.js';
import {
  afterTrigger,
  DEFAULT_MAX_RUN_SECONDS,
  newRun,
  pendingDeadline,
  type TransitionPatch,
} from '../engine/index.js';
import { fireTrigger, missingTriggerVars } from '../trigger/index.js';
import { collectEvaluationAlerts, sendAlerts } from './alerting.js';
import type { Context } from './context.js';
import { getPipeline } from './context.js';
import { type Evaluation, evaluatePipeline } from './evaluate.js';
import { pauseAt } from './test-hooks.js';
import { expireOverdueRun, moveRun } from './touch.js';

export type RunResult =
  /** The trigger fired and the run is COMPLETED (sync) or RUNNING (async). */
  | { kind: 'triggered'; run: RunState; evaluation: Evaluation }
  /** The trigger fired and failed (FAILED). */
  | { kind: 'trigger-failed'; run: RunState; evaluation: Evaluation }
  /** NOT_READY: nothing fired (BLOCKED). */
  | { kind: 'blocked'; run: RunState; evaluation: Evaluation }
  /** Another run holds the pipeline's lock. */
  | { kind: 'already-running'; active: RunState }
  /** Someone else moved this run on (cancelled, timed out) before the trigger: nothing fired. */
  | { kind: 'superseded'; run: RunState; evaluation?: Evaluation }
  /** `signal` was aborted (server shutdown) after a READY evaluation, before the trigger: nothing fired (FAILED). */
  | { kind: 'aborted'; run: RunState; evaluation: Evaluation };

export interface RunOptions {
  source: DecisionSource;
  onResult?: (r: TraitResult) => void;
  /** Called once the lock is won (the run is PENDING; evaluation follows). */
  onLocked?: (run: RunState) => void;
  /**
   * Called once the run is TRIGGERING (READY, and the compare-and-swap won), just before the trigger fires: the
   * API answers 202 here and lets the trigger finish in the background.
   */
  onTriggering?: (run: RunState, evaluation: Evaluation) => void;
  /** Aborts the evaluators and the trigger (server shutdown); the run still ends in a recorded state. */
  signal?: AbortSignal;
}

/** Why `signal` was aborted, for run reasons ("aborted by shutdown"). */
export function abortReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  if (typeof r === 'string') return r;
  if (r instanceof Error && r.name !== 'AbortError') return r.message;
  return 'aborted';
}

/** `run <pipeline>`: see RunResult for the outcomes. Store failures throw (exit 3) and never fire a trigger. */
export async function runPipeline(ctx: Context, name: string, opts: RunOptions): Promise<RunResult> {
  const pipeline = await getPipeline(ctx, name);
  const trigger = pipeline.trigger;
  if (!trigger) {
    throw new InterlockError(
      'NO_TRIGGER',
      `pipeline '${name}' has no trigger to run (add a trigger: block to ${pipeline.source})`,
      { pipeline: name },
    );
  }
  // A trigger that would send an unset secret is refused before any run exists.
  const missing = missingTriggerVars(trigger, process.env);
  if (missing.length) {
    throw new InterlockError(
      'TRIGGER_ENV_MISSING',
      `trigger of '${name}' cannot fire: ${missingVarsMessage(missing, process.env)}`,
      { pipeline: name, missing },
    );
  }

  const pending: Alert[] = await expireOverdueRun(ctx, name);
  try {
    const now = ctx.clock.now();
    const run = newRun({
      runId: ulid(now),
      pipeline: name,
      source: opts.source,
      now,
      deadlineAt: pendingDeadline(pipeline.traits, now),
    });
    const created = await ctx.store.createRun(run);
    if (!created.ok) return { kind: 'already-running', active: created.active };
    opts.onLocked?.(run);
    await pauseAt('after-pending', run.runId);

    // Fresh evidence: evaluate now, immediately before the compare-and-swap.
    let evaluation: Evaluation;
    try {
      evaluation = await evaluatePipeline(ctx, pipeline, {
        source: opts.source,
        runId: run.runId,
        onResult: opts.onResult,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      const recorded = await moveRun(ctx, run, 'FAILED', {
        reason: `evaluation failed: ${(err as Error).message}`,
      }).catch(() => undefined);
      if (!recorded) {
        // The store is gone too: the run stays PENDING and keeps the lock until its deadline or a cancel. Say so.
        ctx.warn(
          `run ${run.runId} could not be marked FAILED and stays PENDING (holding the lock) until ${new Date(run.deadlineAt).toISOString()} or 'interlock cancel ${run.runId}'; nothing was triggered`,
        );
      }
      throw err;
    }
    // An evaluation cut short by shutdown is recorded (fail closed) but says nothing about the pipeline: no alerts.
    // Alerts are sent after the trigger (in `finally`): a slow webhook must never delay the control action.
    if (!opts.signal?.aborted) pending.push(...(await collectEvaluationAlerts(ctx, evaluation, run.runId)));
    const decisionId = evaluation.decision.id;

    if (evaluation.readiness.outcome !== 'READY') {
      let reason = `blocked: ${evaluation.readiness.blocking.map((b) => `${b.trait} (${b.reasonCode})`).join(', ') || evaluation.readiness.note}`;
      if (opts.signal?.aborted) reason = `${abortReason(opts.signal)}; ${reason}`;
      const blocked = await moveRun(ctx, run, 'BLOCKED', { reason, decisionId });
      if (!blocked) return { kind: 'superseded', run: (await ctx.store.getRun(run.runId)) ?? run, evaluation };
      return { kind: 'blocked', run: blocked, evaluation };
    }

    if (opts.signal?.aborted) {
      // Shutting down: a trigger started now would only be killed again. Nothing fires; the run ends recorded.
      const reason = `${abortReason(opts.signal)} before the trigger fired`;
      const failed = await moveRun(ctx, run, 'FAILED', { reason, decisionId });
      if (!failed) return { kind: 'superseded', run: (await ctx.store.getRun(run.runId)) ?? run, evaluation };
      return { kind: 'aborted', run: failed, evaluation };
    }

    const maxRunSeconds = trigger.maxRunSeconds ?? DEFAULT_MAX_RUN_SECONDS;
    const triggering = await moveRun(ctx, run, 'TRIGGERING', {
      decisionId,
      deadlineAt: ctx.clock.now() + maxRunSeconds * 1000,
    });
    if (!triggering) return { kind: 'superseded', run: (await ctx.store.getRun(run.runId)) ?? run, evaluation };
    try {
      opts.onTriggering?.(triggering, evaluation);
    } catch {
      // A listener must not stop a trigger the run has already committed to.
    }
    await pauseAt('after-triggering', run.runId);

    const outcome: TriggerOutcome = await fireTrigger(trigger, {
      projectDir: ctx.project.root,
      pipeline: name,
      runId: run.runId,
      signal: opts.signal,
    });
    await pauseAt('after-trigger-call', run.runId);

    const next = afterTrigger(outcome);
    const patch: TransitionPatch = { trigger: outcome };
    if (next.reason !== undefined) patch.reason = next.reason;
    if (!outcome.ok && opts.signal?.aborted) patch.reason = `${abortReason(opts.signal)}; ${next.reason ?? ''}`;
    const after = await moveRun(ctx, triggering, next.to, patch);
    if (!after) {
      // Cancelled or timed out while the trigger was in flight: the trigger DID fire; say so loudly.
      const current = (await ctx.store.getRun(run.runId)) ?? triggering;
      ctx.warn(
        `run ${run.runId} became ${current.status} while its trigger was in flight; trigger outcome: ${outcome.ok ? 'accepted' : outcome.error}`,
      );
      return { kind: 'superseded', run: current, evaluation };
    }
    if (!outcome.ok) {
      pending.push(
        makeAlert(
          'TRIGGER_FAILED',
          {
            pipeline: name,
            runId: run.runId,
            message: `trigger of ${name} failed: ${outcome.error ?? 'unknown error'}`,
            details: { trigger: outcome },
          },
          ctx.clock.now(),
        ),
      );
      return { kind: 'trigger-failed', run: after, evaluation };
    }
    return { kind: 'triggered', run: after, evaluation };
  } finally {
    await sendAlerts(ctx, pending);
  }
}
