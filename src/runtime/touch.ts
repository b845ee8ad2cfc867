// Touching a pipeline's runs: compare-and-swap moves, and timing out an overdue run when anything touches it.
import { makeAlert } from '../alert/index.js';
import { InterlockError } from '../core/errors.js';
import type { Alert, RunState, RunStatus } from '../core/types.js';
import { isOverdue, type TransitionPatch, transition } from '../engine/index.js';
import type { Context } from './context.js';

/**
 * Moves a run to `to` with compare-and-swap. Returns the stored run on success, or undefined if another process
 * moved it first (the caller re-reads). Illegal transitions throw: they are bugs, never silently ignored.
 */
export async function moveRun(
  ctx: Context,
  run: RunState,
  to: RunStatus,
  patch: TransitionPatch = {},
): Promise<RunState | undefined> {
  const t = transition(run, to, ctx.clock.now(), patch);
  if (!t.ok) throw new InterlockError('CONFLICT', t.reason, { runId: run.runId });
  const r = await ctx.store.casRun(t.run, run.version);
  return r.ok ? t.run : undefined;
}

/**
 * Turns the pipeline's active run TIMED_OUT if it is past its deadline ("the next time anything touches that
 * pipeline"), which frees the lock, and alerts. Returns the alerts to send (the caller sends them).
 */
export async function expireOverdueRun(ctx: Context, pipeline: string): Promise<Alert[]> {
  const active = await ctx.store.getActiveRun(pipeline);
  const now = ctx.clock.now();
  if (!active || !isOverdue(active, now)) return [];
  const age = Math.round((now - (active.triggeredAt ?? active.createdAt)) / 1000);
  const reason = `still ${active.status} ${age}s after ${active.triggeredAt ? 'triggering' : 'starting'}; past its deadline`;
  const moved = await moveRun(ctx, active, 'TIMED_OUT', { reason });
  if (!moved) return [];
  return [
    makeAlert(
      'RUN_TIMED_OUT',
      {
        pipeline,
        runId: active.runId,
        message: `run ${active.runId} timed out: ${reason}`,
        details: { previousStatus: active.status, ageSeconds: age },
      },
      now,
    ),
  ];
}
