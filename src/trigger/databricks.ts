// Databricks triggers: one job run per Interlock run through the Jobs API 2.1 (`run-now` with an idempotency_token
// derived from the run key: a repeat returns the same run_id), its state polled (`runs/get`), cancel (`runs/cancel`).
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DatabricksTriggerSpec, PlatformRun, TriggerOutcome } from '../core/types.js';
import type { TriggerContext } from './context.js';
import type { FindAnswer, FindContext, NativeTrigger, PlatformAnswer, PlatformContext } from './native.js';
import {
  callFailure,
  expandDeep,
  httpError,
  PlatformClient,
  platformCall,
  strings,
  varsOf,
} from './platform-client.js';

export const DEFAULT_DATABRICKS_TIMEOUT_SECONDS = 30;
/** Databricks' limit on idempotency_token. */
export const IDEMPOTENCY_TOKEN_MAX = 64;

/**
 * The idempotency_token for a run key: deterministic (the same key, the same token, so Databricks launches exactly one
 * run for it), 64 characters: `interlock-` and the first 54 hex digits of the key's SHA-256.
 */
export function databricksIdempotencyToken(runKey: string): string {
  const prefix = 'interlock-';
  return `${prefix}${createHash('sha256')
    .update(runKey)
    .digest('hex')
    .slice(0, IDEMPOTENCY_TOKEN_MAX - prefix.length)}`;
}

/** Variables referenced in the host, the token and the parameters. */
export function databricksTriggerVars(spec: DatabricksTriggerSpec): string[] {
  return varsOf([spec.host, spec.token, ...strings(spec.parameters ?? {})]);
}

class DatabricksClient extends PlatformClient {
  constructor(
    readonly spec: DatabricksTriggerSpec,
    ctx: PlatformContext,
  ) {
    super({ url: spec.host, timeout: spec.timeout }, ctx, DEFAULT_DATABRICKS_TIMEOUT_SECONDS);
  }

  start(): string | undefined {
    return this.prepare(databricksTriggerVars(this.spec), (expand) => ({
      header: `Bearer ${expand(this.spec.token)}`,
    }));
  }
}

/** A job run's state → the Interlock run's: only TERMINATED with SUCCESS completes it; any other end fails it. */
export function databricksRunStatus(life: string, result: string | undefined): 'RUNNING' | 'COMPLETED' | 'FAILED' {
  if (life === 'TERMINATED') return result === 'SUCCESS' ? 'COMPLETED' : 'FAILED';
  if (life === 'SKIPPED' || life === 'INTERNAL_ERROR') return 'FAILED';
  // QUEUED, PENDING, RUNNING, TERMINATING, BLOCKED, WAITING_FOR_RETRY (and anything new): not over yet.
  return 'RUNNING';
}

function runIdOf(json: unknown): string | undefined {
  const id = (json as { run_id?: unknown } | undefined)?.run_id;
  return typeof id === 'number' || (typeof id === 'string' && id !== '') ? String(id) : undefined;
}

/**
 * run-now with the run key's idempotency_token. After a lost answer the same request is sent once more: Databricks
 * answers it with the run it launched for the token (or launches the one run now), never a second run.
 */
async function fire(spec: DatabricksTriggerSpec, ctx: TriggerContext): Promise<TriggerOutcome> {
  const start = performance.now();
  const client = new DatabricksClient(spec, ctx);
  const outcome: TriggerOutcome = { type: 'databricks', ok: false, async: true, durationMs: 0, method: 'POST' };
  outcome.url = client.shownUrl();
  const done = (extra: Partial<TriggerOutcome>): TriggerOutcome => {
    Object.assign(outcome, extra);
    if (outcome.error !== undefined) outcome.error = client.clean(outcome.error);
    if (outcome.bodyExcerpt !== undefined) outcome.bodyExcerpt = client.clean(outcome.bodyExcerpt);
    outcome.durationMs = performance.now() - start;
    return outcome;
  };
  const refused = client.start();
  if (refused !== undefined) return done({ error: refused, requestSent: false, category: 'PERMANENT' });
  const body: Record<string, unknown> = {
    job_id: spec.jobId,
    idempotency_token: databricksIdempotencyToken(ctx.runKey ?? ctx.runId),
  };
  if (spec.parameters) body.job_parameters = expandDeep(spec.parameters, client.vars);
  let posted = await client.call('POST', '/api/2.1/jobs/run-now', body);
  let resent = false;
  if (!posted.ok && posted.sent && !posted.refused) {
    // The answer was lost: the token makes asking again safe (the same run_id, or the one run launched now).
    resent = true;
    const again = await client.call('POST', '/api/2.1/jobs/run-now', body);
    if (!again.ok)
      return done({
        error: `${posted.error}; asking again with the same idempotency_token: ${again.error}; Databricks may have started the run`,
        requestSent: true,
        category: 'UNKNOWN',
        ...(posted.timedOut ? { timedOut: true } : {}),
      });
    posted = again;
  }
  if (!posted.ok) {
    if (posted.refused) return done({ error: posted.error, requestSent: false, category: 'PERMANENT' });
    return done({ error: posted.error, requestSent: false, ...(posted.timedOut ? { timedOut: true } : {}) });
  }
  const r = posted.reply;
  const excerpt = r.body.toString('utf8').slice(0, 512);
  const extra: Partial<TriggerOutcome> = { httpStatus: r.status, ...(excerpt ? { bodyExcerpt: excerpt } : {}) };
  if (r.status >= 200 && r.status < 300) {
    const id = runIdOf(posted.json);
    if (id === undefined)
      return done({ ...extra, error: 'run-now answered without a run_id', requestSent: true, category: 'UNKNOWN' });
    return done({ ...extra, ok: true, platformRunId: id, ...(resent ? { adopted: true } : {}) });
  }
  // After a lost answer the first request may have launched the run: an error now cannot say it did not.
  if (resent)
    return done({
      ...extra,
      error: `the first answer was lost; asking again with the same idempotency_token: ${httpError(r)}; Databricks may have started the run`,
      requestSent: true,
      category: 'UNKNOWN',
    });
  return done({ ...extra, error: httpError(r), requestSent: true });
}

/** runs/get: state.life_cycle_state and state.result_state. */
async function poll(spec: DatabricksTriggerSpec, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer> {
  return platformCall(
    () => new DatabricksClient(spec, ctx),
    async (client) => {
      const what = `GET runs/get run_id=${job.id}`;
      const r = await client.call('GET', `/api/2.1/jobs/runs/get?run_id=${encodeURIComponent(job.id)}`);
      const failed = callFailure(client, r, what);
      if (failed || !r.ok) return failed as PlatformAnswer;
      const state = (r.json as { state?: { life_cycle_state?: unknown; result_state?: unknown } } | undefined)?.state;
      const life = typeof state?.life_cycle_state === 'string' ? state.life_cycle_state : undefined;
      if (life === undefined) return { ok: false, error: `${what}: the answer has no state.life_cycle_state` };
      const result = typeof state?.result_state === 'string' ? state.result_state : undefined;
      return { ok: true, state: result ? `${life}/${result}` : life, status: databricksRunStatus(life, result) };
    },
  );
}

/** runs/cancel: Databricks cancels the run asynchronously (it becomes TERMINATED/CANCELED). */
async function cancel(spec: DatabricksTriggerSpec, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer> {
  return platformCall(
    () => new DatabricksClient(spec, ctx),
    async (client) => {
      const runId = Number(job.id);
      const r = await client.call('POST', '/api/2.1/jobs/runs/cancel', {
        run_id: Number.isSafeInteger(runId) ? runId : job.id,
      });
      const failed = callFailure(client, r, `POST runs/cancel run_id=${job.id}`);
      if (failed) return failed;
      return { ok: true, state: 'cancel requested', status: 'FAILED' };
    },
  );
}

/**
 * run-now again with the run key's idempotency_token: Databricks answers with the run it launched for the token. The
 * Jobs API cannot list runs by token, so this is how a run key's run is found; if the first run-now never arrived,
 * this launches the one run of the key (never a second: the token is the same).
 */
async function find(spec: DatabricksTriggerSpec, runKey: string, ctx: FindContext): Promise<FindAnswer> {
  try {
    const client = new DatabricksClient(spec, ctx);
    const refused = client.start();
    if (refused !== undefined) return { ok: false, error: refused };
    const body: Record<string, unknown> = { job_id: spec.jobId, idempotency_token: databricksIdempotencyToken(runKey) };
    if (spec.parameters) body.job_parameters = expandDeep(spec.parameters, client.vars);
    const r = await client.call('POST', '/api/2.1/jobs/run-now', body);
    const failed = callFailure(client, r, 'POST run-now (the same idempotency_token)');
    if (failed || !r.ok) return { ok: false, error: (failed as { error: string }).error };
    const id = runIdOf(r.json);
    if (id === undefined) return { ok: false, error: 'run-now answered without a run_id' };
    return { ok: true, found: true, id };
  } catch (err) {
    return { ok: false, error: `internal error: ${(err as Error).message}` };
  }
}

export const databricksTrigger: NativeTrigger<DatabricksTriggerSpec> = {
  fire,
  poll,
  cancel,
  find,
  pollSeconds: (spec) => spec.poll,
};
