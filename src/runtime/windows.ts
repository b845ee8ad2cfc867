// Use-cases reading schedule windows: one window, a pipeline's recent windows, and a scheduled pipeline's status
// (current or next window, time to its deadline, next wake-up) — records from the store, next wake-ups from the
// pure engine (whatIsDue) at ctx.clock.now(). Read-only: nothing here writes or acts.
import type { PipelineWatchConfig } from '../config/schedule-schema.js';
import { InterlockError } from '../core/errors.js';
import { isInvalid } from '../core/invalid.js';
import type { InvalidPipeline, PipelineSpec, RunState, RunStatus, TraitResult, TriggerType } from '../core/types.js';
import { type DueAction, type DueResult, whatIsDue } from '../engine/due.js';
import { isoUtc, isValidTimeZone, localParts, offsetAt } from '../engine/local-time.js';
import { compileSchedule, nextOpen, type Schedule, windowTimes } from '../engine/schedule.js';
import {
  isWindowTerminal,
  WINDOW_STATES,
  type WindowAttempt,
  type WindowDecision,
  type WindowRecord,
  type WindowState,
  type WindowTerminal,
} from '../engine/window.js';
import { parseWindowKey, windowKey } from '../engine/window-key.js';
import { findPipeline, getPipeline } from './context.js';
import type { Context } from './context-type.js';

/** Default and largest page of windows (as for runs and history). */
export const WINDOW_LIST_DEFAULT = 20;
export const WINDOW_LIST_MAX = 1000;
/** How far back `status` looks for the last ended window of a schedule. */
const RECENT = 10;

/** An instant three ways: epoch ms, UTC ISO 8601, and the wall clock of the schedule's timezone with its offset. */
export interface InstantView {
  at: number;
  /** `2026-06-01T03:00:00Z` */
  utc: string;
  /** `2026-06-01T05:00:00+02:00` in the schedule's timezone. */
  local: string;
}

/** A run of an attempt, briefly (the whole run is at GET /api/runs/{runId}). */
export interface AttemptRunView {
  runId: string;
  status: RunStatus;
  reason?: string;
  /** The trigger's outcome in brief: ok, async, http status / exit code, error. */
  trigger?: {
    type: TriggerType;
    ok: boolean;
    async: boolean;
    httpStatus?: number;
    exitCode?: number | null;
    error?: string;
  };
}

export interface AttemptView extends Omit<WindowAttempt, 'claimedAt' | 'runDeadlineAt' | 'finishedAt'> {
  claimedAt: InstantView;
  runDeadlineAt?: InstantView;
  finishedAt?: InstantView;
  /** The run as stored now; null when the store has no such run (it lost it). */
  run: AttemptRunView | null;
}

export interface WakeView extends InstantView {
  /** Why: "upstream-dependency expires 06:10", "window daily may trigger from 05:30" (local times). */
  reason: string;
  /** The window it concerns, when it concerns one. */
  key?: string;
}

/** What the watcher has due right now (it acts on these at once; if they stay due, no watcher is running). */
export interface DueView {
  kind: DueAction['kind'];
  key?: string;
  /** One human sentence. */
  what: string;
}

export interface WindowView {
  key: string;
  pipeline: string;
  schedule: string;
  /** The schedule's timezone (UTC when the schedule is no longer configured). */
  timezone: string;
  mode: WindowRecord['mode'];
  state: WindowState;
  terminal: boolean;
  version: number;
  /** YYYY-MM-DD of the open instant in the schedule's timezone. */
  date: string;
  open: InstantView;
  after: InstantView;
  deadline: InstantView;
  createdAt: number;
  updatedAt: number;
  /** RETRY_WAIT: when the next attempt is due. */
  retryAt?: InstantView;
  /** Not before this is the open window evaluated again (watch backoff). */
  nextEvaluationAt?: InstantView;
  attempts: AttemptView[];
  /** The last readiness decision and why (its blocking traits); null before the first. */
  lastDecision: (Omit<WindowDecision, 'decidedAt'> & { decidedAt: InstantView }) | null;
  /** How it ended and why; null while it is live. */
  end: (Omit<WindowTerminal, 'at'> & { at: InstantView }) | null;
  /** A live window: the next instant the watcher looks at it again, and why. null when terminal or nothing will. */
  nextWake: WakeView | null;
  /** A live window: what is due for it right now. */
  due: DueView[];
  /** Why there is no wake-up (schedule no longer configured, pipeline INVALID or unknown…). */
  note?: string;
}

export interface WindowListView {
  pipeline: string;
  /** The pipeline's schedules as configured now ([] when it has none). */
  schedules: Array<{ name: string; timezone: string }>;
  windows: WindowView[];
  /** The pipeline's next wake-up over all its windows and schedules (null without schedules). */
  nextWake: WakeView | null;
  note?: string;
}

/** One schedule in `status`: its live window (or the next one to open), and the last that ended. */
export interface ScheduleStatusView {
  schedule: string;
  timezone: string;
  /** The live (non-terminal) window, if any; the newest when there are several. */
  current: WindowView | null;
  /** The window that opens next (not recorded yet); null when none will. */
  next: { key: string; open: InstantView; after: InstantView; deadline: InstantView; date: string } | null;
  /** The newest ended window: its state and why. */
  last: { key: string; state: WindowState; reason: string; open: InstantView; at: InstantView } | null;
  /** ms from now to the deadline of `current` (negative: past due); null without a current window. */
  deadlineInMs: number | null;
}

export interface ScheduledStatusView {
  pipeline: string;
  mode: PipelineWatchConfig['mode'];
  schedules: ScheduleStatusView[];
  nextWake: WakeView | null;
  /** Due right now over the whole pipeline (windows to record, open, evaluate, trigger…). */
  due: DueView[];
  note?: string;
}

export interface WindowListOptions {
  limit?: number;
  /** Only windows that opened strictly before this epoch ms. */
  before?: number;
  state?: WindowState;
}

/** The lists the adapters declare (api and cli do not import the engine). */
export { CATCHUP_POLICIES } from '../engine/schedule.js';
export type { WindowState } from '../engine/window.js';
/** How an attempt ended (WindowAttempt.result). */
export const ATTEMPT_RESULTS = ['COMPLETED', 'FAILED'] as const satisfies ReadonlyArray<WindowAttempt['result']>;
export { WINDOW_STATES } from '../engine/window.js';

// ---------------------------------------------------------------- formatting

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** `2026-06-01T05:00:00+02:00`: the wall clock in `tz` at `ms`, with its UTC offset. */
export function localIso(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  const off = Math.round(offsetAt(ms, tz) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${zone}`;
}

function instant(ms: number, tz: string): InstantView {
  return { at: ms, utc: isoUtc(ms), local: localIso(ms, tz) };
}

function dueView(a: DueAction): DueView {
  switch (a.kind) {
    case 'create':
      return { kind: a.kind, key: a.key, what: `record window ${a.key} (${a.record.state})` };
    case 'gap':
      return { kind: a.kind, what: a.gap.reason };
    case 'open':
      return { kind: a.kind, key: a.key, what: '`after` reached: open the window' };
    case 'miss':
      return { kind: a.kind, key: a.key, what: 'deadline passed: mark the window MISSED' };
    case 'retry':
      return { kind: a.kind, key: a.key, what: `backoff over: re-decide for attempt ${a.attempt}` };
    case 'evaluate':
      return { kind: a.kind, key: a.key, what: `re-evaluate ${a.traits.join(', ')}` };
    case 'trigger':
      return { kind: a.kind, key: a.key, what: `READY: claim attempt ${a.attempt} and fire the trigger` };
    case 'shadow':
      return { kind: a.kind, key: a.key, what: 'READY in shadow mode: record SHADOW (would trigger)' };
    case 'run-overdue':
      return { kind: a.kind, key: a.key, what: `run ${a.runId} (attempt ${a.attempt}) is past its deadline` };
  }
}

function runView(r: RunState | undefined): AttemptRunView | null {
  if (!r) return null;
  const v: AttemptRunView = { runId: r.runId, status: r.status };
  if (r.reason !== undefined) v.reason = r.reason;
  const t = r.trigger;
  if (t) {
    v.trigger = { type: t.type, ok: t.ok, async: t.async };
    if (t.httpStatus !== undefined) v.trigger.httpStatus = t.httpStatus;
    if (t.exitCode !== undefined) v.trigger.exitCode = t.exitCode;
    if (t.error !== undefined) v.trigger.error = t.error;
  }
  return v;
}

// ---------------------------------------------------------------- the pipeline's watch config, compiled

interface Watched {
  pipeline: PipelineSpec;
  config: PipelineWatchConfig;
  schedules: Schedule[];
  tz: Map<string, string>;
}

/** The pipeline's watch config with its schedules compiled; undefined when it has no schedules. */
function watched(ctx: Context, p: PipelineSpec): Watched | undefined {
  const config = ctx.project.watch.get(p.name);
  if (!config || config.schedules.length === 0) return undefined;
  const schedules: Schedule[] = [];
  for (const spec of config.schedules) {
    // Config validated these; one that does not compile is left out (it never triggers), never guessed at.
    const r = compileSchedule(spec);
    if (r.ok) schedules.push(r.schedule);
  }
  return { pipeline: p, config, schedules, tz: new Map(schedules.map((s) => [s.spec.name, s.spec.timezone])) };
}

function tzOf(w: Watched | undefined, schedule: string): string {
  const tz = w?.tz.get(schedule);
  return tz !== undefined && isValidTimeZone(tz) ? tz : 'UTC';
}

function due(w: Watched, records: readonly WindowRecord[], results: TraitResult[], now: number, wakeFor?: string) {
  return whatIsDue({
    pipeline: w.pipeline.name,
    schedules: w.schedules,
    ...(w.config.exclusions ? { exclusions: w.config.exclusions } : {}),
    mode: w.config.mode,
    records,
    // A view, not a watcher: "watching since now" asks what a watcher starting now would do with what is recorded.
    watchingSince: now,
    traits: w.pipeline.traits,
    rule: w.pipeline.readinessRule,
    results,
    reevaluateMs: w.config.reevaluateMs,
    now,
    ...(wakeFor !== undefined ? { wakeFor } : {}),
  });
}

function wakeView(r: DueResult, tz: (schedule?: string) => string): WakeView | null {
  const n = r.nextWake;
  if (!n) return null;
  const schedule = n.key ? parseWindowKey(n.key)?.schedule : undefined;
  const v: WakeView = { ...instant(n.at, tz(schedule)), reason: n.reason };
  if (n.key !== undefined) v.key = n.key;
  return v;
}

/** What the engine needs besides the records, read once per view. */
interface Reading {
  w?: Watched;
  heads: WindowRecord[];
  results: TraitResult[];
  now: number;
}

async function read(ctx: Context, w: Watched | undefined): Promise<Reading> {
  const now = ctx.clock.now();
  if (!w) return { heads: [], results: [], now };
  const [heads, results] = await Promise.all([
    ctx.store.windowHeads(w.pipeline.name),
    ctx.store.getTraitResults(w.pipeline.name),
  ]);
  return { w, heads, results, now };
}

/** Records for the engine: the heads, with `rec` in its stored version (it may be newer or older than a head). */
function withRecord(heads: readonly WindowRecord[], rec: WindowRecord): WindowRecord[] {
  return [...heads.filter((h) => h.key !== rec.key), rec];
}

async function viewOf(ctx: Context, rec: WindowRecord, r: Reading, note?: string): Promise<WindowView> {
  const tz = tzOf(r.w, rec.schedule);
  const at = (ms: number) => instant(ms, tz);
  const runs = await Promise.all(rec.attempts.map((a) => ctx.store.getRun(a.runId)));
  const attempts: AttemptView[] = rec.attempts.map((a, i) => {
    const v: AttemptView = {
      attempt: a.attempt,
      runId: a.runId,
      runKey: a.runKey,
      claimedAt: at(a.claimedAt),
      run: runView(runs[i]),
    };
    if (a.runDeadlineAt !== undefined) v.runDeadlineAt = at(a.runDeadlineAt);
    if (a.finishedAt !== undefined) v.finishedAt = at(a.finishedAt);
    if (a.result !== undefined) v.result = a.result;
    if (a.category !== undefined) v.category = a.category;
    if (a.error !== undefined) v.error = a.error;
    return v;
  });
  const live = !isWindowTerminal(rec.state);
  let nextWake: WakeView | null = null;
  let dueNow: DueView[] = [];
  let why = note;
  if (live && r.w) {
    const d = due(r.w, withRecord(r.heads, rec), r.results, r.now, rec.key);
    nextWake = wakeView(d, () => tz);
    dueNow = d.actions.filter((a) => 'key' in a && a.key === rec.key).map(dueView);
    if (!r.w.tz.has(rec.schedule)) {
      why ??= `schedule '${rec.schedule}' is no longer configured: this window never triggers; it runs out at its deadline`;
    }
  } else if (live && !r.w && why === undefined) {
    why = 'the pipeline has no schedules now: no watcher looks at this window';
  }
  const view: WindowView = {
    key: rec.key,
    pipeline: rec.pipeline,
    schedule: rec.schedule,
    timezone: tz,
    mode: rec.mode,
    state: rec.state,
    terminal: !live,
    version: rec.version,
    date: rec.date,
    open: at(rec.openAt),
    after: at(rec.afterAt),
    deadline: at(rec.deadlineAt),
    createdAt: rec.createdAt,
    updatedAt: rec.updatedAt,
    attempts,
    lastDecision: rec.lastDecision ? { ...rec.lastDecision, decidedAt: at(rec.lastDecision.decidedAt) } : null,
    end: rec.terminal ? { ...rec.terminal, at: at(rec.terminal.at) } : null,
    nextWake,
    due: dueNow,
  };
  if (rec.retryAt !== undefined) view.retryAt = at(rec.retryAt);
  if (live && rec.nextEvaluationAt !== undefined) view.nextEvaluationAt = at(rec.nextEvaluationAt);
  if (why !== undefined) view.note = why;
  return view;
}

// ---------------------------------------------------------------- the use-cases

/** Checks a window key's shape (INVALID_REQUEST: HTTP 400, exit 2) before the store is asked. */
export function checkWindowKey(key: string): { pipeline: string; schedule: string; openAt: number } {
  const parts = parseWindowKey(key);
  if (!parts) {
    const shown = key.length > 200 ? `${key.slice(0, 200)}…` : key;
    throw new InterlockError(
      'INVALID_REQUEST',
      `'${shown}' is not a window key: expected <pipeline>@<schedule>@<open instant, UTC ISO 8601>, e.g. orders@daily@2026-06-01T03:00:00Z`,
      { problems: [{ path: 'key', message: 'expected <pipeline>@<schedule>@<UTC ISO 8601 instant>' }] },
    );
  }
  return parts;
}

/**
 * One window by key: INVALID_REQUEST for a malformed key, PIPELINE_NOT_FOUND when its pipeline is unknown,
 * NOT_FOUND when the store has no such window. A window of an INVALID pipeline is shown, without a wake-up.
 */
export async function getWindowView(ctx: Context, key: string): Promise<WindowView> {
  const parts = checkWindowKey(key);
  const p: PipelineSpec | InvalidPipeline = await findPipeline(ctx, parts.pipeline);
  const rec = await ctx.store.getWindow(key);
  if (!rec) {
    throw new InterlockError('NOT_FOUND', `unknown window '${key}': the store has no window with that key`, {
      pipeline: parts.pipeline,
      window: key,
    });
  }
  if (isInvalid(p)) {
    return viewOf(
      ctx,
      rec,
      await read(ctx, undefined),
      'the pipeline is INVALID (config errors): never evaluated or triggered',
    );
  }
  return viewOf(ctx, rec, await read(ctx, watched(ctx, p)));
}

function checkLimit(limit: number | undefined): number {
  const n = limit ?? WINDOW_LIST_DEFAULT;
  if (!Number.isInteger(n) || n < 1 || n > WINDOW_LIST_MAX) {
    throw new InterlockError(
      'INVALID_REQUEST',
      `limit must be a whole number from 1 to ${WINDOW_LIST_MAX}, got ${String(limit)}`,
      {
        problems: [{ path: 'limit', message: `expected 1–${WINDOW_LIST_MAX}` }],
      },
    );
  }
  return n;
}

/**
 * A pipeline's windows, newest first (PIPELINE_NOT_FOUND if unknown; CONFIG_INVALID if INVALID). A pipeline without
 * schedules is not an error: its stored windows (from schedules since removed) are listed, with a note saying so.
 */
export async function listWindowsView(
  ctx: Context,
  name: string,
  opts: WindowListOptions = {},
): Promise<WindowListView> {
  const limit = checkLimit(opts.limit);
  if (opts.state !== undefined && !WINDOW_STATES.includes(opts.state)) {
    throw new InterlockError('INVALID_REQUEST', `state must be one of ${WINDOW_STATES.join(', ')}`, {
      problems: [{ path: 'state', message: `expected one of ${WINDOW_STATES.join(', ')}` }],
    });
  }
  const p = await getPipeline(ctx, name);
  const w = watched(ctx, p);
  const [records, r] = await Promise.all([
    ctx.store.listWindows(p.name, {
      limit,
      ...(opts.before !== undefined ? { before: opts.before } : {}),
      ...(opts.state !== undefined ? { state: opts.state } : {}),
    }),
    read(ctx, w),
  ]);
  const windows = await Promise.all(records.map((rec) => viewOf(ctx, rec, r)));
  const out: WindowListView = {
    pipeline: p.name,
    schedules: (w?.schedules ?? []).map((s) => ({ name: s.spec.name, timezone: s.spec.timezone })),
    windows,
    nextWake: w
      ? wakeView(due(w, r.heads, r.results, r.now), (s) => tzOf(w, s ?? w.schedules[0]?.spec.name ?? ''))
      : null,
  };
  if (!w)
    out.note = `pipeline '${p.name}' has no schedules: it runs on demand only (windows listed are from schedules since removed)`;
  return out;
}

/**
 * A scheduled pipeline's watcher status: per schedule its live window (or the next to open), time to the deadline,
 * the last ended window; and the pipeline's next wake-up. undefined for a pipeline without schedules.
 */
export async function scheduledStatus(ctx: Context, p: PipelineSpec): Promise<ScheduledStatusView | undefined> {
  const w = watched(ctx, p);
  if (!w) return undefined;
  const r = await read(ctx, w);
  const d = due(w, r.heads, r.results, r.now);
  const schedules: ScheduleStatusView[] = [];
  for (const s of w.schedules) {
    const name = s.spec.name;
    const tz = tzOf(w, name);
    const mine = r.heads.filter((h) => h.schedule === name).sort((a, b) => b.openAt - a.openAt);
    const live = mine.find((h) => !isWindowTerminal(h.state));
    // The heads hold only the newest window besides the live ones: the last ended one may be older.
    const ended =
      mine.find((h) => isWindowTerminal(h.state)) ??
      (await ctx.store.listWindows(p.name, { schedule: name, limit: RECENT })).find((h) => isWindowTerminal(h.state));
    const newest = mine[0]?.openAt ?? Number.NEGATIVE_INFINITY;
    const opens = nextOpen(s, Math.max(r.now, newest));
    const current = live ? await viewOf(ctx, live, r) : null;
    let next: ScheduleStatusView['next'] = null;
    if (opens !== undefined) {
      const t = windowTimes(s, opens);
      next = {
        key: windowKey(p.name, name, opens),
        open: instant(t.openAt, tz),
        after: instant(t.afterAt, tz),
        deadline: instant(t.deadlineAt, tz),
        date: t.date,
      };
    }
    schedules.push({
      schedule: name,
      timezone: tz,
      current,
      next,
      last: ended?.terminal
        ? {
            key: ended.key,
            state: ended.state,
            reason: ended.terminal.reason,
            open: instant(ended.openAt, tz),
            at: instant(ended.terminal.at, tz),
          }
        : null,
      deadlineInMs: live ? live.deadlineAt - r.now : null,
    });
  }
  const out: ScheduledStatusView = {
    pipeline: p.name,
    mode: w.config.mode,
    schedules,
    nextWake: wakeView(d, (s) => tzOf(w, s ?? schedules[0]?.schedule ?? '')),
    due: d.actions.map(dueView),
  };
  if (w.schedules.length < w.config.schedules.length)
    out.note = 'a configured schedule does not compile: it is left out';
  return out;
}
