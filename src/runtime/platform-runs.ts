// Native triggers' jobs after the trigger: poll a RUNNING run's platform state to its end (no callback needed),
// cancel the job on its platform, and reconcile by the run key: after an UNKNOWN outcome, or a run left TRIGGERING by
// a process that died between its request and its record, the platform is asked whether the job exists (found →
// adopted; not found → the attempt failed cleanly and may be retried), never fired again blindly.
import { isTerminal } from '../core/run-status.js';
import type { NativeTriggerSpec, PipelineSpec, PlatformRun, RunState, TriggerOutcome } from '../core/types.js';
import {
  DEFAULT_POLL_SECONDS,
  type FindContext,
  isNativeTrigger,
  nativeTrigger,
  type PlatformAnswer,
  type PlatformContext,
} from '../trigger/index.js';
import { withAlerts } from './alerting.js';
import { getPipeline } from './context.js';
import type { Context } from './context-type.js';
import { annotateRun, moveRun } from './moves.js';
import { addressPolicy, isUntrusted } from './register.js';

/** What one refresh of a run did. */
export interface RefreshResult {
  run: RunState;
  /** The platform was asked (false: not a RUNNING native run, or its poll was not due). */
  polled: boolean;
  /** The run moved to a terminal status because of the answer. */
  changed: boolean;
  /** Why the platform could not say (the run stays RUNNING). */
  error?: string;
}

/** The run's pipeline's native trigger, when it is still the kind that started the job. */
async function platformTrigger(
  ctx: Context,
  run: RunState,
): Promise<{ ok: true; spec: NativeTriggerSpec; pipeline: PipelineSpec } | { ok: false; error: string }> {
  let pipeline: PipelineSpec;
  try {
    pipeline = await getPipeline(ctx, run.pipeline);
  } catch (err) {
    return { ok: false, error: `cannot reach its ${run.platform?.type} job: ${(err as Error).message}` };
  }
  const spec = pipeline.trigger;
  if (!isNativeTrigger(spec) || spec.type !== run.platform?.type) {
    return {
      ok: false,
      error: `the pipeline's trigger is no longer ${run.platform?.type}: its job ${run.platform?.id} cannot be reached from here`,
    };
  }
  return { ok: true, spec, pipeline };
}

function platformContext(ctx: Context, run: RunState, pipeline: PipelineSpec, signal?: AbortSignal): PlatformContext {
  return {
    pipeline: run.pipeline,
    runId: run.runId,
    runKey: run.runKey ?? run.runId,
    env: ctx.env,
    ...(signal ? { signal } : {}),
    ...(isUntrusted(ctx, pipeline) ? { addressPolicy: addressPolicy(ctx) } : {}),
  };
}

/**
 * A native trigger's UNKNOWN outcome after asking its platform by the run key (`find`): found → the job is adopted
 * (ok, `reconciled`, its id and state); not found → a clean failure (TRANSIENT: retryable by policy); no answer, or
 * a platform that cannot be asked (Lambda) → still UNKNOWN, never retried. Any other outcome is returned as it is.
 */
export async function reconcileOutcome(
  spec: NativeTriggerSpec,
  outcome: TriggerOutcome,
  ctx: FindContext,
): Promise<TriggerOutcome> {
  if (outcome.ok || outcome.category !== 'UNKNOWN') return outcome;
  const impl = await nativeTrigger(spec.type);
  if (impl.find === undefined) return outcome;
  const found = await impl.find(spec, ctx.runKey ?? ctx.runId, ctx).catch((err: unknown) => ({
    ok: false as const,
    error: `internal error: ${(err as Error).message}`,
  }));
  if (!found.ok)
    return {
      ...outcome,
      error: `${outcome.error ?? 'no answer'}; asking ${spec.type} by the run key failed too: ${found.error}`,
    };
  if (!found.found)
    return {
      ...outcome,
      category: 'TRANSIENT',
      reconciled: true,
      error: `${outcome.error ?? 'no answer'}; ${spec.type} has no job for the run key ${ctx.runKey ?? ctx.runId}: nothing started (retryable)`,
    };
  const { error: _error, category: _category, requestSent: _sent, ...rest } = outcome;
  return {
    ...rest,
    ok: true,
    reconciled: true,
    adopted: true,
    platformRunId: found.id,
    ...(found.state !== undefined ? { platformState: found.state } : {}),
    ...(found.apiVersion !== undefined ? { apiVersion: found.apiVersion } : {}),
  };
}

/**
 * How long after its trigger a run may stay TRIGGERING before its firing process is taken for dead: ten of the
 * trigger's call timeouts (a fire makes a few calls, and a find after an UNKNOWN outcome more) and a minute.
 */
export function staleTriggeringMs(spec: NativeTriggerSpec): number {
  const perCall = (typeof spec.timeout === 'number' && spec.timeout > 0 ? spec.timeout : 30) * 1000;
  return perCall * 10 + 60_000;
}

/** A TRIGGERING run of a native trigger (not Lambda: it cannot be asked) whose firing process is overdue. */
function staleTriggering(ctx: Context, run: RunState, spec: NativeTriggerSpec): boolean {
  return (
    run.status === 'TRIGGERING' &&
    run.triggerType === spec.type &&
    spec.type !== 'lambda' &&
    ctx.clock.now() >= (run.triggeredAt ?? run.updatedAt) + staleTriggeringMs(spec)
  );
}

/**
 * The crash between request and record: a run TRIGGERING long past any fire's time. The platform is asked by the
 * run key: found → RUNNING with the job adopted (then polled to its end); not found → FAILED, retryable (nothing
 * started); no answer → unchanged (asked again next time). A firing process that was only slow loses the
 * compare-and-swap and keeps its own outcome on the run (the superseded-after-trigger path), never a second job.
 */
async function reconcileTriggering(
  ctx: Context,
  run: RunState,
  spec: NativeTriggerSpec,
  pipeline: PipelineSpec,
  signal?: AbortSignal,
): Promise<RefreshResult> {
  const lost: TriggerOutcome = {
    type: spec.type,
    ok: false,
    async: spec.type !== 'lambda',
    durationMs: 0,
    requestSent: true,
    category: 'UNKNOWN',
    error: `the run stayed TRIGGERING past ${staleTriggeringMs(spec) / 1000}s: its trigger's outcome was never recorded (the firing process died?)`,
  };
  const outcome = await reconcileOutcome(spec, lost, {
    ...platformContext(ctx, run, pipeline, signal),
    since: run.triggeredAt ?? run.updatedAt,
  });
  if (outcome.category === 'UNKNOWN') return { run, polled: true, changed: false, error: outcome.error };
  const now = ctx.clock.now();
  const moved = await withAlerts(ctx, () =>
    outcome.ok
      ? moveRun(ctx, run, 'RUNNING', {
          trigger: outcome,
          reason: `reconciled: ${spec.type} job ${outcome.platformRunId} found by the run key and adopted`,
          platform: {
            type: spec.type,
            id: outcome.platformRunId as string,
            ...(outcome.platformState !== undefined ? { state: outcome.platformState } : {}),
            polledAt: now,
            ...(outcome.apiVersion !== undefined ? { apiVersion: outcome.apiVersion } : {}),
          },
        })
      : moveRun(ctx, run, 'FAILED', { trigger: outcome, reason: `trigger failed: ${outcome.error}` }),
  );
  if (moved) return { run: moved, polled: true, changed: true };
  return { run: (await ctx.store.getRun(run.runId)) ?? run, polled: true, changed: false };
}

/** When the run's platform state is next due to be polled (epoch ms). */
export function nextPollAt(run: RunState, pollSeconds: number | undefined): number {
  const last = run.platform?.polledAt ?? run.triggeredAt ?? run.updatedAt;
  return last + (pollSeconds ?? DEFAULT_POLL_SECONDS) * 1000;
}

/**
 * Polls a RUNNING native run's job (when its `poll` interval has passed since the last poll, or with `force`) and
 * ends the run as the platform says: success → COMPLETED, failed → FAILED; still queued or running → stays RUNNING
 * with the state recorded. A platform that cannot answer changes nothing but the time of the poll. A callback that
 * came first wins (the compare-and-swap fails and the stored run is returned).
 */
export async function refreshRun(
  ctx: Context,
  run: RunState,
  opts: { force?: boolean; signal?: AbortSignal } = {},
): Promise<RefreshResult> {
  const job = run.platform;
  if (run.status === 'TRIGGERING' && run.triggerType !== undefined && job === undefined) {
    const pipeline = await getPipeline(ctx, run.pipeline).catch(() => undefined);
    const spec = pipeline?.trigger;
    if (pipeline && isNativeTrigger(spec) && staleTriggering(ctx, run, spec))
      return reconcileTriggering(ctx, run, spec, pipeline, opts.signal);
    return { run, polled: false, changed: false };
  }
  if (run.status !== 'RUNNING' || job === undefined) return { run, polled: false, changed: false };
  const found = await platformTrigger(ctx, run);
  if (!found.ok) return { run, polled: false, changed: false, error: found.error };
  const impl = await nativeTrigger(found.spec.type);
  if (!opts.force && ctx.clock.now() < nextPollAt(run, impl.pollSeconds(found.spec)))
    return { run, polled: false, changed: false };
  const answer = await impl.poll(found.spec, job, platformContext(ctx, run, found.pipeline, opts.signal));
  return withAlerts(ctx, () => applyAnswer(ctx, run, job, answer));
}

async function applyAnswer(ctx: Context, run: RunState, job: PlatformRun, answer: PlatformAnswer) {
  const now = ctx.clock.now();
  if (!answer.ok) {
    ctx.log.warn(`run ${run.runId}: polling its ${job.type} job ${job.id} failed: ${answer.error}`);
    const stored = await annotateRun(ctx, run, (cur) =>
      cur.status === 'RUNNING' ? { platform: { ...job, polledAt: now } } : undefined,
    ).catch(() => undefined);
    return { run: stored ?? run, polled: true, changed: false, error: answer.error };
  }
  const platform: PlatformRun = { ...job, state: answer.state, polledAt: now };
  if (answer.status === 'RUNNING') {
    const stored = await annotateRun(ctx, run, (cur) => (cur.status === 'RUNNING' ? { platform } : undefined));
    return { run: stored ?? run, polled: true, changed: false };
  }
  const reason = `${job.type} job ${job.id} ended ${answer.state} (polled)`;
  const moved = await moveRun(ctx, run, answer.status, { reason, platform }, { cause: 'platform-poll' });
  if (moved) return { run: moved, polled: true, changed: true };
  // Moved by someone else first (a callback, a cancel, a timeout): theirs stands.
  return { run: (await ctx.store.getRun(run.runId)) ?? run, polled: true, changed: false };
}

/** Refreshes the active run of each pipeline named (default: every pipeline) that is a RUNNING native run. */
export async function refreshRuns(
  ctx: Context,
  pipelines: readonly string[],
  opts: { force?: boolean; signal?: AbortSignal } = {},
): Promise<RefreshResult[]> {
  const out: RefreshResult[] = [];
  for (const name of pipelines) {
    const active = await ctx.store.getActiveRun(name);
    if ((active?.status === 'RUNNING' && active.platform) || active?.status === 'TRIGGERING')
      out.push(await refreshRun(ctx, active, opts));
  }
  return out;
}

/** Cancels a native run's job on its platform. ok: the platform confirmed; otherwise why not. */
export async function cancelPlatformJob(
  ctx: Context,
  run: RunState,
): Promise<{ ok: true; platform: PlatformRun } | { ok: false; error: string }> {
  const job = run.platform;
  if (job === undefined || isTerminal(run.status)) return { ok: false, error: 'no platform job to cancel' };
  const found = await platformTrigger(ctx, run);
  if (!found.ok) return found;
  const impl = await nativeTrigger(found.spec.type);
  const answer = await impl.cancel(found.spec, job, platformContext(ctx, run, found.pipeline));
  if (!answer.ok) return { ok: false, error: answer.error };
  return { ok: true, platform: { ...job, state: answer.state, polledAt: ctx.clock.now() } };
}
