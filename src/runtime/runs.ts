// Reading runs (by id, a pipeline's recent runs and transitions), with the pipeline's overdue run timed out first.
import { InterlockError } from '../core/errors.js';
import type { RunEvent, RunState } from '../core/types.js';
import { getPipeline } from './context.js';
import type { Context } from './context-type.js';
import { touchActiveRun } from './touch.js';

export interface RunChange {
  run: RunState;
  /** false when the request was a no-op (same terminal status again). */
  changed: boolean;
}

/** The run with that id, or RUN_NOT_FOUND. */
export async function getRunOrThrow(ctx: Context, runId: string): Promise<RunState> {
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

/** A run by id, after timing out its pipeline's overdue run. */
export async function getRunState(ctx: Context, runId: string): Promise<RunState> {
  const run = await getRunOrThrow(ctx, runId);
  await touchActiveRun(ctx, run.pipeline);
  return getRunOrThrow(ctx, runId);
}

/** Recent runs of a pipeline, newest first. */
export async function listRuns(
  ctx: Context,
  name: string,
  opts: { limit?: number; before?: number } = {},
): Promise<RunState[]> {
  const p = await getPipeline(ctx, name);
  await touchActiveRun(ctx, p.name);
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
