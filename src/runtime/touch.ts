// Touching a pipeline's runs: compare-and-swap moves, and timing out an overdue run when anything touches it.
import { makeAlert } from '../alert/index.js';
import { InterlockError } from '../core/errors.js';
import type { Alert, RunState, RunStatus } from '../core/types.js';
import { isOverdue, type TransitionPatch, transition } from '../engine/index.js';
import type { CasOptions } from '../store/index.js';
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
  cas: CasOptions = {},
): Promise<RunState | undefined> {
  const t = transition(run, to, ctx.clock.now(), patch);
  if (!t.ok) throw new InterlockError('CONFLICT', t.reason, { runId: run.runId });
  const r = await ctx.store.casRun(t.run, run.version, cas);
  return r.ok ? t.run : undefined;
}

/** The pipeline's lock after a touch: alerts to send, and the run still holding the lock (if any). */
export interface Touch {
  alerts: Alert[];
  active?: RunState;
}

/**
 * Reads the pipeline's active run and turns it TIMED_OUT if it is past its deadline ("the next time anything touches
 * that pipeline"), which frees the lock, with a RUN_TIMED_OUT alert for the caller to send.
 */
export async function touchActiveRun(ctx: Context, pipeline: string): Promise<Touch> {
  const active = await ctx.store.getActiveRun(pipeline);
  const now = ctx.clock.now();
  if (!active || !isOverdue(active, now)) return active ? { alerts: [], active } : { alerts: [] };
  const age = Math.round((now - (active.triggeredAt ?? active.createdAt)) / 1000);
  const reason = `still ${active.status} ${age}s after ${active.triggeredAt ? 'triggering' : 'starting'}; past its deadline`;
  // The store re-checks the deadline on its own clock (Redis: the server's), so a host whose clock runs ahead
  // cannot time out a run that is still within its time; then this is refused like a lost race.
  const moved = await moveRun(ctx, active, 'TIMED_OUT', { reason }, { ifOverdue: true });
  if (!moved) {
    // Another process moved it first: report whatever holds the lock now.
    const current = await ctx.store.getActiveRun(pipeline);
    return current ? { alerts: [], active: current } : { alerts: [] };
  }
  const alert = makeAlert(
    'RUN_TIMED_OUT',
    {
      pipeline,
      runId: active.runId,
      message: `run ${active.runId} timed out: ${reason}`,
      details: { previousStatus: active.status, ageSeconds: age },
    },
    now,
  );
  return { alerts: [alert] };
}

/** touchActiveRun, for callers that only need the alerts. */
export async function expireOverdueRun(ctx: Context, pipeline: string): Promise<Alert[]> {
  return (await touchActiveRun(ctx, pipeline)).alerts;
}
