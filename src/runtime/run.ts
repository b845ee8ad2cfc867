// Use-case: run a pipeline — take the lock, evaluate afresh, trigger only on READY, record every transition.

import { InterlockError } from '../core/errors.js';
import { ulid } from '../core/ids.js';
import { missingVarsMessage } from '../core/template.js';
import type {
  DecisionSource,
  JobProcess,
  PipelineSpec,
  RunState,
  TraitResult,
  TriggerOutcome,
  TriggerSpec,
} from '../core/types.js';
import {
  afterTrigger,
  annotate,
  DEFAULT_MAX_RUN_SECONDS,
  failureCategory,
  lockState,
  newRun,
  pendingDeadline,
  type TransitionPatch,
} from '../engine/index.js';
import { waitGone } from '../proc/index.js';
import { fireTrigger, isNativeTrigger, missingTriggerVars } from '../trigger/index.js';
import { withAlerts } from './alerting.js';
import { getPipeline } from './context.js';
import type { Context } from './context-type.js';
import { type Evaluation, evaluatePipeline } from './evaluate.js';
import { reconcileOutcome } from './platform-runs.js';
import { addressPolicy, isUntrusted } from './register.js';
import { annotateRun, moveRun, touchActiveRun } from './touch.js';

export type RunResult =
  /** The trigger fired and the run is COMPLETED (sync) or RUNNING (async). */
  | { kind: 'triggered'; run: RunState; evaluation: Evaluation }
  /** The trigger fired and failed (FAILED). */
  | { kind: 'trigger-failed'; run: RunState; evaluation: Evaluation }
  /** NOT_READY: nothing fired (BLOCKED). */
  | { kind: 'blocked'; run: RunState; evaluation: Evaluation }
  /**
   * Another run holds the pipeline's lock. `stopped`: that run's command was still running past its end or deadline
   * and this call stopped it; nothing new was started (run again). `claimed` (watcher runs only): `active` is the
   * run already created under this window attempt's run key, by another replica or process; nothing fired.
   */
  | { kind: 'already-running'; active: RunState; stopped?: boolean; claimed?: boolean }
  /** Someone else moved this run on (cancelled, timed out) before the trigger: nothing fired. */
  | { kind: 'superseded'; run: RunState; evaluation?: Evaluation }
  /**
   * The trigger DID fire, but meanwhile the run was ended by someone else (a completion callback that came first,
   * a cancel, a timeout): `run` is that final state, with the trigger's own outcome recorded on it.
   */
  | { kind: 'superseded-after-trigger'; run: RunState; evaluation: Evaluation; outcome: TriggerOutcome }
  /** `signal` was aborted (server shutdown) after a READY evaluation, before the trigger: nothing fired (FAILED). */
  | { kind: 'aborted'; run: RunState; evaluation: Evaluation };

/** The schedule window a watcher run is an attempt of. */
export interface RunWindow {
  /** The window key `<pipeline>@<schedule>@<open ISO>`. */
  key: string;
  schedule: string;
  /** When the window opened (epoch ms). */
  openAt: number;
  /** The open day in the schedule's timezone, YYYY-MM-DD. */
  date: string;
  attempt: number;
  /** `<window key>#<attempt>`: the store creates at most one run under it. */
  runKey: string;
}

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
  /** Awaited at each crash-safety checkpoint of the run (crash tests stop the process there and kill it). */
  atCheckpoint?: (point: RunCheckpoint, runId: string) => void | Promise<void>;
  /** A watcher run: the attempt of this window, created under its run key (at most once, ever). */
  window?: RunWindow;
  /**
   * The watcher has just decided (and recorded) READY from unexpired results: use that evaluation instead of running
   * the evaluators again after the lock. Only a READY evaluation of the spec still registered after the lock is
   * accepted (after a reload the run evaluates afresh).
   */
  decided?: Evaluation;
  /**
   * Awaited once the run is READY, just before it moves to TRIGGERING: false = do not fire (the run ends FAILED,
   * `superseded`). The watcher claims the window here, under its lease: a replica that lost its lease, or lost the
   * race for the window, never fires.
   */
  beforeTrigger?: (run: RunState) => Promise<boolean>;
}

/** The points of a run where a crash leaves a distinct recorded state (PENDING, TRIGGERING before/after firing). */
export type RunCheckpoint = 'after-pending' | 'after-triggering' | 'after-trigger-call';

/** The pipeline's trigger, or NO_TRIGGER. */
function requireTrigger(pipeline: PipelineSpec): TriggerSpec {
  if (!pipeline.trigger) {
    throw new InterlockError(
      'NO_TRIGGER',
      `pipeline '${pipeline.name}' has no trigger to run (add a trigger: block to ${pipeline.source})`,
      { pipeline: pipeline.name },
    );
  }
  return pipeline.trigger;
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
  const trigger = requireTrigger(pipeline);
  // A trigger that would send an unset secret is refused before any run exists.
  // A manual run has no window: a trigger that needs ${INTERLOCK_WINDOW_DATE} is refused here.
  const missing = missingTriggerVars(trigger, ctx.env, opts.window);
  if (missing.length) {
    throw new InterlockError(
      'TRIGGER_ENV_MISSING',
      `trigger of '${name}' cannot fire: ${missingVarsMessage(missing, ctx.env)}`,
      { pipeline: name, missing },
    );
  }

  // Every alert raised on the way (a timed-out predecessor, the evaluation's changes, a failed trigger) is sent
  // once the run is over: a slow webhook must never delay the control action.
  return withAlerts(ctx, () => lockedRun(ctx, name, opts, pipeline));
}

/** runPipeline once the pipeline and its trigger are known to be usable: take the lock, evaluate, trigger. */
async function lockedRun(ctx: Context, name: string, opts: RunOptions, checked: PipelineSpec): Promise<RunResult> {
  let pipeline = checked;
  let trigger = requireTrigger(pipeline);
  const touch = await touchActiveRun(ctx, name);
  if (touch.stopped) {
    // The previous run's command was still running: it has just been stopped. Never start the next copy in the
    // same breath as killing the last one.
    return { kind: 'already-running', active: touch.stopped, stopped: true };
  }
  const now = ctx.clock.now();
  const fresh = newRun({
    runId: ulid(now),
    pipeline: name,
    source: opts.source,
    now,
    deadlineAt: pendingDeadline(pipeline.traits, now),
  });
  const run: RunState = opts.window
    ? { ...fresh, runKey: opts.window.runKey, window: { key: opts.window.key, attempt: opts.window.attempt } }
    : fresh;
  let created = await ctx.store.createRun(run);
  if (!created.ok && created.claimed) return { kind: 'already-running', active: created.claimed, claimed: true };
  if (!created.ok && created.active && lockState(created.active, ctx.clock.now()) !== 'active') {
    // The lock names a run that has ended (a leftover, or a hold whose job may be gone): settle it, try once more.
    const again = await touchActiveRun(ctx, name);
    if (again.stopped) return { kind: 'already-running', active: again.stopped, stopped: true };
    created = await ctx.store.createRun(run);
  }
  if (!created.ok && created.claimed) return { kind: 'already-running', active: created.claimed, claimed: true };
  if (!created.ok) return { kind: 'already-running', active: created.active as RunState };
  await ctx.events.publish('run.created', { run });
  opts.onLocked?.(run);
  await opts.atCheckpoint?.('after-pending', run.runId);

  // The spec may have changed or been deleted (DELETE /api/pipelines on another server) before the lock was
  // taken: work from what is registered now. A pipeline deleted meanwhile never triggers.
  try {
    pipeline = await getPipeline(ctx, name);
    trigger = requireTrigger(pipeline);
  } catch (err) {
    await moveRun(ctx, run, 'FAILED', {
      reason: `the pipeline changed before the run could start: ${(err as Error).message}`,
    }).catch(() => undefined);
    throw err;
  }

  // Fresh evidence: evaluate now, immediately before the compare-and-swap (unless the watcher just did, against
  // the spec registered now: a reload meanwhile may have changed the traits, so its decision would not hold).
  let evaluation: Evaluation;
  try {
    evaluation =
      opts.decided?.readiness.outcome === 'READY' && opts.decided.pipeline === pipeline
        ? opts.decided
        : await evaluatePipeline(ctx, pipeline, {
            source: opts.source,
            runId: run.runId,
            onResult: opts.onResult,
            ...(opts.signal ? { signal: opts.signal } : {}),
            ...(opts.window ? { window: opts.window } : {}),
          });
  } catch (err) {
    const recorded = await moveRun(ctx, run, 'FAILED', {
      reason: `evaluation failed: ${(err as Error).message}`,
    }).catch(() => undefined);
    if (!recorded) {
      // The store is gone too: the run stays PENDING and keeps the lock until its deadline or a cancel. Say so.
      ctx.log.warn(
        `run ${run.runId} could not be marked FAILED and stays PENDING (holding the lock) until ${new Date(run.deadlineAt).toISOString()} or 'interlock cancel ${run.runId}'; nothing was triggered`,
      );
    }
    throw err;
  }
  // The evaluation's alerts (evaluation.decided) are claimed now and sent after the trigger (withAlerts).
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

  // A config reload during the evaluation may have made this pipeline INVALID: it must not fire on the old spec.
  const invalidNow = ctx.project.invalid.get(name);
  if (invalidNow && pipeline.source !== 'api') {
    const failed = await moveRun(ctx, run, 'FAILED', {
      reason: `the pipeline became INVALID (config reload) before the trigger fired: ${invalidNow.problems[0]?.message ?? 'see interlock validate'}`,
      decisionId,
    });
    return { kind: 'superseded', run: failed ?? (await ctx.store.getRun(run.runId)) ?? run, evaluation };
  }

  let proceed = true;
  if (opts.beforeTrigger) {
    try {
      proceed = await opts.beforeTrigger(run);
    } catch (err) {
      // The claim could not be made (or its answer was lost): never fire on it; end the run (freeing the lock) so
      // its window can settle this attempt at once instead of waiting for the run's deadline.
      await moveRun(ctx, run, 'FAILED', {
        reason: `superseded before the trigger fired: the window could not be claimed: ${(err as Error).message}`,
        decisionId,
      }).catch(() => undefined);
      throw err;
    }
  }
  if (!proceed) {
    const failed = await moveRun(ctx, run, 'FAILED', {
      reason: 'superseded before the trigger fired: the window was claimed elsewhere or this watcher lost its lease',
      decisionId,
    });
    return { kind: 'superseded', run: failed ?? (await ctx.store.getRun(run.runId)) ?? run, evaluation };
  }

  const maxRunSeconds = trigger.maxRunSeconds ?? DEFAULT_MAX_RUN_SECONDS;
  const triggering = await moveRun(ctx, run, 'TRIGGERING', {
    decisionId,
    deadlineAt: ctx.clock.now() + maxRunSeconds * 1000,
    triggerType: trigger.type,
  });
  if (!triggering) return { kind: 'superseded', run: (await ctx.store.getRun(run.runId)) ?? run, evaluation };
  try {
    opts.onTriggering?.(triggering, evaluation);
  } catch {
    // A listener must not stop a trigger the run has already committed to.
  }
  await opts.atCheckpoint?.('after-triggering', run.runId);

  // A command's process group is recorded on the run as soon as it runs, so a cancel or timeout from any process
  // on this machine can stop it. If the run was ended before that record (cancelled meanwhile), the command is
  // stopped here at once: it must not run on unrecorded.
  // Cancelled (or timed out) between the compare-and-swap and here: fire nothing.
  const stillOurs = await ctx.store.getRun(run.runId);
  if (stillOurs?.status !== 'TRIGGERING' || stillOurs.version !== triggering.version) {
    return { kind: 'superseded', run: stillOurs ?? triggering, evaluation };
  }
  let current = triggering;
  let ownJob: JobProcess | undefined;
  let recording: Promise<void> | undefined;
  const stopCommand = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stopCommand.signal]) : stopCommand.signal;
  const runKey = opts.window?.runKey ?? run.runId;
  let outcome: TriggerOutcome = await fireTrigger(trigger, {
    projectDir: ctx.project.root,
    pipeline: name,
    runId: run.runId,
    // Platforms deduplicate on the run key: the window attempt's (stable across replicas), else the run id.
    runKey,
    ...(opts.window ? { window: opts.window } : {}),
    env: ctx.env,
    signal,
    onStart: (job) => {
      ownJob = job;
      recording = (async () => {
        const next = annotate(current, ctx.clock.now(), { job });
        const r = await ctx.store.casRun(next, current.version).catch((err: unknown) => {
          ctx.log.warn(`run ${run.runId}: could not record its command's process: ${(err as Error).message}`);
          return undefined;
        });
        if (r?.ok) current = next;
        // Never let a command run unrecorded (a cancel could not stop it): a lost race or a failed write stops it.
        else
          stopCommand.abort(
            new Error(r ? 'the run ended before its command could be recorded' : 'its command could not be recorded'),
          );
      })();
    },
    // Registered over HTTP: the http trigger's host is resolved and checked again now, and pinned.
    ...(isUntrusted(ctx, pipeline) ? { addressPolicy: addressPolicy(ctx) } : {}),
  });
  await recording;
  await opts.atCheckpoint?.('after-trigger-call', run.runId);

  // Every failure gets the category retries go by (a trigger may have set it already: a refused definition).
  if (!outcome.ok) outcome.category ??= failureCategory(outcome);
  // Sent and no answer (a timeout, a lost connection): ask the platform by the run key before anything else, so the
  // run adopts the job it started, or knows that none started (retryable), instead of staying UNKNOWN.
  if (!outcome.ok && outcome.category === 'UNKNOWN' && isNativeTrigger(trigger))
    outcome = await reconcileOutcome(trigger, outcome, {
      pipeline: name,
      runId: run.runId,
      runKey,
      ...(opts.window ? { window: opts.window } : {}),
      env: ctx.env,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(isUntrusted(ctx, pipeline) ? { addressPolicy: addressPolicy(ctx) } : {}),
      since: triggering.triggeredAt ?? triggering.updatedAt,
    });
  const next = afterTrigger(outcome);
  const patch: TransitionPatch = { trigger: outcome };
  // The request went out and no answer came: FAILED, but the job may be running. Recorded, alerted, never retried.
  if (outcome.category === 'UNKNOWN') patch.outcome = 'UNKNOWN';
  // A native trigger's job (created or adopted): the run records its id, polled to its end and cancelled there.
  if (outcome.ok && isNativeTrigger(trigger) && outcome.platformRunId !== undefined) {
    patch.platform = {
      type: trigger.type,
      id: outcome.platformRunId,
      ...(outcome.platformState !== undefined ? { state: outcome.platformState } : {}),
      polledAt: ctx.clock.now(),
      ...(outcome.apiVersion !== undefined ? { apiVersion: outcome.apiVersion } : {}),
    };
  }
  if (next.reason !== undefined) patch.reason = next.reason;
  if (!outcome.ok && opts.signal?.aborted) patch.reason = `${abortReason(opts.signal)}; ${next.reason ?? ''}`;
  const after = await moveRun(ctx, current, next.to, patch);
  if (!after) {
    // Completed by a callback, cancelled or timed out while the trigger was in flight: the trigger DID fire. Keep
    // its own outcome on the run, and drop a lock the run kept for its command, which has ended now.
    const stored = (await ctx.store.getRun(run.runId)) ?? current;
    // This process started the command and saw it end (its group was killed on exit): judge by that, not by
    // the stored record (another process may have rewritten it).
    // Its processes were SIGKILLed as it ended; give the kernel a moment to finish them. Only a group still seen
    // alive keeps the hold ('unknown' here means no /proc to look in; the group was killed all the same).
    const jobGone = ownJob === undefined || (await waitGone(ownJob, 1000)) !== 'alive';
    const recorded = await annotateRun(ctx, stored, (cur) => ({
      trigger: outcome,
      ...(cur.lockHeldUntil !== undefined && jobGone ? { lockHeldUntil: null } : {}),
    })).catch(() => undefined);
    const final = recorded ?? stored;
    ctx.log.warn(
      `run ${run.runId} became ${final.status} while its trigger was in flight; trigger outcome: ${outcome.ok ? 'accepted' : outcome.error}`,
    );
    return { kind: 'superseded-after-trigger', run: final, evaluation, outcome };
  }
  // A failed trigger raises TRIGGER_FAILED (run.transitioned with its outcome).
  if (!outcome.ok) return { kind: 'trigger-failed', run: after, evaluation };
  return { kind: 'triggered', run: after, evaluation };
}
