// Use-cases on an existing run: completion callback, cancel, and reading runs (with overdue runs timed out first).
import { InterlockError } from '../core/errors.js';
import type { RunEvent, RunState } from '../core/types.js';
import { type CompletionDecision, decideCancel, decideCompletion } from '../engine/index.js';
import { withAlerts } from './alerting.js';
import type { Context } from './context.js';
import { getPipeline } from './context.js';
import { endRunWithJob, expireOverdueRun, moveRun } from './touch.js';

export interface RunChange {
  run: RunState;
  /** false when the request was a no-op (same terminal status again). */
  changed: boolean;
}

/** Max size of completion metadata, serialized. */
export const MAX_METADATA_BYTES = 64 * 1024;

async function getRunOrThrow(ctx: Context, runId: string): Promise<RunState> {
  const run = await ctx.store.getRun(runId);
  if (!run) {
    // A run id the caller was given but the store does not know: a typo, another store or keyPrefix, or a store
    // that lost its data (Redis flushed, evicted or restarted without persistence) — say so, it is not harmless.
    throw new InterlockError(
      'RUN_NOT_FOUND',
      `unknown run '${runId}': the store has no such run (a wrong id, another store or keyPrefix, or the store lost it: Redis flushed, evicting keys or restarted without persistence)`,
      { runId },
    );
  }
  return run;
}

/** Applies a decision with CAS, re-reading and re-deciding if another process moved the run first. */
async function applyDecision(
  ctx: Context,
  runId: string,
  decide: (run: RunState) => CompletionDecision,
  patch: (run: RunState) => Parameters<typeof moveRun>[3],
): Promise<RunChange> {
  await expireOverdueRun(ctx, (await getRunOrThrow(ctx, runId)).pipeline);
  for (let attempt = 0; attempt < 10; attempt++) {
    const run = await getRunOrThrow(ctx, runId);
    const d = decide(run);
    if (d.kind === 'noop') return { run, changed: false };
    if (d.kind === 'conflict') throw new InterlockError('CONFLICT', d.reason, { runId, status: run.status });
    const moved = await moveRun(ctx, run, d.to, patch(run), { cause: 'completion-callback' });
    if (moved) return { run: moved, changed: true };
  }
  throw new InterlockError('CONFLICT', `run ${runId} kept changing under us; try again`, { runId });
}

/**
 * Completion callback (`interlock complete`, `POST /api/runs/{id}/complete`): success → COMPLETED, failed → FAILED.
 * The same terminal status again is a no-op success; a conflicting one is refused (CONFLICT) and changes nothing.
 */
export async function completeRun(
  ctx: Context,
  runId: string,
  status: 'success' | 'failed',
  metadata?: Record<string, unknown>,
): Promise<RunChange> {
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new InterlockError('USAGE', 'metadata must be a JSON object');
    }
    if (Buffer.byteLength(JSON.stringify(metadata)) > MAX_METADATA_BYTES) {
      throw new InterlockError('USAGE', `metadata is larger than ${MAX_METADATA_BYTES / 1024} KiB`);
    }
  }
  // A failed callback raises RUN_FAILED (run.transitioned), sent once the change is stored.
  return withAlerts(ctx, () =>
    applyDecision(
      ctx,
      runId,
      (run) => decideCompletion(run, status),
      () => ({
        metadata,
        reason: status === 'success' ? 'completion callback: success' : 'completion callback: failed',
      }),
    ),
  );
}

/**
 * Cancels a non-terminal run (frees the lock). Cancelling a cancelled run is a no-op; an ended one is a CONFLICT.
 * A run whose command is running is CANCELLED only with its process group stopped first (TERM, grace, KILL), from
 * whichever process on its machine cancels; one that cannot be signalled from here (another host) becomes CANCELLED
 * with a reason saying the job may still run, and keeps the pipeline's lock until it is gone or its deadline passes.
 */
export async function cancelRun(ctx: Context, runId: string, reason = 'cancelled by operator'): Promise<RunChange> {
  await expireOverdueRun(ctx, (await getRunOrThrow(ctx, runId)).pipeline);
  for (let attempt = 0; attempt < 10; attempt++) {
    const run = await getRunOrThrow(ctx, runId);
    const d = decideCancel(run);
    if (d.kind === 'noop') return { run, changed: false };
    if (d.kind === 'conflict') throw new InterlockError('CONFLICT', d.reason, { runId, status: run.status });
    const ended = await endRunWithJob(ctx, run, 'CANCELLED', reason);
    if (ended.run) return { run: ended.run, changed: true };
  }
  throw new InterlockError('CONFLICT', `run ${runId} kept changing under us; try again`, { runId });
}

/** A run by id, after timing out its pipeline's overdue run. */
export async function getRunState(ctx: Context, runId: string): Promise<RunState> {
  const run = await getRunOrThrow(ctx, runId);
  await expireOverdueRun(ctx, run.pipeline);
  return getRunOrThrow(ctx, runId);
}

/** Recent runs of a pipeline, newest first. */
export async function listRuns(
  ctx: Context,
  name: string,
  opts: { limit?: number; before?: number } = {},
): Promise<RunState[]> {
  const p = await getPipeline(ctx, name);
  await expireOverdueRun(ctx, p.name);
  return ctx.store.listRuns(p.name, opts);
}

/** Run transitions of a pipeline, newest first. */
export async function listRunEvents(
  ctx: Context,
  name: string,
  opts: { limit?: number; before?: number } = {},
): Promise<RunEvent[]> {
  const p = await getPipeline(ctx, name);
  return ctx.store.listRunEvents(p.name, opts);
}
