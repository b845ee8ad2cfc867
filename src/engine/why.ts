// PURE: the parts of "why hasn't it run?" that follow from records alone: since when a trait has been blocking (from
// the decision history) and what would unblock it.
import type { DecisionRecord, TraitView } from '../core/types.js';

/**
 * Since when `trait` has been blocking, from decisions newest first: the decidedAt of the oldest decision of the
 * unbroken streak, starting at the newest, in which it blocked. undefined when the newest decision did not block on it
 * (or there is none). `complete` is false when the streak reaches the end of the decisions given (it may be older).
 */
export function blockingSince(
  trait: string,
  decisions: readonly DecisionRecord[],
): { since: number; decisions: number; complete: boolean } | undefined {
  let since: number | undefined;
  let n = 0;
  for (const d of decisions) {
    if (!d.blocking.some((b) => b.trait === trait))
      return since === undefined ? undefined : { since, decisions: n, complete: true };
    since = d.decidedAt;
    n++;
  }
  return since === undefined ? undefined : { since, decisions: n, complete: false };
}

/** How a blocking trait gets its next result. */
export type UnblockBy =
  | { by: 'push-pass' }
  | { by: 'next-evaluation'; at: number }
  | { by: 'evaluation-due' }
  | { by: 'evaluate-on-demand' }
  | { by: 'no-evaluator' };

/**
 * What would unblock a trait: a push of PASS for a push-only trait; otherwise its evaluator's next run — at `nextAt`
 * (the window's next evaluation) when a watcher looks at the pipeline, now when an evaluation is due, or on demand
 * (`interlock evaluate`) when nothing re-evaluates it. A trait without an evaluator needs one (or pushes).
 */
export function unblockBy(
  t: { push?: true; evaluator?: string },
  watcher: { nextAt?: number; dueNow?: boolean } | undefined,
): UnblockBy {
  if (t.push) return { by: 'push-pass' };
  if (t.evaluator === undefined) return { by: 'no-evaluator' };
  if (watcher?.dueNow) return { by: 'evaluation-due' };
  if (watcher?.nextAt !== undefined) return { by: 'next-evaluation', at: watcher.nextAt };
  return { by: 'evaluate-on-demand' };
}

/**
 * When a trait blocking now started blocking if no decision recorded it: a result past its TTL became STALE at its
 * expiry. undefined when that is unknown (no result: never evaluated).
 */
export function staleSince(t: Pick<TraitView, 'state' | 'result'>): number | undefined {
  return t.state === 'STALE' ? t.result?.expiresAt : undefined;
}
