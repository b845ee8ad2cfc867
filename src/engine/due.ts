// "What is due": given a pipeline's schedules, its window records, the latest trait results and `now`, the actions
// the watcher should take now and the next instant worth waking up for (with a human reason). Pure; the watcher
// applies the actions in order (each through the store's compare-and-swap) and calls this again.
import type { ReadinessRule, ResolvedTrait, TraitResult } from '../core/types.js';
import { type PlanInput, planWindows, type WindowGap } from './catch-up.js';
import type { ExclusionSpec } from './exclusions.js';
import { localHHMM } from './local-time.js';
import { decideReadiness } from './readiness.js';
import { nextOpen, type Schedule } from './schedule.js';
import {
  applyWindowEvent,
  isWindowTerminal,
  type WindowDecision,
  type WindowEvent,
  type WindowMode,
  type WindowRecord,
} from './window.js';

export interface DueInput {
  pipeline: string;
  schedules: readonly Schedule[];
  exclusions?: ExclusionSpec;
  mode: WindowMode;
  /** This pipeline's window records: at least every non-terminal one and the newest one of each schedule. */
  records: readonly WindowRecord[];
  /** See PlanInput.watchingSince. */
  watchingSince: number;
  /**
   * Schedules the watcher first saw after it started (a reload brought them), by name: since when. Windows of such a
   * schedule that opened before it existed are not "watched and missed": they are counted from then.
   */
  scheduleSince?: ReadonlyMap<string, number>;
  traits: readonly ResolvedTrait[];
  rule: ReadinessRule;
  /** Latest stored result per trait. */
  results: readonly TraitResult[];
  /** `watch.reevaluate` in ms. */
  reevaluateMs: number;
  now: number;
  /** Only wake-ups of this window key count for `nextWake` (a read-only view of one window); default: all. */
  wakeFor?: string;
  /**
   * Traits whose evidence changed outside this pipeline (builtin:pipeline: the upstream completed): re-evaluated now
   * when needed, whatever the backoff.
   */
  urgent?: readonly string[];
}

export type DueAction =
  /** Write a new window record (PENDING: the window opens; or terminal: EXCLUDED / SKIPPED / MISSED). */
  | { kind: 'create'; key: string; record: WindowRecord }
  /** Too many unrecorded windows to list: record/alert this once. */
  | { kind: 'gap'; gap: WindowGap }
  /** `after` reached: PENDING → OPEN. */
  | { kind: 'open'; key: string; event: WindowEvent & { type: 'after-reached' } }
  /** Deadline passed without a trigger: → MISSED (the record says why). */
  | { kind: 'miss'; key: string; event: WindowEvent & { type: 'deadline' } }
  /** Backoff over: RETRY_WAIT → OPEN, to re-decide and claim attempt `attempt`. */
  | { kind: 'retry'; key: string; attempt: number; at: number; event: WindowEvent & { type: 'retry-due' } }
  /** Re-run these traits' evaluators (missing, FAIL, STALE or expiring within `reevaluate`), then record the decision. */
  | { kind: 'evaluate'; key: string; traits: string[] }
  /** READY from unexpired results: claim attempt `attempt` (atomically, under its run key) and fire the trigger. */
  | { kind: 'trigger'; key: string; attempt: number; decision: WindowDecision }
  /** Shadow mode, READY: record SHADOW ("would trigger"), never fire. */
  | { kind: 'shadow'; key: string; decision: WindowDecision }
  /** An attempt's run is past its own deadline (maxRunSeconds): time it out. */
  | { kind: 'run-overdue'; key: string; attempt: number; runId: string; at: number };

export interface WakeUp {
  at: number;
  /** "upstream-dependency expires 06:10", "window daily opens 05:00", … (local times in the schedule's timezone). */
  reason: string;
  key?: string;
}

export interface DueResult {
  actions: DueAction[];
  /** The earliest future instant at which something becomes due; undefined: nothing ever will. */
  nextWake?: WakeUp;
}

/** The traits the readiness rule counts (all-required-pass: the required ones; majority-pass: all). */
function countedTraits(traits: readonly ResolvedTrait[], rule: ReadinessRule): readonly ResolvedTrait[] {
  return rule.type === 'all-required-pass' ? traits.filter((t) => t.required) : traits;
}

/** The actions due for one pipeline at `now`, and when to look again. */
export function whatIsDue(input: DueInput): DueResult {
  const { now } = input;
  const actions: DueAction[] = [];
  // Reasons are formatted only for the wake-up that wins (Intl formatting is not free).
  let soonest: { at: number; reason: () => string; key?: string } | undefined;
  const wake = (at: number, reason: () => string, key?: string) => {
    if (input.wakeFor !== undefined && key !== input.wakeFor) return;
    if (at > now && Number.isFinite(at) && (soonest === undefined || at < soonest.at)) {
      soonest = key === undefined ? { at, reason } : { at, reason, key };
    }
  };
  const tzOf = new Map(input.schedules.map((s) => [s.spec.name, s.spec.timezone]));
  const hhmm = (at: number, schedule: string) => localHHMM(at, tzOf.get(schedule) ?? 'UTC');

  // 1. New windows per schedule (on time, or by the catch-up policy), and each schedule's next opening.
  const working: WindowRecord[] = [...input.records];
  for (const s of input.schedules) {
    const mine = input.records.filter((r) => r.schedule === s.spec.name);
    const last = mine.reduce<number | undefined>((m, r) => (m === undefined || r.openAt > m ? r.openAt : m), undefined);
    const plan = planWindows({
      pipeline: input.pipeline,
      schedule: s,
      mode: input.mode,
      watchingSince: Math.max(input.watchingSince, input.scheduleSince?.get(s.spec.name) ?? Number.NEGATIVE_INFINITY),
      now,
      ...(input.exclusions ? { exclusions: input.exclusions } : {}),
      ...(last !== undefined ? { lastRecordedOpenAt: last } : {}),
    } satisfies PlanInput);
    if (plan.gap) actions.push({ kind: 'gap', gap: plan.gap });
    for (const r of plan.records) {
      actions.push({ kind: 'create', key: r.key, record: r });
      working.push(r);
    }
    const newest = Math.max(last ?? Number.NEGATIVE_INFINITY, ...plan.records.map((r) => r.openAt));
    const next = nextOpen(s, Math.max(now, newest));
    if (next !== undefined) wake(next, () => `window ${s.spec.name} opens ${hhmm(next, s.spec.name)}`);
  }

  // 2. Each live window: move it along as far as `now` allows.
  const counted = countedTraits(input.traits, input.rule);
  for (const original of working) {
    if (isWindowTerminal(original.state)) continue;
    let w = original;
    const step = (event: WindowEvent): boolean => {
      const r = applyWindowEvent(w, event, now);
      if (r.kind !== 'apply') return false;
      w = r.window;
      return true;
    };
    const at = (t: number) => hhmm(t, w.schedule);

    if ((w.state === 'PENDING' || w.state === 'OPEN' || w.state === 'RETRY_WAIT') && now >= w.deadlineAt) {
      actions.push({ kind: 'miss', key: w.key, event: { type: 'deadline' } });
      continue;
    }
    // A window whose schedule is no longer configured (removed or renamed) never triggers; it runs out at its
    // deadline (above) and its in-flight run is still timed out (below).
    const configured = tzOf.has(w.schedule);
    if (!configured && w.state !== 'TRIGGERING' && w.state !== 'RUNNING') {
      wake(
        w.deadlineAt,
        () => `deadline of window ${w.schedule} (schedule no longer configured) ${at(w.deadlineAt)}`,
        w.key,
      );
      continue;
    }
    if (w.state === 'PENDING') {
      if (now < w.afterAt) {
        wake(w.afterAt, () => `window ${w.schedule} may trigger from ${at(w.afterAt)}`, w.key);
        wake(w.deadlineAt, () => `deadline of window ${w.schedule} ${at(w.deadlineAt)}`, w.key);
        continue;
      }
      actions.push({ kind: 'open', key: w.key, event: { type: 'after-reached' } });
      step({ type: 'after-reached' });
    }
    if (w.state === 'RETRY_WAIT') {
      const attempt = w.attempts.length + 1;
      const retryAt = w.retryAt ?? now;
      if (now < retryAt) {
        wake(retryAt, () => `retry attempt ${attempt} of window ${w.schedule} at ${at(retryAt)}`, w.key);
        wake(w.deadlineAt, () => `deadline of window ${w.schedule} ${at(w.deadlineAt)}`, w.key);
        continue;
      }
      actions.push({ kind: 'retry', key: w.key, attempt, at: retryAt, event: { type: 'retry-due' } });
      step({ type: 'retry-due' });
    }
    if (w.state === 'TRIGGERING' || w.state === 'RUNNING') {
      const cur = w.attempts[w.attempts.length - 1];
      if (cur?.runDeadlineAt !== undefined) {
        if (now >= cur.runDeadlineAt) {
          actions.push({
            kind: 'run-overdue',
            key: w.key,
            attempt: cur.attempt,
            runId: cur.runId,
            at: cur.runDeadlineAt,
          });
        } else {
          const end = cur.runDeadlineAt;
          wake(end, () => `run ${cur.runId} (attempt ${cur.attempt}) times out ${at(end)}`, w.key);
        }
      }
      continue;
    }
    if (w.state !== 'OPEN') continue;

    // OPEN: decide from the stored results; trigger when READY, else re-run only what is needed (backoff).
    const readiness = decideReadiness(input.pipeline, input.traits, input.results, input.rule, now);
    const decision: WindowDecision = {
      outcome: readiness.outcome,
      blocking: readiness.blocking,
      decidedAt: now,
      ...(readiness.note !== undefined ? { note: readiness.note } : {}),
    };
    if (readiness.outcome === 'READY') {
      if (w.mode === 'shadow') actions.push({ kind: 'shadow', key: w.key, decision });
      else actions.push({ kind: 'trigger', key: w.key, attempt: w.attempts.length + 1, decision });
      // The trigger may have to wait (a manual run holds the lock): the deadline still comes.
      wake(w.deadlineAt, () => `deadline of window ${w.schedule} ${at(w.deadlineAt)}`, w.key);
      continue;
    }
    const views = readiness.traits.filter((v) => counted.some((t) => t.type === v.trait));
    const needed = views
      .filter((v) => v.state !== 'PASS' || (v.ttlLeftMs !== undefined && v.ttlLeftMs <= input.reevaluateMs))
      .map((v) => v.trait);
    // Evidence changed since the last decision (a trait newly FAIL/STALE) → evaluate now, whatever the backoff.
    const before = new Map((w.lastDecision?.blocking ?? []).map((b) => [b.trait, b.state]));
    const changed = views.some((v) => v.state !== 'PASS' && before.get(v.trait) !== v.state);
    const notBefore = w.nextEvaluationAt ?? now;
    const pressing = needed.filter((t) => input.urgent?.includes(t));
    if (needed.length > 0 && (now >= notBefore || changed || w.lastDecision === undefined)) {
      actions.push({ kind: 'evaluate', key: w.key, traits: needed });
    } else if (pressing.length > 0) {
      // Backing off, but an upstream just completed: only the traits waiting for it run now.
      actions.push({ kind: 'evaluate', key: w.key, traits: pressing });
      wake(notBefore, () => `re-evaluate ${needed.join(', ')} for window ${w.schedule} at ${at(notBefore)}`, w.key);
    } else if (needed.length > 0) {
      wake(notBefore, () => `re-evaluate ${needed.join(', ')} for window ${w.schedule} at ${at(notBefore)}`, w.key);
    }
    for (const v of views) {
      const exp = v.result?.expiresAt;
      if (v.state === 'PASS' && exp !== undefined) wake(exp, () => `${v.trait} expires ${at(exp)}`, w.key);
    }
    wake(w.deadlineAt, () => `deadline of window ${w.schedule} ${at(w.deadlineAt)}`, w.key);
  }

  if (!soonest) return { actions };
  const w = soonest as { at: number; reason: () => string; key?: string };
  const nextWake: WakeUp = { at: w.at, reason: w.reason() };
  if (w.key !== undefined) nextWake.key = w.key;
  return { actions, nextWake };
}
