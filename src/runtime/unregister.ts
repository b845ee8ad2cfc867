// Removing a pipeline registered over the API (DELETE /api/pipelines/{id}). Apart from registration (register.ts)
// because it settles the pipeline's lock first (touch.ts), which itself reaches the registration rules.
import { InterlockError } from '../core/errors.js';
import type { InvalidPipeline, PipelineSpec } from '../core/types.js';
import type { Context } from './context-type.js';
import { checkStoredPipeline } from './register.js';
import { touchActiveRun } from './touch.js';

/**
 * Removes a pipeline registered over the API (DELETE /api/pipelines/{id}); its history stays in the store.
 * A YAML-defined one → CONFLICT; unknown → PIPELINE_NOT_FOUND; one with a run in progress → CONFLICT.
 */
export async function unregisterPipeline(ctx: Context, name: string): Promise<PipelineSpec | InvalidPipeline> {
  const yaml = ctx.project.pipelines.get(name) ?? ctx.project.invalid.get(name);
  if (yaml) {
    throw new InterlockError(
      'CONFLICT',
      `pipeline '${name}' is defined in ${yaml.source}; YAML-defined pipelines cannot be deleted through the API`,
      { pipeline: name },
    );
  }
  const entry = await ctx.store.getPipeline(name);
  if (!entry) throw new InterlockError('PIPELINE_NOT_FOUND', `unknown pipeline '${name}'`, { pipeline: name });
  // An INVALID entry can be deleted too (that is how it is cleaned up).
  const checked = checkStoredPipeline(ctx, entry);
  // Settle the lock first (an overdue run times out, a leftover lock is released), then delete atomically with the
  // lock check: a run on another server either holds the lock (refused here) or starts after and finds no spec.
  await touchActiveRun(ctx, name);
  const deleted = await ctx.store.deletePipeline(name);
  if (!deleted.ok) {
    const active = deleted.active;
    throw new InterlockError(
      'CONFLICT',
      `pipeline '${name}' has a run in progress (${active.runId}, ${active.status}); cancel it first`,
      { pipeline: name, runId: active.runId },
    );
  }
  if (!deleted.deleted)
    throw new InterlockError('PIPELINE_NOT_FOUND', `unknown pipeline '${name}'`, { pipeline: name });
  return checked.ok ? checked.spec : checked.invalid;
}
