// Touching a pipeline's runs: compare-and-swap moves, timing out an overdue run when anything touches it (stopping
// its command first), and the lock of a run that ended: released when stale, kept while its command may still run.
import { InterlockError } from '../core/errors.js';
import type { RunState, RunStatus } from '../core/types.js';
import {
  type AnnotationPatch,
  annotate,
  isOverdue,
  lockState,
  type TransitionCause,
  type TransitionPatch,
  transition,
} from '../engine/index.js';
import { describeWhere, type JobState, jobState, stopJob } from '../proc/index.js';
import type { CasOptions } from '../store/index.js';
import { withAlerts } from './alerting.js';
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
  const touch = await touchAgain(ctx, pipeline);
  return wasAlive ? { ...touch, stopped: moved } : touch;
}
