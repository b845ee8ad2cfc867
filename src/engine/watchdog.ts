// PURE: the watchdog's rules for one active run: when it is stuck (past sla.expectedDuration: RUN_STUCK, once) and
// when it is overdue (past its deadline, maxRunSeconds: TIMED_OUT by timer), what it is waiting for (an async run
// whose completion callback never came is visible as such), and the TRAIT_STALE instants of an open window.
import { isTerminal } from '../core/run-status.js';
import type { ResolvedTrait, RunState, TraitResult } from '../core/types.js';
import type { AlertDraft } from './alert-rules.js';
import { localHHMM } from './local-time.js';
import { effectiveExpiry } from './trait-state.js';

/** What the watchdog knows of one run at `now`. */
export interface RunWatch {
  /** Past its deadline: time it out now. */
  overdue: boolean;
  /** TRIGGERING/RUNNING past the expected duration (and not overdue): RUN_STUCK (the claim makes it once). */
  stuck: boolean;
  /** When it is (or becomes) stuck; undefined without an expected duration. */
  stuckAt?: number;
  /** The next instant something becomes due for it (its stuck instant, its deadline); undefined: nothing will. */
  nextAt?: number;
}

/** Since when a run has been going: its trigger instant, else its creation. */
export function runStartedAt(run: RunState): number {
  return run.triggeredAt ?? run.createdAt;
}

/** The watchdog's view of `run` at `now` (`expectedDurationMs`: the sla's, if any). */
export function watchRun(run: RunState, expectedDurationMs: number | undefined, now: number): RunWatch {
  if (isTerminal(run.status)) return { overdue: false, stuck: false };
  const overdue = now >= run.deadlineAt;
  const going = run.status === 'TRIGGERING' || run.status === 'RUNNING';
  const stuckAt =
    going && expectedDurationMs !== undefined && expectedDurationMs > 0
      ? runStartedAt(run) + expectedDurationMs
      : undefined;
  const stuck = !overdue && stuckAt !== undefined && now >= stuckAt;
  const future = [run.deadlineAt, ...(stuckAt !== undefined ? [stuckAt] : [])].filter((t) => t > now);
  const out: RunWatch = { overdue, stuck };
  if (stuckAt !== undefined) out.stuckAt = stuckAt;
  if (!overdue && future.length > 0) out.nextAt = Math.min(...future);
  return out;
}

/** What an active run is waiting for. */
export type RunWait = 'start' | 'trigger' | 'command' | 'platform' | 'callback';

export function runWaitsFor(run: RunState): RunWait | undefined {
  if (isTerminal(run.status)) return undefined;
  if (run.status === 'PENDING') return 'start';
  if (run.job !== undefined && run.triggerType === 'command') return 'command';
  if (run.status === 'TRIGGERING') return 'trigger';
  if (run.platform !== undefined) return 'platform';
  if (run.status === 'RUNNING') return 'callback';
  return undefined;
}

/** "42m", "1h05m", "12s". */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

const WAIT_WORDS: Record<RunWait, string> = {
  start: 'not triggered yet',
  trigger: 'waiting for its trigger to answer',
  command: 'its command is running',
  platform: 'waiting for its platform run (polled)',
  callback: 'waiting for a callback (none received)',
};

/**
 * One line on an active run: "RUNNING 42m, waiting for a callback (none received), times out at 09:40" (times in
 * `tz`). undefined for an ended run.
 */
export function runWaitNote(run: RunState, now: number, tz = 'UTC'): string | undefined {
  const wait = runWaitsFor(run);
  if (!wait) return undefined;
  const age = shortDuration(now - runStartedAt(run));
  const end = now >= run.deadlineAt ? 'past its deadline' : `times out at ${localHHMM(run.deadlineAt, tz)}`;
  return `${run.status} ${age}, ${WAIT_WORDS[wait]}, ${end}`;
}

/** The RUN_STUCK alert of a run past its expected duration. */
export function stuckAlert(run: RunState, expectedDurationMs: number, now: number, tz = 'UTC'): AlertDraft {
  const note = runWaitNote(run, now, tz) ?? run.status;
  const d: AlertDraft = {
    kind: 'RUN_STUCK',
    pipeline: run.pipeline,
    runId: run.runId,
    message: `run ${run.runId} of ${run.pipeline} is stuck: ${note} (expected within ${shortDuration(expectedDurationMs)})`,
    details: {
      status: run.status,
      startedAt: runStartedAt(run),
      expectedDurationMs,
      deadlineAt: run.deadlineAt,
      waitingFor: runWaitsFor(run),
    },
  };
  if (run.window) d.window = run.window.key;
  return d;
}

/** One required trait result of an open window that goes (or went) STALE at `at`. */
export interface StaleInstant {
  trait: string;
  at: number;
  /** The expiring result's evaluatedAt: the alert's fingerprint (once per trait and expired result). */
  evaluatedAt: number;
}

/**
 * The STALE instants of a pipeline's required traits: each latest PASS result with an expiry (the stored one, bounded by
 * the trait's ttl configured now). `due`: those at or
 * before `now`; `next`: the earliest still to come.
 */
export function staleInstants(
  traits: readonly ResolvedTrait[],
  results: readonly TraitResult[],
  now: number,
): { due: StaleInstant[]; next?: number } {
  const due: StaleInstant[] = [];
  let next: number | undefined;
  for (const t of traits) {
    if (!t.required) continue;
    const r = results.find((x) => x.trait === t.type);
    if (r?.status !== 'PASS') continue;
    // The ttl configured now bounds the stored expiry, as readiness counts it (engine/trait-state.ts).
    const at = effectiveExpiry(r, t.ttlSeconds);
    if (at === undefined || !Number.isFinite(at)) continue;
    if (at <= now) due.push({ trait: t.type, at, evaluatedAt: r.evaluatedAt });
    else if (next === undefined || at < next) next = at;
  }
  return next === undefined ? { due } : { due, next };
}

/** The TRAIT_STALE alert of a required trait whose PASS expired while `window` is open. */
export function staleAlert(pipeline: string, window: string, s: StaleInstant, tz = 'UTC'): AlertDraft {
  return {
    kind: 'TRAIT_STALE',
    pipeline,
    window,
    trait: s.trait,
    message: `trait ${s.trait} of ${pipeline} went STALE at ${localHHMM(s.at, tz)}: its PASS (evaluated ${localHHMM(s.evaluatedAt, tz)}) expired while window ${window} is open`,
    details: { expiredAt: s.at, evaluatedAt: s.evaluatedAt },
  };
}
