// Retention: which old records a prune may delete (decisions, ended runs with their events, ended windows), written
// once for every store. A store selects candidates cheaply (by age, in indexes) and asks these rules about each.
import { isTerminal } from '../core/run-status.js';
import type { RunState } from '../core/types.js';
import { isWindowTerminal, type WindowRecord } from '../engine/window.js';
import { alertKeyId } from './rules.js';

/** How long each kind of record is kept (ms), counted from when it last changed. */
export interface RetentionPolicy {
  decisionsMs: number;
  runsMs: number;
  windowsMs: number;
}

export const DAY_MS = 86_400_000;
/** `retention` defaults: decisions 30 days, runs and windows 90 days. */
export const DEFAULT_RETENTION: RetentionPolicy = {
  decisionsMs: 30 * DAY_MS,
  runsMs: 90 * DAY_MS,
  windowsMs: 90 * DAY_MS,
};

export interface PruneRequest {
  /** The pipelines whose records are pruned (a store cannot know YAML-defined pipelines by itself). */
  pipelines: readonly string[];
  policy: RetentionPolicy;
  /** The caller's clock (epoch ms). */
  now: number;
  /** At most this many records of each kind (decisions, windows, runs) per pipeline in this call. */
  limit: number;
  /** Count what would go; delete nothing. */
  dryRun?: boolean;
}

/** What a prune deleted (or, dry, would delete). runEvents: the transitions of the deleted runs. */
export interface PruneCounts {
  decisions: number;
  windows: number;
  runs: number;
  runEvents: number;
  /** Alert de-duplication marks of deleted windows and runs (stores that keep them apart from the record). */
  alertMarks: number;
}

export const emptyCounts = (): PruneCounts => ({ decisions: 0, windows: 0, runs: 0, runEvents: 0, alertMarks: 0 });

export function addCounts(a: PruneCounts, b: PruneCounts): PruneCounts {
  return {
    decisions: a.decisions + b.decisions,
    windows: a.windows + b.windows,
    runs: a.runs + b.runs,
    runEvents: a.runEvents + b.runEvents,
    alertMarks: a.alertMarks + b.alertMarks,
  };
}

/**
 * A window may go when it ended (terminal) longer than `windowsMs` ago, it is not the newest window of its schedule
 * (the watcher plans the next windows from that one: deleting it could open an old window again), and none of its
 * attempts' runs is still going (a run that is gone already counts as ended).
 */
export function windowPrunable(
  w: WindowRecord,
  o: { isNewest: boolean; runOf: (runId: string) => RunState | undefined; now: number; policy: RetentionPolicy },
): boolean {
  if (o.isNewest || !isWindowTerminal(w.state)) return false;
  const endedAt = w.terminal?.at ?? w.updatedAt;
  if (!(endedAt < o.now - o.policy.windowsMs)) return false;
  return w.attempts.every((a) => {
    const run = o.runOf(a.runId);
    return run === undefined || isTerminal(run.status);
  });
}

/**
 * A run may go when it ended longer than `runsMs` ago, it does not hold (or still keep) its pipeline's lock, and,
 * when it is a window's attempt, that window is gone: a window's run keys are what make each attempt fire at most
 * once, so they are dropped only after the window itself (never re-opened: see windowPrunable).
 */
export function runPrunable(
  run: RunState,
  o: { activeRunId: string | undefined; windowExists: (key: string) => boolean; now: number; policy: RetentionPolicy },
): boolean {
  if (!isTerminal(run.status) || run.runId === o.activeRunId) return false;
  if (run.lockHeldUntil !== undefined && run.lockHeldUntil >= o.now) return false;
  const endedAt = run.finishedAt ?? run.updatedAt;
  if (!(endedAt < o.now - o.policy.runsMs)) return false;
  return run.window === undefined || !o.windowExists(run.window.key);
}

/** The alertKeyId prefix of every alert mark about one window / one run of `pipeline`. */
export function windowAlertPrefix(pipeline: string, window: string): string {
  return `${alertKeyId({ pipeline, kind: 'window', window, alert: '' })}`;
}
export function runAlertPrefix(pipeline: string, runId: string): string {
  return `${alertKeyId({ pipeline, kind: 'run', runId, alert: '' })}`;
}
