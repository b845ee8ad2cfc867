// Touching a pipeline's runs: timing out an overdue run when anything touches it (stopping its command first, and
// cancelling its platform job), and the lock of a run that ended: released when stale, kept while its command may
// still run. Moves themselves are in moves.ts.
import type { RunState } from '../core/types.js';
import { isOverdue, lockState } from '../engine/index.js';
import { describeWhere, type JobState, jobState, stopJob } from '../proc/index.js';
import type { CasOptions } from '../store/index.js';
import { withAlerts } from './alerting.js';
import type { Context } from './context-type.js';
import { annotateRun, moveRun } from './moves.js';

export { annotateRun, type MoveOptions, moveRun } from './moves.js';

/** The pipeline's lock after a touch: the run still holding the lock (if any). */
export interface Touch {
  active?: RunState;
  /**
   * Set when this touch found the run's command still running past the run's end or deadline and stopped it: the
   * caller must not start a new run in the same breath (the old job has only just gone).
   */
  stopped?: RunState;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Words for what is known of a run's command after trying to stop it. */
function jobNote(run: RunState, state: JobState, holdUntil: number): string {
  const where = run.job ? describeWhere(run.job) : 'its process';
  if (state === 'gone') return `its command (${where}) is not running`;
  const why =
    state === 'unknown' ? 'it cannot be checked or signalled from this host' : 'it did not stop on SIGTERM/SIGKILL';
  return `the command may still be running (${where}: ${why}); the pipeline stays locked until it is gone or until ${iso(holdUntil)}`;
}

/**
 * Ends a run whose command is (or may be) still running, without ever freeing the lock while the command lives: the
 * run moves to `to` keeping the lock (lockHeldUntil = its deadline), the command's process group is stopped (TERM,
 * grace, KILL), then the hold is dropped once the group is gone. A command that cannot be signalled (another host)
 * keeps the lock until the run's deadline (maxRunSeconds) or until a process on its host sees it gone.
 * Returns the stored run (or undefined when another process moved it first) and what is known of the command.
 */
export async function endRunWithJob(
  ctx: Context,
  run: RunState,
  to: 'CANCELLED' | 'TIMED_OUT',
  reason: string,
  cas: CasOptions = {},
): Promise<{ run?: RunState; state: JobState }> {
  const job = run.job;
  if (!job) {
    const moved = await moveRun(ctx, run, to, { reason }, cas);
    return moved ? { run: moved, state: 'gone' } : { state: 'gone' };
  }
  const holdUntil = run.deadlineAt;
  const ended = await moveRun(ctx, run, to, { reason, lockHeldUntil: holdUntil }, cas);
  if (!ended) return { state: jobState(job) };
  const state = await stopJob(job);
  const note = jobNote(run, state, holdUntil);
  const releasable = state === 'gone' || (state === 'unknown' && ctx.clock.now() >= holdUntil);
  // The owner, seeing its command end, may have dropped the hold already: then only the reason is added.
  const stored = await annotateRun(ctx, ended, (cur) => ({
    reason: `${reason}; ${note}`,
    ...(releasable && cur.lockHeldUntil !== undefined ? { lockHeldUntil: null } : {}),
  }));
  return { run: stored ?? ended, state };
}

/**
 * The lock of a run that has ended: a stale one (the run never meant to keep it) is released with a warning; a held
 * one (its command may still run) is released once the command is seen gone here, or its hold time has passed and
 * nothing here says it is alive; a command found alive on this machine is stopped first.
 */
async function touchEndedRun(ctx: Context, pipeline: string, active: RunState, now: number): Promise<Touch> {
  const state = lockState(active, now);
  if (state === 'stale') {
    if (await ctx.store.releaseLock(pipeline, active.runId, active.version)) {
      ctx.log.warn(
        `the lock of ${pipeline} named run ${active.runId}, which had already ended ${active.status}; released it`,
      );
    }
    return touchAgain(ctx, pipeline);
  }
  const job = active.job;
  // A platform job (Airflow DAG run) whose cancel failed cannot be seen from here: held until the hold expires.
  let js: JobState = job ? jobState(job) : active.platform !== undefined ? 'unknown' : 'gone';
  let stopped = false;
  if (job && js === 'alive') {
    // Whoever ended the run did not get to stop its command (it crashed, or the command ignored it): do it now.
    js = await stopJob(job);
    stopped = true;
  }
  const releasable = js === 'gone' || (js === 'unknown' && state === 'hold-expired');
  if (!releasable) return { active };
  const released = await annotateRun(ctx, active, (cur) =>
    cur.lockHeldUntil === undefined
      ? undefined
      : { lockHeldUntil: null, reason: `${cur.reason ?? cur.status}; ${jobNote(cur, js, cur.lockHeldUntil)}` },
  );
  if (!released) return { active };
  const after = await touchAgain(ctx, pipeline);
  return stopped ? { ...after, stopped: released } : after;
}

/** Whatever holds the lock now (after a change), without touching it again. */
async function touchAgain(ctx: Context, pipeline: string): Promise<Touch> {
  const current = await ctx.store.getActiveRun(pipeline);
  return current ? { active: current } : {};
}

/**
 * Reads the pipeline's active run and turns it TIMED_OUT if it is past its deadline ("the next time anything touches
 * that pipeline") — stopping its command first when it still runs here — which frees the lock; the move raises a
 * RUN_TIMED_OUT alert (run.transitioned), sent by the caller's alert scope, or at the end of this touch when it is
 * called outside one. A lock held by a run that has already ended is released or kept (touchEndedRun).
 */
export function touchActiveRun(ctx: Context, pipeline: string): Promise<Touch> {
  return withAlerts(ctx, () => touchLock(ctx, pipeline));
}

async function touchLock(ctx: Context, pipeline: string): Promise<Touch> {
  const active = await ctx.store.getActiveRun(pipeline);
  const now = ctx.clock.now();
  if (active && lockState(active, now) !== 'active') return touchEndedRun(ctx, pipeline, active, now);
  if (!active || !isOverdue(active, now)) return active ? { active } : {};
  const age = Math.round((now - (active.triggeredAt ?? active.createdAt)) / 1000);
  const reason = `still ${active.status} ${age}s after ${active.triggeredAt ? 'triggering' : 'starting'}; past its deadline`;
  // The store re-checks the deadline on its own clock (Redis: the server's), so a host whose clock runs ahead
  // cannot time out a run that is still within its time; then this is refused like a lost race.
  const wasAlive = active.job !== undefined && jobState(active.job) === 'alive';
  const ended = await endRunWithJob(ctx, active, 'TIMED_OUT', reason, { ifOverdue: true });
  const moved = ended.run;
  if (!moved) {
    // Another process moved it first: report whatever holds the lock now.
    return touchAgain(ctx, pipeline);
  }
  if (active.platform !== undefined) await cancelTimedOutJob(ctx, active, moved);
  const touch = await touchAgain(ctx, pipeline);
  return wasAlive ? { ...touch, stopped: moved } : touch;
}

/**
 * A native trigger's job (Airflow DAG run, Databricks/Glue job run, Step Functions execution) of a run that has just
 * been TIMED_OUT is cancelled on its platform, best effort: the run is already TIMED_OUT (the timeout never waits
 * for the platform, and nothing here can undo it); whether the platform confirmed the cancel, or why it failed, is
 * added to the run's reason (and the platform's answer to its platform field).
 */
async function cancelTimedOutJob(ctx: Context, before: RunState, timedOut: RunState): Promise<void> {
  const job = before.platform;
  if (job === undefined) return;
  let note: string;
  let platform: RunState['platform'];
  try {
    const { cancelPlatformJob } = await import('./platform-runs.js');
    const c = await cancelPlatformJob(ctx, before);
    if (c.ok) {
      note = `its ${job.type} job ${job.id} was cancelled on the platform (state ${c.platform.state})`;
      platform = c.platform;
    } else note = `cancelling its ${job.type} job ${job.id} failed (${c.error}): it may still be running`;
  } catch (e) {
    note = `cancelling its ${job.type} job ${job.id} failed (${e instanceof Error ? e.message : String(e)}): it may still be running`;
  }
  const stored = await annotateRun(ctx, timedOut, (cur) => ({
    reason: `${cur.reason ?? cur.status}; ${note}`,
    ...(platform !== undefined ? { platform } : {}),
  }));
  if (!stored) ctx.log.warn(`run ${timedOut.runId} timed out; ${note}`);
}
