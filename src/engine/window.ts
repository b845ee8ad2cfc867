// The window state machine: a schedule window's record, its legal transitions as data, and every event's effect as
// an apply / noop / conflict result (no exceptions). Every window ends in exactly one terminal state with its reason.
import type { BlockingTrait, Outcome } from '../core/types.js';
import type { ExclusionMatch } from './exclusions.js';
import type { FailureCategory, RetryDecision } from './retry.js';
import { reevaluateDelay } from './retry.js';
import type { CatchUpPolicy, WindowTimes } from './schedule.js';
import { attemptKey, rerunKey } from './window-key.js';

/** Window states. Non-terminal first. */
export const WINDOW_STATES = [
  'PENDING', // recorded at open; waiting for `after`
  'OPEN', // after reached: evaluating until READY or the deadline
  'TRIGGERING', // an attempt's run is claimed and its trigger is being fired
  'RUNNING', // the trigger accepted an async job; waiting for its completion
  'RETRY_WAIT', // an attempt failed and another is due at retryAt
  'COMPLETED',
  'FAILED', // attempts exhausted, a failure that is not retried, or an UNKNOWN outcome
  'MISSED', // the deadline passed without a successful trigger
  'EXCLUDED', // opened on an excluded day: never evaluated
  'SKIPPED', // not opened, by the catch-up policy
  'SHADOW', // shadow mode: would have triggered here
] as const;
export type WindowState = (typeof WINDOW_STATES)[number];

export const WINDOW_TERMINAL_STATES: readonly WindowState[] = [
  'COMPLETED',
  'FAILED',
  'MISSED',
  'EXCLUDED',
  'SKIPPED',
  'SHADOW',
];

export function isWindowTerminal(s: WindowState): boolean {
  return WINDOW_TERMINAL_STATES.includes(s);
}

/** Legal transitions. Anything not listed is refused. Terminal states lead nowhere. */
export const WINDOW_TRANSITIONS: Readonly<Record<WindowState, readonly WindowState[]>> = {
  PENDING: ['OPEN', 'MISSED', 'SKIPPED'],
  OPEN: ['TRIGGERING', 'SHADOW', 'MISSED'],
  TRIGGERING: ['RUNNING', 'COMPLETED', 'RETRY_WAIT', 'FAILED', 'MISSED'],
  RUNNING: ['COMPLETED', 'RETRY_WAIT', 'FAILED', 'MISSED'],
  RETRY_WAIT: ['OPEN', 'MISSED'],
  COMPLETED: [],
  FAILED: [],
  MISSED: [],
  EXCLUDED: [],
  SKIPPED: [],
  SHADOW: [],
};

/** States a window record may be created in. */
export const WINDOW_INITIAL_STATES: readonly WindowState[] = ['PENDING', 'MISSED', 'EXCLUDED', 'SKIPPED'];

export function canWindowTransition(from: WindowState, to: WindowState): boolean {
  return WINDOW_TRANSITIONS[from]?.includes(to) ?? false;
}

/** The last readiness decision taken for a window. */
export interface WindowDecision {
  outcome: Outcome;
  blocking: BlockingTrait[];
  note?: string;
  decisionId?: string;
  decidedAt: number;
}

/** One attempt: a run claimed under `attemptKey(window, attempt)`. */
export interface WindowAttempt {
  attempt: number;
  runId: string;
  /** The run key the store claimed: `<window key>#<attempt>`. */
  runKey: string;
  claimedAt: number;
  /** The run's own deadline (maxRunSeconds): the watcher wakes to time it out. */
  runDeadlineAt?: number;
  finishedAt?: number;
  result?: 'COMPLETED' | 'FAILED';
  category?: FailureCategory;
  error?: string;
  /** A rerun after drift (onDrift: rerun): its number n; the run key is then `<window key>#rerun-<n>`. */
  rerun?: number;
}

/**
 * The drift monitor of a COMPLETED window (pipeline `monitor`): when its evidence was last re-checked, the drift
 * episode in progress (the monitored traits NOT_READY since), whether a rerun is wanted, and how many were claimed.
 */
export interface WindowDrift {
  lastCheckAt?: number;
  episode?: { since: number; blocking: BlockingTrait[] };
  /** onDrift rerun: a rerun fires once the evidence is READY again (never on NOT_READY). */
  rerunWanted?: boolean;
  /** Reruns claimed so far (each under its own run key, so each fires at most once). */
  reruns: number;
  /** A wanted rerun was refused here (the full evidence not READY): not tried again before reevaluate passed. */
  rerunTriedAt?: number;
}

/** Why a window ended where it did: one variant per terminal state (and cause). */
export type TerminalDetail =
  | { state: 'COMPLETED'; attempt: number; runId: string }
  | {
      state: 'FAILED';
      cause: 'not-retryable' | 'unknown-outcome' | 'attempts-exhausted';
      category: FailureCategory;
      attempt: number;
      error?: string;
    }
  | { state: 'MISSED'; cause: 'blocked'; blocking: BlockingTrait[]; note?: string; decisionId?: string }
  | { state: 'MISSED'; cause: 'ready-not-triggered'; decisionId?: string }
  | { state: 'MISSED'; cause: 'never-evaluated' }
  | { state: 'MISSED'; cause: 'retries-exhausted'; attempts: number; lastError?: string }
  | { state: 'EXCLUDED'; match: ExclusionMatch }
  | { state: 'SKIPPED'; policy: CatchUpPolicy; supersededBy?: string; note?: string }
  | { state: 'SHADOW'; decisionId?: string };

export interface WindowTerminal {
  at: number;
  /** One human sentence. */
  reason: string;
  detail: TerminalDetail;
}

export type WindowMode = 'live' | 'shadow';

/** A window as stored. `version` counts successful transitions + 1 (compare-and-swap in the store). */
export interface WindowRecord extends WindowTimes {
  key: string;
  pipeline: string;
  mode: WindowMode;
  state: WindowState;
  version: number;
  createdAt: number;
  updatedAt: number;
  attempts: WindowAttempt[];
  lastDecision?: WindowDecision;
  /** Decisions in a row that changed nothing (drives the watch backoff). */
  unchanged: number;
  /** Not before this may the open window be evaluated again (watch backoff). */
  nextEvaluationAt?: number;
  /** RETRY_WAIT: when the next attempt is due. */
  retryAt?: number;
  /** Set exactly when the state is terminal. */
  terminal?: WindowTerminal;
  /** After COMPLETED, with a pipeline `monitor`: the drift monitor's state (kept across reruns). */
  drift?: WindowDrift;
}

export function newWindow(f: {
  key: string;
  pipeline: string;
  times: WindowTimes;
  mode: WindowMode;
  now: number;
  /** Created directly terminal (EXCLUDED, SKIPPED, MISSED by catch-up); default PENDING. */
  terminal?: { reason: string; detail: TerminalDetail & { state: 'MISSED' | 'EXCLUDED' | 'SKIPPED' } };
}): WindowRecord {
  const w: WindowRecord = {
    ...f.times,
    key: f.key,
    pipeline: f.pipeline,
    mode: f.mode,
    state: f.terminal ? f.terminal.detail.state : 'PENDING',
    version: 1,
    createdAt: f.now,
    updatedAt: f.now,
    attempts: [],
    unchanged: 0,
  };
  if (f.terminal) w.terminal = { at: f.now, reason: f.terminal.reason, detail: f.terminal.detail };
  return w;
}

/** What can happen to a window. Times come in as `now` of applyWindowEvent. */
export type WindowEvent =
  | { type: 'after-reached' }
  | {
      type: 'decided';
      decision: WindowDecision;
      /** `watch.reevaluate` in ms and a random number in [0, 1) for the backoff jitter. */
      reevaluateMs: number;
      random: number;
    }
  | {
      type: 'claim';
      attempt: number;
      runId: string;
      /** The READY decision that allows it. */
      decision: WindowDecision;
      runDeadlineAt?: number;
    }
  | { type: 'shadow'; decision: WindowDecision }
  | { type: 'trigger-accepted'; attempt: number }
  | { type: 'attempt-succeeded'; attempt: number }
  | { type: 'attempt-failed'; attempt: number; category: FailureCategory; error?: string; retry: RetryDecision }
  | { type: 'retry-due' }
  | { type: 'deadline' }
  | { type: 'skip'; policy: CatchUpPolicy; supersededBy?: string; note?: string }
  /** A COMPLETED window's monitored traits re-checked: `decision` over those traits only. */
  | {
      type: 'drift-checked';
      decision: WindowDecision;
      onDrift: 'alert' | 'rerun';
      maxReruns: number;
      /** A wanted rerun was refused at this check (the whole pipeline was not READY). */
      rerunRefused?: boolean;
    }
  /**
   * A rerun after drift: COMPLETED → TRIGGERING for rerun `rerun` (= reruns + 1 ≤ maxReruns) under the run key
   * `<window key>#rerun-<rerun>` that the store created for `runId`; only when a rerun is wanted and READY.
   */
  | {
      type: 'rerun-claim';
      rerun: number;
      maxReruns: number;
      runId: string;
      decision: WindowDecision;
      runDeadlineAt?: number;
    };

export type WindowEventResult =
  | { kind: 'apply'; window: WindowRecord; from: WindowState; to: WindowState }
  | { kind: 'noop'; reason: string }
  | { kind: 'conflict'; reason: string };

const noop = (reason: string): WindowEventResult => ({ kind: 'noop', reason });
const conflict = (reason: string): WindowEventResult => ({ kind: 'conflict', reason });

/** A comparable summary of a decision: the same outcome and blocking traits in the same states = "nothing changed". */
export function decisionFingerprint(d: WindowDecision): string {
  return [d.outcome, ...d.blocking.map((b) => `${b.trait}:${b.state}:${b.reasonCode}`).sort()].join('|');
}

function missedReason(w: WindowRecord): { reason: string; detail: TerminalDetail } {
  const last = w.attempts[w.attempts.length - 1];
  // After a failed attempt, a newer decision (taken when the retry came due) says more than "retries exhausted".
  const decidedSince = w.lastDecision !== undefined && last !== undefined && w.lastDecision.decidedAt > last.claimedAt;
  if (w.state === 'RETRY_WAIT' || (last !== undefined && !decidedSince)) {
    return {
      reason: `deadline passed while retrying: ${w.attempts.length} attempt(s) failed${last?.error ? ` (last: ${last.error})` : ''}; retries exhausted`,
      detail: {
        state: 'MISSED',
        cause: 'retries-exhausted',
        attempts: w.attempts.length,
        ...(last?.error !== undefined ? { lastError: last.error } : {}),
      },
    };
  }
  const d = w.lastDecision;
  if (!d) {
    return {
      reason: 'deadline passed and the window was never evaluated',
      detail: { state: 'MISSED', cause: 'never-evaluated' },
    };
  }
  if (d.outcome === 'READY') {
    return {
      reason: 'deadline passed: the last decision was READY but no trigger was fired',
      detail: {
        state: 'MISSED',
        cause: 'ready-not-triggered',
        ...(d.decisionId !== undefined ? { decisionId: d.decisionId } : {}),
      },
    };
  }
  const names = d.blocking.map((b) => `${b.trait} (${b.state}: ${b.reason})`);
  return {
    reason: `deadline passed while NOT_READY: ${names.length > 0 ? `blocked by ${names.join(', ')}` : (d.note ?? 'readiness rule not met')}`,
    detail: {
      state: 'MISSED',
      cause: 'blocked',
      blocking: d.blocking,
      ...(d.note !== undefined ? { note: d.note } : {}),
      ...(d.decisionId !== undefined ? { decisionId: d.decisionId } : {}),
    },
  };
}

function move(
  w: WindowRecord,
  to: WindowState,
  now: number,
  change: Partial<WindowRecord> = {},
  terminal?: { reason: string; detail: TerminalDetail },
): WindowEventResult {
  if (!canWindowTransition(w.state, to)) return conflict(`window ${w.key} is ${w.state}; it cannot become ${to}`);
  const next: WindowRecord = { ...w, ...change, state: to, version: w.version + 1, updatedAt: now };
  if (to !== 'RETRY_WAIT') delete next.retryAt;
  if (isWindowTerminal(to)) {
    if (!terminal) return conflict(`internal: terminal ${to} without a reason`);
    next.terminal = { at: now, ...terminal };
    delete next.nextEvaluationAt;
  }
  return { kind: 'apply', window: next, from: w.state, to };
}

/** The same record with fields changed and the version bumped, state unchanged (a recorded decision). */
function update(w: WindowRecord, now: number, change: Partial<WindowRecord>): WindowEventResult {
  return {
    kind: 'apply',
    window: { ...w, ...change, version: w.version + 1, updatedAt: now },
    from: w.state,
    to: w.state,
  };
}

function currentAttempt(w: WindowRecord): WindowAttempt | undefined {
  return w.attempts[w.attempts.length - 1];
}

function finishAttempt(w: WindowRecord, patch: Partial<WindowAttempt>): WindowAttempt[] {
  const attempts = w.attempts.slice();
  const i = attempts.length - 1;
  attempts[i] = { ...attempts[i], ...patch };
  return attempts;
}

/**
 * The window after `event` at `now`. apply: the new record (version + 1); noop: nothing to change (a repeat, or an
 * event that no longer matters); conflict: refused (illegal, stale, or not allowed yet), nothing changes.
 */
export function applyWindowEvent(w: WindowRecord, event: WindowEvent, now: number): WindowEventResult {
  const done = isWindowTerminal(w.state);
  switch (event.type) {
    case 'after-reached': {
      if (w.state === 'PENDING') {
        if (now < w.afterAt) return conflict(`window ${w.key} is not open before ${w.afterAt}`);
        if (now >= w.deadlineAt) return conflict(`window ${w.key} is past its deadline`);
        return move(w, 'OPEN', now);
      }
      return noop(`window ${w.key} is already ${w.state}`);
    }
    case 'decided': {
      if (w.state !== 'OPEN') return done ? noop(`window ${w.key} already ended ${w.state}`) : noop('not evaluating');
      const d = event.decision;
      const same = w.lastDecision !== undefined && decisionFingerprint(w.lastDecision) === decisionFingerprint(d);
      const unchanged = same ? w.unchanged + 1 : 0;
      const nextEvaluationAt =
        d.outcome === 'READY' ? now : now + reevaluateDelay(event.reevaluateMs, unchanged, event.random);
      return update(w, now, { lastDecision: d, unchanged, nextEvaluationAt });
    }
    case 'claim': {
      const cur = currentAttempt(w);
      if (w.state === 'TRIGGERING' || w.state === 'RUNNING' || done) {
        if (cur && cur.attempt === event.attempt && cur.runId === event.runId) {
          return noop(`attempt ${event.attempt} of ${w.key} is already claimed by this run`);
        }
        return conflict(`window ${w.key} is ${w.state}; attempt ${event.attempt} cannot be claimed`);
      }
      if (w.state !== 'OPEN') return conflict(`window ${w.key} is ${w.state}; it cannot be claimed`);
      if (w.mode !== 'live') return conflict(`window ${w.key} is in shadow mode; it never fires`);
      if (event.attempt !== w.attempts.length + 1) {
        return conflict(`window ${w.key} has ${w.attempts.length} attempt(s); attempt ${event.attempt} is stale`);
      }
      if (w.attempts.some((a) => a.runId === event.runId)) return conflict(`run ${event.runId} already has an attempt`);
      if (event.decision.outcome !== 'READY') return conflict(`window ${w.key} is not READY; refusing to trigger`);
      if (now < w.afterAt) return conflict(`window ${w.key} may not trigger before ${w.afterAt}`);
      if (now >= w.deadlineAt) return conflict(`window ${w.key} is past its deadline; refusing to trigger`);
      const attempt: WindowAttempt = {
        attempt: event.attempt,
        runId: event.runId,
        runKey: attemptKey(w.key, event.attempt),
        claimedAt: now,
        ...(event.runDeadlineAt !== undefined ? { runDeadlineAt: event.runDeadlineAt } : {}),
      };
      return move(w, 'TRIGGERING', now, { attempts: [...w.attempts, attempt], lastDecision: event.decision });
    }
    case 'shadow': {
      if (w.state === 'SHADOW') return noop(`window ${w.key} is already SHADOW`);
      if (w.state !== 'OPEN') return conflict(`window ${w.key} is ${w.state}; it cannot become SHADOW`);
      if (w.mode !== 'shadow') return conflict(`window ${w.key} is live; it fires instead`);
      if (event.decision.outcome !== 'READY') return conflict(`window ${w.key} is not READY`);
      if (now < w.afterAt || now >= w.deadlineAt) return conflict(`window ${w.key} is outside after…deadline`);
      const id = event.decision.decisionId;
      return move(
        w,
        'SHADOW',
        now,
        { lastDecision: event.decision },
        {
          reason: 'shadow mode: READY; would have triggered here',
          detail: { state: 'SHADOW', ...(id !== undefined ? { decisionId: id } : {}) },
        },
      );
    }
    case 'trigger-accepted': {
      const cur = currentAttempt(w);
      if (w.state === 'RUNNING' && cur?.attempt === event.attempt) return noop('already RUNNING');
      if (w.state !== 'TRIGGERING' || cur?.attempt !== event.attempt) {
        return conflict(`window ${w.key} is ${w.state} (attempt ${cur?.attempt ?? 0}); not attempt ${event.attempt}`);
      }
      return move(w, 'RUNNING', now);
    }
    case 'attempt-succeeded': {
      const cur = currentAttempt(w);
      if (w.state === 'COMPLETED' && cur?.attempt === event.attempt)
        return noop(`window ${w.key} is already COMPLETED`);
      if ((w.state !== 'TRIGGERING' && w.state !== 'RUNNING') || cur?.attempt !== event.attempt) {
        return conflict(`window ${w.key} is ${w.state} (attempt ${cur?.attempt ?? 0}); not attempt ${event.attempt}`);
      }
      // A rerun's completion starts the monitor afresh (a new episode may follow); the rerun count stays.
      const drift = w.drift ? { drift: { reruns: w.drift.reruns } } : {};
      return move(
        w,
        'COMPLETED',
        now,
        { attempts: finishAttempt(w, { finishedAt: now, result: 'COMPLETED' }), ...drift },
        {
          reason: `attempt ${cur.attempt} succeeded (run ${cur.runId})`,
          detail: { state: 'COMPLETED', attempt: cur.attempt, runId: cur.runId },
        },
      );
    }
    case 'attempt-failed': {
      const cur = currentAttempt(w);
      if ((w.state !== 'TRIGGERING' && w.state !== 'RUNNING') || cur?.attempt !== event.attempt) {
        if (cur?.attempt === event.attempt && cur.result === 'FAILED')
          return noop(`attempt ${event.attempt} already failed`);
        return conflict(`window ${w.key} is ${w.state} (attempt ${cur?.attempt ?? 0}); not attempt ${event.attempt}`);
      }
      const attempts = finishAttempt(w, {
        finishedAt: now,
        result: 'FAILED',
        category: event.category,
        ...(event.error !== undefined ? { error: event.error } : {}),
      });
      const failed = { ...w, attempts };
      // A rerun is never retried: its cap is monitor.maxReruns, each under its own run key.
      const r: RetryDecision =
        cur.rerun !== undefined
          ? { retry: false, cause: 'not-retryable', reason: `rerun ${cur.rerun} after drift is not retried` }
          : event.retry;
      if (r.retry && r.attempt === event.attempt + 1) {
        if (r.at < w.deadlineAt) return move(w, 'RETRY_WAIT', now, { attempts, retryAt: r.at });
        return move(w, 'MISSED', now, { attempts }, missedReason({ ...failed, state: 'RETRY_WAIT' }));
      }
      const cause: 'not-retryable' | 'unknown-outcome' | 'attempts-exhausted' = r.retry
        ? 'not-retryable'
        : event.category === 'UNKNOWN'
          ? 'unknown-outcome'
          : r.cause;
      const why = r.retry ? 'retry decision did not match the attempt' : r.reason;
      return move(
        w,
        'FAILED',
        now,
        { attempts },
        {
          reason: `attempt ${event.attempt} failed (${event.category}${event.error ? `: ${event.error}` : ''}); ${why}`,
          detail: {
            state: 'FAILED',
            cause,
            category: event.category,
            attempt: event.attempt,
            ...(event.error !== undefined ? { error: event.error } : {}),
          },
        },
      );
    }
    case 'retry-due': {
      if (w.state !== 'RETRY_WAIT')
        return done ? noop(`window ${w.key} already ended ${w.state}`) : noop('no retry pending');
      if (now < (w.retryAt ?? Number.POSITIVE_INFINITY)) return conflict(`retry of ${w.key} is not due yet`);
      if (now >= w.deadlineAt) return conflict(`window ${w.key} is past its deadline`);
      // Re-decide before the next attempt: evidence may have changed since the last one.
      return move(w, 'OPEN', now, { nextEvaluationAt: now });
    }
    case 'deadline': {
      if (done) return noop(`window ${w.key} already ended ${w.state}`);
      if (w.state === 'TRIGGERING' || w.state === 'RUNNING') {
        return noop(`window ${w.key} was triggered in time; its run decides how it ends`);
      }
      if (now < w.deadlineAt) return conflict(`window ${w.key} is open until ${w.deadlineAt}`);
      return move(w, 'MISSED', now, {}, missedReason(w));
    }
    case 'drift-checked': {
      if (w.state !== 'COMPLETED') return noop(`window ${w.key} is ${w.state}; only a COMPLETED window is monitored`);
      const prev = w.drift ?? { reruns: 0 };
      const d = event.decision;
      const next: WindowDrift = { reruns: prev.reruns, lastCheckAt: now };
      if (event.rerunRefused) next.rerunTriedAt = now;
      else if (prev.rerunTriedAt !== undefined) next.rerunTriedAt = prev.rerunTriedAt;
      if (d.outcome === 'READY') {
        if (prev.rerunWanted) next.rerunWanted = true;
      } else {
        next.episode = prev.episode ?? { since: now, blocking: d.blocking };
        if (prev.rerunWanted || (event.onDrift === 'rerun' && prev.reruns < event.maxReruns)) next.rerunWanted = true;
      }
      return update(w, now, { drift: next });
    }
    case 'rerun-claim': {
      const cur = currentAttempt(w);
      if (w.state === 'TRIGGERING' || w.state === 'RUNNING' || (done && w.state !== 'COMPLETED')) {
        if (cur && cur.rerun === event.rerun && cur.runId === event.runId) {
          return noop(`rerun ${event.rerun} of ${w.key} is already claimed by this run`);
        }
        return conflict(`window ${w.key} is ${w.state}; rerun ${event.rerun} cannot be claimed`);
      }
      if (w.state !== 'COMPLETED') return conflict(`window ${w.key} is ${w.state}; only a COMPLETED window reruns`);
      if (w.mode !== 'live') return conflict(`window ${w.key} is in shadow mode; it never fires`);
      const drift = w.drift;
      if (!drift?.rerunWanted) return conflict(`window ${w.key} has no drift that asks for a rerun`);
      if (event.rerun !== drift.reruns + 1) {
        return conflict(`window ${w.key} has had ${drift.reruns} rerun(s); rerun ${event.rerun} is stale`);
      }
      if (event.rerun > event.maxReruns) return conflict(`window ${w.key}: at most ${event.maxReruns} rerun(s)`);
      if (w.attempts.some((a) => a.runId === event.runId)) return conflict(`run ${event.runId} already has an attempt`);
      if (event.decision.outcome !== 'READY') return conflict(`window ${w.key} is not READY; refusing to rerun`);
      const attempt: WindowAttempt = {
        attempt: w.attempts.length + 1,
        runId: event.runId,
        runKey: rerunKey(w.key, event.rerun),
        claimedAt: now,
        rerun: event.rerun,
        ...(event.runDeadlineAt !== undefined ? { runDeadlineAt: event.runDeadlineAt } : {}),
      };
      // The one way back from a terminal state: COMPLETED → TRIGGERING, once per rerun number (the run key).
      const next: WindowRecord = {
        ...w,
        state: 'TRIGGERING',
        version: w.version + 1,
        updatedAt: now,
        attempts: [...w.attempts, attempt],
        lastDecision: event.decision,
        drift: { reruns: event.rerun, lastCheckAt: drift.lastCheckAt ?? now },
      };
      delete next.terminal;
      delete next.nextEvaluationAt;
      return { kind: 'apply', window: next, from: 'COMPLETED', to: 'TRIGGERING' };
    }
    case 'skip': {
      if (w.state === 'SKIPPED') return noop(`window ${w.key} is already SKIPPED`);
      if (w.state !== 'PENDING') return conflict(`window ${w.key} is ${w.state}; only a PENDING window can be skipped`);
      return move(
        w,
        'SKIPPED',
        now,
        {},
        {
          reason: event.note ?? `skipped by catch-up policy '${event.policy}'`,
          detail: {
            state: 'SKIPPED',
            policy: event.policy,
            ...(event.supersededBy !== undefined ? { supersededBy: event.supersededBy } : {}),
            ...(event.note !== undefined ? { note: event.note } : {}),
          },
        },
      );
    }
  }
}
