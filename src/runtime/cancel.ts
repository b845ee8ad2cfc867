// Cancelling a run (`interlock cancel`, `POST /api/runs/{id}/cancel`).
import { InterlockError } from '../core/errors.js';
import { decideCancel } from '../engine/index.js';
import type { Context } from './context-type.js';
import { getRunOrThrow, type RunChange } from './runs.js';
import { endRunWithJob, touchActiveRun } from './touch.js';

/**
 * Cancels a non-terminal run (frees the lock). Cancelling a cancelled run is a no-op; an ended one is a CONFLICT.
 * A run whose command is running is CANCELLED only with its process group stopped first (TERM, grace, KILL), from
 * whichever process on its machine cancels; one that cannot be signalled from here (another host) becomes CANCELLED
 * with a reason saying the job may still run, and keeps the pipeline's lock until it is gone or its deadline passes.
 */
export async function cancelRun(ctx: Context, runId: string, reason = 'cancelled by operator'): Promise<RunChange> {
  await touchActiveRun(ctx, (await getRunOrThrow(ctx, runId)).pipeline);
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
