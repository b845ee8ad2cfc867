// The completion callback on an existing run (`interlock complete`, `POST /api/runs/{id}/complete`).
import { InterlockError } from '../core/errors.js';
import type { RunState } from '../core/types.js';
import { type CompletionDecision, decideCompletion } from '../engine/index.js';
import { withAlerts } from './alerting.js';
import type { Context } from './context-type.js';
import { getRunOrThrow, type RunChange } from './runs.js';
import { moveRun, touchActiveRun } from './touch.js';

/** Max size of completion metadata, serialized. */
export const MAX_METADATA_BYTES = 64 * 1024;

/** Applies a decision with CAS, re-reading and re-deciding if another process moved the run first. */
async function applyDecision(
  ctx: Context,
  runId: string,
  decide: (run: RunState) => CompletionDecision,
  patch: (run: RunState) => Parameters<typeof moveRun>[3],
): Promise<RunChange> {
  await touchActiveRun(ctx, (await getRunOrThrow(ctx, runId)).pipeline);
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
