// Alerting use-case logic: which alerts an evaluation or run event raises, de-duplicated through the store.
import { makeAlert } from '../alert/index.js';
import type { Alert } from '../core/types.js';
import type { Context } from './context.js';
import type { Evaluation } from './evaluate.js';

/**
 * Alerts on changes only: a trait going to FAIL (or changing its failure), the pipeline going NOT_READY (or its
 * blockers changing), and the pipeline recovering to READY. An unchanged condition repeats after repeatAfter.
 * The store's claim is atomic, so several processes evaluating at once send one alert.
 */
export async function evaluationAlerts(ctx: Context, ev: Evaluation, runId?: string): Promise<Alert[]> {
  const out: Alert[] = [];
  const { readiness } = ev;
  const pipeline = readiness.pipeline;
  const now = readiness.decidedAt;
  for (const t of readiness.traits) {
    const fp = t.state === 'PASS' ? 'PASS' : `${t.state}:${t.result?.reasonCode ?? 'STALE'}`;
    const claim = await ctx.store.claimAlert(`${pipeline}\u0000trait\u0000${t.trait}`, fp, now, ctx.repeatAfterMs);
    if (claim.fire && t.state !== 'PASS') {
      out.push(
        makeAlert(
          'TRAIT_FAILED',
          {
            pipeline,
            trait: t.trait,
            runId,
            message: `trait ${t.trait} is ${t.state}: ${t.result?.reason ?? t.result?.reasonCode ?? 'no result'}`,
            details: { state: t.state, reasonCode: t.result?.reasonCode, value: t.result?.value, required: t.required },
          },
          now,
        ),
      );
    }
  }
  const fp =
    readiness.outcome === 'READY'
      ? 'READY'
      : `NOT_READY:${readiness.blocking
          .map((b) => `${b.trait}=${b.reasonCode}`)
          .sort()
          .join(',')}`;
  const claim = await ctx.store.claimAlert(`${pipeline}\u0000readiness`, fp, now, ctx.repeatAfterMs);
  if (claim.fire && readiness.outcome === 'NOT_READY') {
    out.push(
      makeAlert(
        'PIPELINE_BLOCKED',
        {
          pipeline,
          runId,
          message: `${pipeline} is NOT_READY: ${readiness.blocking.map((b) => `${b.trait} (${b.reasonCode})`).join(', ') || readiness.note}`,
          details: { blocking: readiness.blocking, decisionId: ev.decision.id, note: readiness.note },
        },
        now,
      ),
    );
  } else if (claim.fire && claim.previous !== undefined && claim.previous !== 'READY') {
    out.push(makeAlert('PIPELINE_READY', { pipeline, runId, message: `${pipeline} is READY again` }, now));
  }
  return out;
}

/** Sends alerts; never throws and never changes the caller's outcome. */
export async function sendAlerts(ctx: Context, alerts: Alert[]): Promise<void> {
  if (alerts.length) await ctx.alerts.dispatch(alerts);
}

/** evaluationAlerts, swallowing store errors: alerting must not turn a decision into a failure. */
export async function collectEvaluationAlerts(ctx: Context, ev: Evaluation, runId?: string): Promise<Alert[]> {
  try {
    return await evaluationAlerts(ctx, ev, runId);
  } catch (err) {
    ctx.log.warn(`alerting skipped: ${(err as Error).message}`);
    return [];
  }
}

/** collectEvaluationAlerts + sendAlerts. */
export async function alertOnEvaluation(ctx: Context, ev: Evaluation, runId?: string): Promise<void> {
  await sendAlerts(ctx, await collectEvaluationAlerts(ctx, ev, runId));
}
