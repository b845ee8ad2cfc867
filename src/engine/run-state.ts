// The run state machine: which transitions are legal, what each one changes, when a run is overdue. Pure.
import { isTerminal } from '../core/run-status.js';
import type { JobProcess, PlatformRun, ResolvedTrait, RunState, RunStatus, TriggerOutcome } from '../core/types.js';

export { isTerminal, TERMINAL_STATUSES } from '../core/run-status.js';

/** Legal transitions. Anything not listed is refused, whoever asks. */
export const TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  PENDING: ['TRIGGERING', 'BLOCKED', 'FAILED', 'CANCELLED', 'TIMED_OUT'],
  TRIGGERING: ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'],
  RUNNING: ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
  TIMED_OUT: [],
  BLOCKED: [],
};

/** Default `trigger.maxRunSeconds`: a run still TRIGGERING or RUNNING after this is TIMED_OUT. */
export const DEFAULT_MAX_RUN_SECONDS = 24 * 3600;
/** Slack added to a PENDING run's deadline beyond the sum of its evaluator timeouts. */
export const PENDING_SLACK_MS = 60_000;

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return TRANSITIONS[from]?.includes(to) ?? false;
}

/**
 * How long a run may stay PENDING (evaluating) before it is overdue: every evaluator could run one after
 * another to its timeout, plus slack. A crashed `run` therefore frees the lock by itself.
 */
export function pendingDeadline(traits: readonly ResolvedTrait[], now: number): number {
  return now + traits.reduce((ms, t) => ms + t.timeoutSeconds * 1000, 0) + PENDING_SLACK_MS;
}

export function newRun(f: {
  runId: string;
  pipeline: string;
  source: RunState['source'];
  now: number;
  deadlineAt: number;
}): RunState {
  return {
    runId: f.runId,
    pipeline: f.pipeline,
    status: 'PENDING',
    version: 1,
    createdAt: f.now,
    updatedAt: f.now,
    source: f.source,
    deadlineAt: f.deadlineAt,
  };
}

export interface TransitionPatch {
  reason?: string;
  trigger?: TriggerOutcome;
  metadata?: Record<string, unknown>;
  decisionId?: string;
  deadlineAt?: number;
  triggerType?: RunState['triggerType'];
  /** Set: the run keeps the lock until then (see RunState.lockHeldUntil). */
  lockHeldUntil?: number;
  /** The trigger's outcome is UNKNOWN (see RunState.outcome). */
  outcome?: 'UNKNOWN';
  /** A native trigger's job (see RunState.platform). */
  platform?: PlatformRun;
}

export type TransitionResult = { ok: true; run: RunState } | { ok: false; reason: string };

/** The run after moving to `to` at `now`: version + 1, timestamps set. Refuses illegal transitions. */
export function transition(run: RunState, to: RunStatus, now: number, patch: TransitionPatch = {}): TransitionResult {
  if (!canTransition(run.status, to)) {
    return { ok: false, reason: `run ${run.runId} is ${run.status}; it cannot become ${to}` };
  }
  const next: RunState = { ...run, status: to, version: run.version + 1, updatedAt: now };
  if (to === 'TRIGGERING') next.triggeredAt = now;
  if (isTerminal(to)) next.finishedAt = now;
  if (patch.reason !== undefined) next.reason = patch.reason;
  if (patch.trigger !== undefined) next.trigger = patch.trigger;
  if (patch.metadata !== undefined) next.metadata = patch.metadata;
  if (patch.decisionId !== undefined) next.decisionId = patch.decisionId;
  if (patch.deadlineAt !== undefined) next.deadlineAt = patch.deadlineAt;
  if (patch.triggerType !== undefined) next.triggerType = patch.triggerType;
  if (patch.lockHeldUntil !== undefined) next.lockHeldUntil = patch.lockHeldUntil;
  if (patch.outcome !== undefined) next.outcome = patch.outcome;
  if (patch.platform !== undefined) next.platform = patch.platform;
  return { ok: true, run: next };
}

/** What an update that keeps the run's status may change. `lockHeldUntil: null` drops a held lock. */
export interface AnnotationPatch {
  job?: JobProcess;
  trigger?: TriggerOutcome;
  reason?: string;
  lockHeldUntil?: number | null;
  platform?: PlatformRun;
}

/**
 * The run with facts added that do not change its state (the command's process once it started; a trigger's
 * outcome that arrived after someone else ended the run): version + 1, like a transition, so it goes through the
 * same compare-and-swap and is recorded as an event from the status to itself.
 */
export function annotate(run: RunState, now: number, patch: AnnotationPatch): RunState {
  const next: RunState = { ...run, version: run.version + 1, updatedAt: now };
  if (patch.job !== undefined) next.job = patch.job;
  if (patch.trigger !== undefined) next.trigger = patch.trigger;
  if (patch.reason !== undefined) next.reason = patch.reason;
  if (patch.lockHeldUntil === null) delete next.lockHeldUntil;
  else if (patch.lockHeldUntil !== undefined) next.lockHeldUntil = patch.lockHeldUntil;
  if (patch.platform !== undefined) next.platform = patch.platform;
  return next;
}

/**
 * How the run an active-run lock names holds it at `now`: 'active' (not ended), 'held' (ended while its command
 * may still run: the lock stays until lockHeldUntil), 'hold-expired' (that time has passed) or 'stale' (ended and
 * never meant to keep the lock: a leftover that would wedge the pipeline).
 */
export function lockState(run: RunState, now: number): 'active' | 'held' | 'hold-expired' | 'stale' {
  if (!isTerminal(run.status)) return 'active';
  if (run.lockHeldUntil === undefined) return 'stale';
  return now < run.lockHeldUntil ? 'held' : 'hold-expired';
}

/** True for a run whose trigger is (or was) a command: its exit status, not a callback, decides the outcome. */
export function isCommandRun(run: RunState): boolean {
  return run.triggerType === 'command' || run.job !== undefined || run.trigger?.type === 'command';
}

/** A non-terminal run past its deadline: the next touch turns it TIMED_OUT. */
export function isOverdue(run: RunState, now: number): boolean {
  return !isTerminal(run.status) && now >= run.deadlineAt;
}

/** The state a trigger outcome leads to from TRIGGERING. */
export function afterTrigger(outcome: TriggerOutcome): { to: RunStatus; reason?: string } {
  if (!outcome.ok) return { to: 'FAILED', reason: `trigger failed: ${outcome.error ?? 'unknown error'}` };
  return outcome.async ? { to: 'RUNNING' } : { to: 'COMPLETED' };
}

export type CompletionDecision =
  | { kind: 'apply'; to: RunStatus }
  | { kind: 'noop'; reason: string }
  | { kind: 'conflict'; reason: string };

/**
 * A completion callback (success | failed) against a run's current state. The same terminal status again is a
 * no-op success; a conflicting one is refused and changes nothing.
 */
export function decideCompletion(run: RunState, status: 'success' | 'failed'): CompletionDecision {
  const to: RunStatus = status === 'success' ? 'COMPLETED' : 'FAILED';
  if (run.status === to) return { kind: 'noop', reason: `run ${run.runId} is already ${to}` };
  if (run.status === 'TRIGGERING' && isCommandRun(run)) {
    return {
      kind: 'conflict',
      reason: `run ${run.runId} is running its command trigger; the command's exit status decides the outcome, not a completion callback (stop it with 'interlock cancel ${run.runId}')`,
    };
  }
  if (run.status === 'TRIGGERING' || run.status === 'RUNNING') return { kind: 'apply', to };
  if (run.status === 'PENDING')
    return { kind: 'conflict', reason: `run ${run.runId} has not been triggered (PENDING)` };
  return { kind: 'conflict', reason: `run ${run.runId} is already ${run.status}; refusing to mark it ${to}` };
}

/** A cancel request against a run's current state. */
export function decideCancel(run: RunState): CompletionDecision {
  if (run.status === 'CANCELLED') return { kind: 'noop', reason: `run ${run.runId} is already CANCELLED` };
  if (isTerminal(run.status)) return { kind: 'conflict', reason: `run ${run.runId} already ended ${run.status}` };
  return { kind: 'apply', to: 'CANCELLED' };
}
