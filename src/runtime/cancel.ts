// Cancelling a run (`interlock cancel`, `POST /api/runs/{id}/cancel`).
import { InterlockError } from '../core/errors.js';
import { decideCancel } from '../engine/index.js';
import type { Context } from './context-type.js';
import { cancelPlatformJob } from './platform-runs.js';
import { getRunOrThrow, type RunChange } from './runs.js';
import { endRunWithJob, moveRun, touchActiveRun } from './touch.js';

/**
 * Cancels a non-terminal run (frees the lock). Cancelling a cancelled run is a no-op; an ended one is a CONFLICT.
 * A run whose command is running is CANCELLED only with its process group stopped first (TERM, grace, KILL), from
 * whichever process on its machine cancels; one that cannot be signalled from here (another host) becomes CANCELLED
 * with a reason saying the job may still run, and keeps the pipeline's lock until it is gone or its deadline passes.
 * A native trigger's job (Airflow DAG run) is cancelled on its platform first, with the same rule when that fails.
 */
export async function cancelRun(ctx: Context, runId: string, reason = 'cancelled by operator'): Promise<RunChange> {
  await touchActiveRun(ctx, (await getRunOrThrow(ctx, runId)).pipeline);
  for (let attempt = 0; attempt < 10; attempt++) {
    const run = await getRunOrThrow(ctx, runId);
    const d = decideCancel(run);
    if (d.kind === 'noop') return { run, changed: false };
    if (d.kind === 'conflict') throw new InterlockError('CONFLICT', d.reason, { runId, status: run.status });
    if (run.platform !== undefined && run.status === 'RUNNING') {
      // Cancel the job where it runs first: CANCELLED once the platform confirms; otherwise the run says so and
      // keeps the pipeline's lock until its deadline (the job may still run).
      const c = await cancelPlatformJob(ctx, run);
      const patch = c.ok
        ? {
            reason: `${reason}; ${run.platform.type} job ${run.platform.id} stopped (state ${c.platform.state})`,
            platform: c.platform,
          }
        : {
            reason: `${reason}; cancelling its ${run.platform.type} job ${run.platform.id} failed (${c.error}): it may still be running, so the pipeline stays locked until ${new Date(run.deadlineAt).toISOString()}`,
            lockHeldUntil: run.deadlineAt,
          };
      const moved = await moveRun(ctx, run, 'CANCELLED', patch);
      if (moved) return { run: moved, changed: true };
      continue;
    }
    const ended = await endRunWithJob(ctx, run, 'CANCELLED', reason);
    if (ended.run) return { run: ended.run, changed: true };
  }
  throw new InterlockError('CONFLICT', `run ${runId} kept changing under us; try again`, { runId });
}
