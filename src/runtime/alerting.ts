// Alerting as a subscriber of the event bus: which alerts an evaluation or a run transition raises (the rules are
// pure, in engine/alert-rules.ts), de-duplicated through the store's claim, and delivered once per use-case scope.
import { AsyncLocalStorage } from 'node:async_hooks';
import { makeAlert } from '../alert/index.js';
import type { Alert } from '../core/types.js';
import {
  type AlertClaim,
  type AlertDraft,
  readinessAlert,
  readinessFingerprint,
  traitAlert,
  traitFingerprint,
  transitionAlert,
} from '../engine/index.js';
import type { AlertKey } from '../store/index.js';
import type { Context } from './context-type.js';
import type { DomainEvents } from './events.js';

type Evaluation = DomainEvents['evaluation.decided']['evaluation'];

/** The alert condition a claim is about: one trait of a pipeline, or the pipeline's readiness. */
type AlertSubject = { pipeline: string; trait: string } | { pipeline: string; readiness: true };

/**
 * Claims one alert condition in the store (atomic, so several processes evaluating at once send one alert): the
 * only call of store.claimAlert.
 */
function claimAlert(ctx: Context, subject: AlertSubject, fingerprint: string, now: number): Promise<AlertClaim> {
  const key: AlertKey =
    'trait' in subject
      ? { pipeline: subject.pipeline, kind: 'trait', trait: subject.trait }
      : { pipeline: subject.pipeline, kind: 'readiness' };
  return ctx.store.claimAlert(key, fingerprint, now, ctx.repeatAfterMs);
}

const stamp = (d: AlertDraft, now: number): Alert => makeAlert(d.kind, d, now);

/**
 * Alerts on changes only: a trait going to FAIL (or changing its failure), the pipeline going NOT_READY (or its
 * blockers changing), and the pipeline recovering to READY. An unchanged condition repeats after repeatAfter.
 */
export async function evaluationAlerts(ctx: Context, ev: Evaluation, runId?: string): Promise<Alert[]> {
  const out: Alert[] = [];
  const { readiness } = ev;
  const pipeline = readiness.pipeline;
  const now = readiness.decidedAt;
  for (const t of readiness.traits) {
    const claim = await claimAlert(ctx, { pipeline, trait: t.trait }, traitFingerprint(t), now);
    const d = traitAlert(pipeline, t, claim, runId);
    if (d) out.push(stamp(d, now));
  }
  const claim = await claimAlert(ctx, { pipeline, readiness: true }, readinessFingerprint(readiness), now);
  const d = readinessAlert(readiness, ev.decision.id, claim, runId);
  if (d) out.push(stamp(d, now));
  return out;
}

/** Sends alerts; never throws and never changes the caller's outcome. */
export async function sendAlerts(ctx: Context, alerts: Alert[]): Promise<void> {
  if (alerts.length) await ctx.alerts.dispatch(alerts);
}

/** The alerts raised within the current withAlerts scope (per async call chain, so concurrent requests never mix). */
const scopes = new AsyncLocalStorage<Alert[]>();

/**
 * Runs a use-case collecting the alerts raised meanwhile (alert.raised), then sends them all in one dispatch when it
 * ends, however it ends: a slow sink never delays the control action (the trigger), only the caller, and at most by
 * one alerts.timeout. Called within another scope, it joins that one: the outermost use-case sends.
 */
export async function withAlerts<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  if (scopes.getStore()) return fn();
  const raised: Alert[] = [];
  try {
    return await scopes.run(raised, fn);
  } finally {
    await sendAlerts(ctx, raised);
  }
}

/**
 * Subscribes alerting to the Context's bus: evaluations (unless cut short by shutdown) and run transitions raise
 * alerts; a raised alert joins the current withAlerts scope, or is sent at once (in the background) outside one.
 * A store failure while claiming skips alerting with a warning: it never turns a decision into a failure.
 */
export function subscribeAlerting(ctx: Context): void {
  const bus = ctx.events;
  bus.subscribe('evaluation.decided', async ({ evaluation, runId, aborted }) => {
    // An evaluation cut short by shutdown is recorded (fail closed) but says nothing about the pipeline: no alerts.
    if (aborted) return;
    let alerts: Alert[];
    try {
      alerts = await evaluationAlerts(ctx, evaluation, runId);
    } catch (err) {
      ctx.log.warn(`alerting skipped: ${(err as Error).message}`);
      return;
    }
    for (const alert of alerts) await bus.publish('alert.raised', { alert });
  });
  bus.subscribe('run.transitioned', async ({ before, run, patch, cause }) => {
    const d = transitionAlert(before, run, patch, cause, run.updatedAt);
    if (d) await bus.publish('alert.raised', { alert: stamp(d, run.updatedAt) });
  });
  bus.subscribe('alert.raised', ({ alert }) => {
    const scope = scopes.getStore();
    if (scope) scope.push(alert);
    else void sendAlerts(ctx, [alert]);
  });
}
