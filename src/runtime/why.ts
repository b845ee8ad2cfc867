// Use-case: "why hasn't it run?" — the current window and its deadline, READY or the blocking traits (reason, value,
// since when, TTL left, what would unblock each), and the last attempts; read-only apart from timing out an overdue run.
import { InterlockError } from '../core/errors.js';
import type { Outcome, ReasonCode, RunState, TraitState } from '../core/types.js';
import {
  blockingSince,
  decideReadiness,
  isoUtc,
  parseWindowKey,
  runWaitNote,
  staleSince,
  type UnblockBy,
  unblockBy,
} from '../engine/index.js';
import { getPipeline } from './context.js';
import type { Context } from './context-type.js';
import { touchActiveRun } from './touch.js';
import { getWindowView, type InstantView, localIso, scheduledStatus, type WindowView } from './windows.js';

/** How many decisions, newest first, are read to find since when a trait has been blocking. */
export const WHY_DECISIONS = 500;
/** How many of the pipeline's last runs are shown. */
export const WHY_RUNS = 5;

/** One blocking trait, with what the records say about it. */
export interface WhyTrait {
  trait: string;
  required: boolean;
  state: TraitState;
  reasonCode: ReasonCode;
  reason: string;
  /** The evaluator's (or the push's) value, when the latest result has one. */
  value: Record<string, unknown> | null;
  /** Where its results come from: pushes only, an evaluator, or nothing configured. */
  source: 'push-only' | 'evaluator' | 'none';
  /**
   * Since when it has been blocking: the oldest decision of the unbroken run of decisions (newest first) it blocked,
   * or the instant its result went STALE; null when unknown (never evaluated).
   */
  blockingSince: InstantView | null;
  /** How `blockingSince` was found: 'decisions', 'ttl' (expired since the last decision), or null. */
  sinceFrom: 'decisions' | 'ttl' | null;
  /** True when every decision read blocked on it: it may have been blocking for longer. */
  sinceAtLeast: boolean;
  /** How long the current (failing) result still counts; null when it never expires or there is none. */
  ttlLeftMs: number | null;
  /** What would unblock it, in words ("push PASS for upstream-dependency", "evaluator re-runs at 06:12"). */
  unblock: string;
  /** The same, for machines: push-pass, next-evaluation (at unblockAt), evaluation-due, evaluate-on-demand, no-evaluator. */
  unblockBy: UnblockBy['by'];
  unblockAt: InstantView | null;
}

export interface WhyView {
  pipeline: string;
  now: InstantView;
  /** One line: READY / NOT_READY and why, or the run holding the lock, or how the window ended. */
  summary: string;
  outcome: Outcome;
  /** The readiness rule's own reason when it (not a trait) blocks. */
  note: string | null;
  /** False for an on-demand pipeline: then only the readiness part is shown. */
  scheduled: boolean;
  /** The window asked for (--window), else the live window with the nearest deadline; null when none. */
  window: WindowView | null;
  /** ms until the window's deadline (negative once passed); null without a live window. */
  deadlineInMs: number | null;
  /** When no window is live: the next one to open (of any schedule). */
  nextWindow: { key: string; open: InstantView; after: InstantView; deadline: InstantView } | null;
  blocking: WhyTrait[];
  activeRun: RunState | null;
  /** The pipeline's last runs, newest first (a window's own attempts are in `window.attempts`). */
  lastRuns: RunState[];
}

function instantIn(ms: number, tz: string): InstantView {
  return { at: ms, utc: isoUtc(ms), local: localIso(ms, tz) };
}

/** `06:12` from an instant's local ISO text. */
function hhmm(i: InstantView): string {
  return /T(\d{2}:\d{2})/.exec(i.local)?.[1] ?? i.utc;
}

function unblockText(pipeline: string, trait: string, u: UnblockBy, at: InstantView | null, scheduled: boolean) {
  switch (u.by) {
    case 'push-pass':
      return `push PASS for ${trait} (interlock push ${pipeline} ${trait} --status PASS)`;
    case 'next-evaluation':
      return `evaluator re-runs at ${at ? hhmm(at) : '?'} (${at?.local ?? ''})`;
    case 'evaluation-due':
      return 'evaluator re-runs now (the watcher is due)';
    case 'no-evaluator':
      return `configure an evaluator for ${trait}, or push its result`;
    case 'evaluate-on-demand':
      return scheduled
        ? `evaluator re-runs when the watcher next evaluates; now: interlock evaluate ${pipeline}`
        : `evaluator re-runs on demand: interlock evaluate ${pipeline} (or interlock run ${pipeline})`;
  }
}

/** The live window with the nearest deadline among the schedules' current ones. */
function liveWindow(windows: ReadonlyArray<WindowView | null>): WindowView | null {
  let best: WindowView | null = null;
  for (const w of windows) if (w && (!best || w.deadline.at < best.deadline.at)) best = w;
  return best;
}

/**
 * Why `name` has not run (PIPELINE_NOT_FOUND if unknown, CONFIG_INVALID if INVALID). `windowKey` picks a window of
 * this pipeline (INVALID_REQUEST for another pipeline's key or a malformed one, NOT_FOUND when none is stored).
 */
export async function whyView(ctx: Context, name: string, opts: { window?: string } = {}): Promise<WhyView> {
  const p = await getPipeline(ctx, name);
  if (opts.window !== undefined) {
    const parts = parseWindowKey(opts.window);
    if (parts && parts.pipeline !== p.name) {
      throw new InterlockError(
        'INVALID_REQUEST',
        `window '${opts.window}' belongs to pipeline '${parts.pipeline}', not '${p.name}'`,
        {
          pipeline: p.name,
          window: opts.window,
          problems: [{ path: 'window', message: 'a window of another pipeline' }],
        },
      );
    }
  }
  const { active } = await touchActiveRun(ctx, p.name);
  const now = ctx.clock.now();
  const [results, decisions, runs, scheduled, asked] = await Promise.all([
    ctx.store.getTraitResults(p.name),
    ctx.store.listDecisions(p.name, { limit: WHY_DECISIONS }),
    ctx.store.listRuns(p.name, { limit: WHY_RUNS }),
    scheduledStatus(ctx, p),
    opts.window !== undefined ? getWindowView(ctx, opts.window) : Promise.resolve(undefined),
  ]);
  const window = asked ?? liveWindow(scheduled?.schedules.map((s) => s.current) ?? []);
  const tz = window?.timezone ?? scheduled?.schedules[0]?.timezone ?? 'UTC';
  const at = (ms: number) => instantIn(ms, tz);
  const readiness = decideReadiness(p.name, p.traits, results, p.readinessRule, now);
  const live = window !== null && !window.terminal;
  const watcher = live
    ? { nextAt: window.nextEvaluationAt?.at, dueNow: window.due.some((d) => d.kind === 'evaluate') }
    : undefined;
  const blocking: WhyTrait[] = readiness.blocking.map((b) => {
    const spec = p.traits.find((t) => t.type === b.trait);
    const view = readiness.traits.find((t) => t.trait === b.trait);
    const fromDecisions = blockingSince(b.trait, decisions);
    const expired = view ? staleSince(view) : undefined;
    // A result that expired after the newest decision started blocking then, not at a decision.
    const newest = decisions[0]?.decidedAt;
    const useTtl = expired !== undefined && (fromDecisions === undefined || (newest !== undefined && expired > newest));
    const since = useTtl ? expired : fromDecisions?.since;
    const u = unblockBy(spec ?? {}, watcher);
    const unblockAt = u.by === 'next-evaluation' ? at(u.at) : null;
    return {
      trait: b.trait,
      required: view?.required ?? true,
      state: b.state,
      reasonCode: b.reasonCode,
      reason: b.reason,
      value: view?.result?.value ?? null,
      source: spec?.push ? 'push-only' : spec?.evaluator !== undefined ? 'evaluator' : 'none',
      blockingSince: since === undefined ? null : at(since),
      sinceFrom: since === undefined ? null : useTtl ? 'ttl' : 'decisions',
      // An incomplete streak means something only when the read was cut at its limit: else it is the first decision.
      sinceAtLeast:
        !useTtl && fromDecisions !== undefined && !fromDecisions.complete && decisions.length >= WHY_DECISIONS,
      ttlLeftMs: b.state === 'STALE' ? null : (view?.ttlLeftMs ?? null),
      unblock: unblockText(p.name, b.trait, u, unblockAt, scheduled !== undefined),
      unblockBy: u.by,
      unblockAt,
    };
  });
  let nextWindow: WhyView['nextWindow'] = null;
  if (!live && scheduled) {
    for (const s of scheduled.schedules) {
      if (s.next && (!nextWindow || s.next.open.at < nextWindow.open.at)) {
        nextWindow = { key: s.next.key, open: s.next.open, after: s.next.after, deadline: s.next.deadline };
      }
    }
  }
  return {
    pipeline: p.name,
    now: at(now),
    summary: summaryOf(readiness.outcome, blocking, readiness.note, active, asked ?? null, ctx.clock.now(), tz),
    outcome: readiness.outcome,
    note: readiness.note ?? null,
    scheduled: scheduled !== undefined,
    window,
    deadlineInMs: live ? window.deadline.at - now : null,
    nextWindow,
    blocking,
    activeRun: active ?? null,
    lastRuns: runs,
  };
}

function summaryOf(
  outcome: Outcome,
  blocking: readonly WhyTrait[],
  note: string | undefined,
  active: RunState | undefined,
  asked: WindowView | null,
  now: number,
  tz: string,
): string {
  if (asked?.end) return `window ${asked.state}: ${asked.end.reason}`;
  if (active) {
    // "RUNNING 42m, waiting for a callback (none received), times out at 09:40": an async run nobody calls back.
    const note = runWaitNote(active, now, tz);
    return `${active.status}: run ${active.runId} holds the pipeline's lock (it has run; it is not over)${note ? `: ${note}` : ''}`;
  }
  if (outcome === 'READY') return 'READY: every required trait passes; nothing blocks a run';
  if (blocking.length === 0) return `NOT_READY: ${note ?? 'the readiness rule is not met'}`;
  return `NOT_READY: blocked by ${blocking.map((b) => `${b.trait} (${b.state})`).join(', ')}`;
}
