// Which window records to create for a schedule at `now`: windows that opened on time, and those that opened while no
// watcher ran (catch-up: skip | latest | all). Every window that opened gets a record (PENDING or terminal with its
// reason); only past a hard cap are the oldest summarised in one explicit gap. Pure.
import { type ExclusionSpec, exclusionFor } from './exclusions.js';
import { isoUtc } from './local-time.js';
import {
  CATCHUP_ALL_MAX,
  countOpensBetween,
  nextOpen,
  previousOpen,
  type Schedule,
  type WindowTimes,
  windowTimes,
} from './schedule.js';
import { newWindow, type TerminalDetail, type WindowMode, type WindowRecord } from './window.js';
import { windowKey } from './window-key.js';

/** Most window records one plan creates per schedule; older unrecorded windows are reported as one `gap`. */
export const MAX_PLANNED_WINDOWS = 1000;

export interface PlanInput {
  pipeline: string;
  schedule: Schedule;
  exclusions?: ExclusionSpec;
  mode: WindowMode;
  /** openAt of the newest window already recorded for this schedule; undefined when it has none yet. */
  lastRecordedOpenAt?: number;
  /**
   * Since when a watcher has been running without a break (this process's start or lease). Windows opening at or
   * after it are on time; earlier ones without a record were missed while nobody watched: the catch-up policy
   * applies to them.
   */
  watchingSince: number;
  now: number;
}

/** Windows that opened, unrecorded, beyond MAX_PLANNED_WINDOWS: the runtime records/alerts this once. */
export interface WindowGap {
  schedule: string;
  /** How many (exact for `every`; undefined for cron, which would have to walk them all). */
  count?: number;
  fromOpenAt: number;
  toOpenAt: number;
  reason: string;
}

export interface WindowPlan {
  /** New records, oldest first: PENDING (to open) or terminal (EXCLUDED, SKIPPED, MISSED) with their reasons. */
  records: WindowRecord[];
  gap?: WindowGap;
}

type Terminal = { reason: string; detail: TerminalDetail & { state: 'MISSED' | 'EXCLUDED' | 'SKIPPED' } };

const neverEvaluated = (late: boolean): Terminal => ({
  reason: late
    ? 'deadline passed while no watcher was running; never evaluated'
    : 'deadline passed before the window could be opened; never evaluated',
  detail: { state: 'MISSED', cause: 'never-evaluated' },
});

/** The window records to create for one schedule at `now` (none when every opened window is recorded). */
export function planWindows(input: PlanInput): WindowPlan {
  const { schedule: s, now, watchingSince } = input;
  const policy = s.spec.catchup;
  // Start after the newest record. A schedule with none starts from the latest opening before the watcher started,
  // recorded even if already closed: "no records" may be a first start or a store that lost them; either way a
  // window that opened unwatched is written down, never skipped in silence.
  const from =
    input.lastRecordedOpenAt !== undefined
      ? input.lastRecordedOpenAt + 1
      : (previousOpen(s, Math.min(watchingSince, now) - 1) ?? Math.min(watchingSince, now));
  const to = now + 1; // a window opening exactly now is due now
  const first = nextOpen(s, from - 1);
  if (first === undefined || first >= to) return { records: [] }; // the usual answer: one (memoised) lookup
  // Newest first, so a long downtime costs at most MAX_PLANNED_WINDOWS + 1 lookups; anything older than the newest
  // MAX_PLANNED_WINDOWS is one explicit gap (never silently dropped).
  const newestFirst: number[] = [];
  for (let t = previousOpen(s, now); t !== undefined && t >= first; t = previousOpen(s, t - 1)) {
    newestFirst.push(t);
    if (newestFirst.length > MAX_PLANNED_WINDOWS) break;
  }
  let gap: WindowGap | undefined;
  if (newestFirst.length > MAX_PLANNED_WINDOWS) {
    const gapTo = newestFirst[MAX_PLANNED_WINDOWS];
    newestFirst.length = MAX_PLANNED_WINDOWS;
    // Counting cron openings means walking them all; `every` is arithmetic.
    const count = s.cron ? undefined : countOpensBetween(s, first, gapTo + 1);
    gap = {
      schedule: s.spec.name,
      fromOpenAt: first,
      toOpenAt: gapTo,
      ...(count !== undefined ? { count } : {}),
      reason: `${count !== undefined ? `${count} windows` : 'windows'} of ${s.spec.name} opened between ${isoUtc(first)} and ${isoUtc(gapTo)} with no watcher running; too many to record one by one (never evaluated)`,
    };
  }
  const times: WindowTimes[] = newestFirst.reverse().map((t) => windowTimes(s, t));

  const decided = new Map<number, Terminal | 'PENDING'>();
  const lateCandidates: WindowTimes[] = [];
  for (const w of times) {
    const ex = exclusionFor(w.date, input.exclusions);
    if (ex) decided.set(w.openAt, { reason: `excluded: ${ex.reason}`, detail: { state: 'EXCLUDED', match: ex } });
    else if (w.openAt >= watchingSince) decided.set(w.openAt, now < w.deadlineAt ? 'PENDING' : neverEvaluated(false));
    else if (now >= w.deadlineAt) decided.set(w.openAt, neverEvaluated(true));
    else lateCandidates.push(w);
  }

  // Late windows still before their deadline: the policy picks which open; the rest are SKIPPED, with the reason.
  // `latest` means the newest late window (excluded ones aside): if that one is past its deadline, none opens.
  const late = times.filter((w) => w.openAt < watchingSince && !exclusionFor(w.date, input.exclusions));
  const newest = late[late.length - 1];
  const opened = new Set<number>();
  if (policy === 'latest' && newest && lateCandidates.includes(newest)) opened.add(newest.openAt);
  if (policy === 'all') for (const w of lateCandidates.slice(-CATCHUP_ALL_MAX)) opened.add(w.openAt);
  const keyOf = (w: WindowTimes) => windowKey(input.pipeline, s.spec.name, w.openAt);
  for (const w of lateCandidates) {
    if (opened.has(w.openAt)) {
      decided.set(w.openAt, 'PENDING');
      continue;
    }
    const note =
      policy === 'skip'
        ? "opened while no watcher was running; catch-up policy 'skip'"
        : policy === 'latest'
          ? `opened while no watcher was running; catch-up policy 'latest' opens only the newest missed window${newest ? ` (${keyOf(newest)})` : ''}`
          : `opened while no watcher was running; catch-up policy 'all' opens at most the newest ${CATCHUP_ALL_MAX}`;
    decided.set(w.openAt, {
      reason: note,
      detail: {
        state: 'SKIPPED',
        policy,
        note,
        ...(policy === 'latest' && newest ? { supersededBy: keyOf(newest) } : {}),
      },
    });
  }

  const records = times.map((w) => {
    const d = decided.get(w.openAt) ?? neverEvaluated(true);
    const base = { key: keyOf(w), pipeline: input.pipeline, times: w, mode: input.mode, now };
    return d === 'PENDING' ? newWindow(base) : newWindow({ ...base, terminal: d });
  });
  return gap ? { records, gap } : { records };
}
