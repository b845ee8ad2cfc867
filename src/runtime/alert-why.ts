// The "why" of a window alert (SLA_AT_RISK, SLA_BREACHED, WINDOW_MISSED, RECOVERED): the blocking traits at that
// moment with their reasons and since when each has been blocking, or what else holds the window (never evaluated,
// its run still running, retries exhausted), as one human line and as details for machines. Read-only.
import type { BlockingTrait, PipelineSpec, TraitResult } from '../core/types.js';
import {
  blockingSince,
  decideReadiness,
  isoUtc,
  localDate,
  localHHMM,
  staleSince,
  type WindowRecord,
} from '../engine/index.js';
import type { Context } from './context-type.js';

/** How many decisions, newest first, are read to find since when a trait has been blocking. */
const WHY_DECISIONS = 200;

/** One blocking trait in an alert's details. */
export interface BlockingWhy {
  trait: string;
  state: BlockingTrait['state'];
  reasonCode: BlockingTrait['reasonCode'];
  reason: string;
  /** ISO 8601 UTC; null when unknown (never evaluated). */
  since: string | null;
}

/** What holds a window, in one word. */
export type WhyCause =
  | 'blocked'
  | 'never-evaluated'
  | 'not-yet-open'
  | 'ready'
  | 'running'
  | 'retrying'
  | 'retries-exhausted'
  | 'failed'
  | 'completed'
  | 'shadow';

export interface AlertWhy {
  /** One line: "upstream-dependency FAIL since 05:40: marker data/upstream/_SUCCESS missing". */
  why: string;
  cause: WhyCause;
  blocking: BlockingWhy[];
}

/** `05:40`, or `2026-06-01 05:40` when not on the same local day as `now`. */
function when(ms: number, now: number, tz: string): string {
  const day = localDate(ms, tz);
  return day === localDate(now, tz) ? localHHMM(ms, tz) : `${day} ${localHHMM(ms, tz)}`;
}

/**
 * The why of window `w` of pipeline `spec` at `now` (local times in `tz`), from its record, the stored trait results
 * and the decision history. Never throws for a store error: it says the history could not be read instead.
 */
export async function windowWhy(
  ctx: Context,
  spec: PipelineSpec,
  w: WindowRecord,
  results: readonly TraitResult[],
  now: number,
  tz: string,
): Promise<AlertWhy> {
  const at = (ms: number) => when(ms, now, tz);
  const last = w.attempts[w.attempts.length - 1];
  const d = w.terminal?.detail;
  if (d?.state === 'MISSED' && d.cause === 'retries-exhausted') {
    return {
      why: `retries exhausted: trigger failed ${d.attempts}×${d.lastError ? ` (${d.lastError})` : ''}`,
      cause: 'retries-exhausted',
      blocking: [],
    };
  }
  if (d?.state === 'MISSED' && d.cause === 'never-evaluated') {
    // Recorded MISSED straight away (catch-up): nothing was watching while it was open.
    const byCatchUp = w.version === 1 && w.createdAt === w.terminal?.at;
    return {
      why: byCatchUp
        ? 'never evaluated: no watcher was running while the window was open'
        : 'never evaluated before the deadline',
      cause: 'never-evaluated',
      blocking: [],
    };
  }
  if (d?.state === 'FAILED') return { why: `failed: ${w.terminal?.reason ?? d.cause}`, cause: 'failed', blocking: [] };
  if (d?.state === 'COMPLETED') {
    return { why: `completed at ${at(w.terminal?.at ?? now)} (run ${d.runId})`, cause: 'completed', blocking: [] };
  }
  if (d?.state === 'SHADOW') {
    return { why: `shadow mode: READY at ${at(w.terminal?.at ?? now)}`, cause: 'shadow', blocking: [] };
  }
  if ((w.state === 'TRIGGERING' || w.state === 'RUNNING') && last) {
    return {
      why: `run ${last.runId} (attempt ${last.attempt}) ${w.state} since ${at(last.claimedAt)}, not COMPLETED yet`,
      cause: 'running',
      blocking: [],
    };
  }
  // Evaluating (PENDING, OPEN, RETRY_WAIT) or MISSED while blocked: the blocking traits, as the evidence says now.
  const r = decideReadiness(spec.name, spec.traits, results, spec.readinessRule, now);
  const fromRecord = d?.state === 'MISSED' && d.cause === 'blocked' ? d.blocking : undefined;
  const blockers = r.outcome === 'NOT_READY' && r.blocking.length > 0 ? r.blocking : (fromRecord ?? []);
  let decisions: Awaited<ReturnType<Context['store']['listDecisions']>> = [];
  let historyError: string | undefined;
  if (blockers.length > 0) {
    try {
      decisions = await ctx.store.listDecisions(spec.name, { limit: WHY_DECISIONS });
    } catch (err) {
      historyError = (err as Error).message;
    }
  }
  const blocking: BlockingWhy[] = blockers.map((b) => {
    const view = r.traits.find((t) => t.trait === b.trait);
    const expired = view ? staleSince(view) : undefined;
    const fromDecisions = blockingSince(b.trait, decisions)?.since;
    const newest = decisions[0]?.decidedAt;
    const since =
      expired !== undefined && (fromDecisions === undefined || (newest !== undefined && expired > newest))
        ? expired
        : fromDecisions;
    return {
      trait: b.trait,
      state: b.state,
      reasonCode: b.reasonCode,
      reason: b.reason,
      since: since === undefined ? null : isoUtc(since),
    };
  });
  const retrying =
    w.state === 'RETRY_WAIT' && last
      ? `attempt ${last.attempt} failed${last.error ? ` (${last.error})` : ''}; next attempt at ${at(w.retryAt ?? now)}`
      : undefined;
  if (blocking.length > 0) {
    const lines = blocking.map((b) => {
      const since = b.since === null ? ' (never evaluated)' : ` since ${at(Date.parse(b.since))}`;
      return `${b.trait} ${b.state}${since}: ${b.reason || b.reasonCode}`;
    });
    const why = [retrying, ...lines, historyError ? `(decision history unavailable: ${historyError})` : undefined]
      .filter((s) => s !== undefined)
      .join('; ');
    return { why, cause: retrying ? 'retrying' : 'blocked', blocking };
  }
  if (retrying) return { why: retrying, cause: 'retrying', blocking: [] };
  if (w.state === 'PENDING') {
    return { why: `not open for triggering before ${at(w.afterAt)}`, cause: 'not-yet-open', blocking: [] };
  }
  if (r.outcome === 'NOT_READY') {
    if (w.lastDecision === undefined && results.length === 0) {
      return { why: 'never evaluated: no trait result yet', cause: 'never-evaluated', blocking: [] };
    }
    return { why: `NOT_READY: ${r.note ?? 'the readiness rule is not met'}`, cause: 'blocked', blocking: [] };
  }
  return {
    why:
      d?.state === 'MISSED'
        ? 'READY now, but the window ended before it was triggered'
        : 'READY: the trigger is about to fire (or waits for the run holding the lock)',
    cause: 'ready',
    blocking: [],
  };
}
