// Moving a run (compare-and-swap, one run.transitioned event per stored move) and annotating it without a status
// change: the leaf every use-case that changes a run goes through (touch.ts re-exports both).
import { InterlockError } from '../core/errors.js';
import type { RunState, RunStatus } from '../core/types.js';
import {
  type AnnotationPatch,
  annotate,
  type TransitionCause,
  type TransitionPatch,
  transition,
} from '../engine/index.js';
import type { CasOptions } from '../store/index.js';
import type { Context } from './context-type.js';

/** Compare-and-swap options of a move, and why the run moves when its status alone does not say (alert rules). */
export interface MoveOptions extends CasOptions {
  cause?: TransitionCause;
}

/**
 * Moves a run to `to` with compare-and-swap. Returns the stored run on success, or undefined if another process
 * moved it first (the caller re-reads). Illegal transitions throw: they are bugs, never silently ignored.
 * Every move that is stored publishes one run.transitioned event (the one place a run's status changes).
 */
export async function moveRun(
  ctx: Context,
  run: RunState,
  to: RunStatus,
  patch: TransitionPatch = {},
  opts: MoveOptions = {},
): Promise<RunState | undefined> {
  const { cause, ...cas } = opts;
  const t = transition(run, to, ctx.clock.now(), patch);
  if (!t.ok) throw new InterlockError('CONFLICT', t.reason, { runId: run.runId });
  const r = await ctx.store.casRun(t.run, run.version, cas);
  if (!r.ok) return undefined;
  await ctx.events.publish('run.transitioned', {
    from: run.status,
    before: run,
    run: t.run,
    patch,
    ...(cause !== undefined ? { cause } : {}),
  });
  return t.run;
}

/**
 * Updates a run without changing its status (annotate), re-reading and retrying when another process changed it
 * first. Returns the stored run, or undefined when it kept changing (or is gone).
 */
export async function annotateRun(
  ctx: Context,
  run: RunState,
  patch: AnnotationPatch | ((current: RunState) => AnnotationPatch | undefined),
): Promise<RunState | undefined> {
  let current: RunState | undefined = run;
  for (let attempt = 0; attempt < 10 && current; attempt++) {
    const p = typeof patch === 'function' ? patch(current) : patch;
    if (p === undefined) return current;
    const next = annotate(current, ctx.clock.now(), p);
    if ((await ctx.store.casRun(next, current.version)).ok) return next;
    current = await ctx.store.getRun(run.runId);
  }
  return undefined;
}
