// Airflow triggers: one DAG run per Interlock run through the stable REST API (v1: Airflow 2, v2: Airflow 3), its
// dag_run_id derived from the run key (Airflow refuses a second one: 409), its state polled, cancel marks it failed.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { windowVars } from '../core/run-vars.js';
import type { AirflowTriggerSpec, PlatformRun, TriggerOutcome } from '../core/types.js';
import type { TriggerContext } from './context.js';
import type { FindAnswer, FindContext, NativeTrigger, PlatformAnswer, PlatformContext } from './native.js';
import {
  type CallError,
  type CallResult,
  callFailure,
  expandDeep,
  httpError,
  PlatformClient,
  platformCall,
  strings,
  varsOf,
} from './platform-client.js';

export const DEFAULT_AIRFLOW_TIMEOUT_SECONDS = 30;
/** Airflow's dag_run.run_id column is 250 characters. */
export const AIRFLOW_RUN_ID_MAX = 250;
/** Characters Airflow's default `allowed_run_id_pattern` accepts (^[A-Za-z0-9_.~:+-]+$). */
const RUN_ID_UNSAFE = /[^A-Za-z0-9_.~:+-]/g;
const PREFIX = 'interlock__';

/**
 * The dag_run_id for a run key: the same key always gives the same id (Airflow's idempotency), a different key a
 * different one. A key Airflow would refuse as written (`@`, `#` of a window attempt's key) has those characters
 * replaced and a hash of the original appended, so two keys never share an id.
 */
export function airflowDagRunId(runKey: string): string {
  const safe = runKey.replace(RUN_ID_UNSAFE, '_');
  if (safe === runKey && PREFIX.length + safe.length <= AIRFLOW_RUN_ID_MAX) return `${PREFIX}${safe}`;
  const hash = createHash('sha256').update(runKey).digest('hex').slice(0, 16);
  return `${PREFIX}${safe.slice(0, AIRFLOW_RUN_ID_MAX - PREFIX.length - hash.length - 2)}__${hash}`;
}

/** Variables referenced in the url, the auth values and conf's strings, in order of first appearance. */
export function airflowTriggerVars(spec: AirflowTriggerSpec): string[] {
  return varsOf([spec.url, ...strings(spec.auth ?? {}), ...strings(spec.conf ?? {})]);
}

/** An Airflow client: the spec's url, its bearer token or basic credentials. */
class AirflowClient extends PlatformClient {
  constructor(
    readonly spec: AirflowTriggerSpec,
    ctx: PlatformContext,
  ) {
    super(spec, ctx, DEFAULT_AIRFLOW_TIMEOUT_SECONDS);
  }

  start(): string | undefined {
    return this.prepare(airflowTriggerVars(this.spec), (expand) => {
      const auth = this.spec.auth;
      if (auth?.bearer !== undefined) return { header: `Bearer ${expand(auth.bearer)}` };
      if (auth?.username === undefined) return {};
      const pass = expand(auth.password ?? '');
      const basic = Buffer.from(`${expand(auth.username)}:${pass}`).toString('base64');
      return { header: `Basic ${basic}`, secrets: [basic, pass] };
    });
  }

  /** `/api/v1` or `/api/v2`: as configured, or (auto) v2 when GET /api/v2/version answers, v1 when it is 404. */
  async version(): Promise<{ ok: true; version: 'v1' | 'v2' } | ({ ok: false; httpStatus?: number } & CallError)> {
    const v = this.spec.apiVersion ?? 'auto';
    if (v !== 'auto') return { ok: true, version: v };
    const r = await this.call('GET', '/api/v2/version');
    if (!r.ok) return { ...r, sent: false, error: `asking Airflow for its API version: ${r.error}` };
    if (r.reply.status === 200) return { ok: true, version: 'v2' };
    if (r.reply.status === 404) return { ok: true, version: 'v1' };
    return {
      ok: false,
      sent: false,
      httpStatus: r.reply.status,
      error: `asking Airflow for its API version (GET /api/v2/version): ${httpError(r.reply)}`,
    };
  }

  dagRunPath(version: string, dagRunId?: string): string {
    const runs = `/api/${version}/dags/${encodeURIComponent(this.spec.dag)}/dagRuns`;
    return dagRunId === undefined ? runs : `${runs}/${encodeURIComponent(dagRunId)}`;
  }
}

/** The `state` of a DAGRun body, when it has one. */
function stateOf(json: unknown): string | undefined {
  const s = (json as { state?: unknown } | undefined)?.state;
  return typeof s === 'string' ? s : undefined;
}

/** Airflow's DAG run state → the Interlock run's. queued/running (and anything new) keep it RUNNING. */
export function airflowRunStatus(state: string | undefined): 'RUNNING' | 'COMPLETED' | 'FAILED' {
  if (state === 'success') return 'COMPLETED';
  if (state === 'failed') return 'FAILED';
  return 'RUNNING';
}

/** The DAG run's conf: the configured one, expanded, and Interlock's run id, run key and window under `interlock`. */
function dagRunConf(spec: AirflowTriggerSpec, ctx: PlatformContext, vars: NodeJS.ProcessEnv) {
  const own: Record<string, string> = {
    run_id: ctx.runId,
    run_key: ctx.runKey ?? ctx.runId,
    pipeline: ctx.pipeline,
  };
  for (const [k, v] of Object.entries(windowVars(ctx.window)))
    if (v !== undefined) own[k.replace(/^INTERLOCK_/, '').toLowerCase()] = v;
  return { ...(expandDeep(spec.conf ?? {}, vars) as Record<string, unknown>), interlock: own };
}

/**
 * Triggers the DAG run for this run's key. 2xx: created; 409: it exists already (a repeat under the same key):
 * adopted, never a second one. After a lost answer the DAG run is looked up by its id: found → adopted; otherwise
 * the outcome stays UNKNOWN (the POST may still land), never retried. Never throws.
 */
async function fire(spec: AirflowTriggerSpec, ctx: TriggerContext): Promise<TriggerOutcome> {
  const start = performance.now();
  const client = new AirflowClient(spec, ctx);
  const dagRunId = airflowDagRunId(ctx.runKey ?? ctx.runId);
  const outcome: TriggerOutcome = {
    type: 'airflow',
    ok: false,
    async: true,
    durationMs: 0,
    method: 'POST',
    url: client.shownUrl(),
    platformRunId: dagRunId,
  };
  const done = (extra: Partial<TriggerOutcome>): TriggerOutcome => {
    Object.assign(outcome, extra);
    if (outcome.error !== undefined) outcome.error = client.clean(outcome.error);
    if (outcome.bodyExcerpt !== undefined) outcome.bodyExcerpt = client.clean(outcome.bodyExcerpt);
    outcome.durationMs = performance.now() - start;
    return outcome;
  };
  const refused = client.start();
  if (refused !== undefined) return done({ error: refused, requestSent: false, category: 'PERMANENT' });
  const version = await client.version();
  if (!version.ok) {
    const category =
      version.refused || (version.httpStatus !== undefined && version.httpStatus !== 429 && version.httpStatus < 500)
        ? 'PERMANENT'
        : version.timedOut
          ? 'TIMEOUT'
          : 'TRANSIENT';
    return done({
      error: version.error,
      requestSent: false,
      category,
      ...(version.timedOut ? { timedOut: true } : {}),
    });
  }
  outcome.apiVersion = version.version;
  const body: Record<string, unknown> = { dag_run_id: dagRunId, conf: dagRunConf(spec, ctx, client.vars) };
  // Airflow 3 requires logical_date (nullable); null = a run not tied to a data interval.
  if (version.version === 'v2') body.logical_date = null;
  const posted = await client.call('POST', client.dagRunPath(version.version), body);
  if (!posted.ok) {
    if (posted.refused) return done({ error: posted.error, requestSent: false, category: 'PERMANENT' });
    if (!posted.sent)
      return done({ error: posted.error, requestSent: false, ...(posted.timedOut ? { timedOut: true } : {}) });
    // Sent, and no answer: ask Airflow whether the DAG run exists before saying anything.
    const found = await client.call('GET', client.dagRunPath(version.version, dagRunId));
    if (found.ok && found.reply.status === 200) {
      const state = stateOf(found.json);
      return done({ ok: true, adopted: true, ...(state ? { platformState: state } : {}) });
    }
    const lookup = found.ok ? httpError(found.reply) : found.error;
    return done({
      error: `${posted.error}; the request was sent, so Airflow may have started the DAG run (looking it up: ${lookup})`,
      requestSent: true,
      category: 'UNKNOWN',
      ...(posted.timedOut ? { timedOut: true } : {}),
    });
  }
  const r = posted.reply;
  const excerpt = r.body.toString('utf8').slice(0, 512);
  const extra: Partial<TriggerOutcome> = { httpStatus: r.status, ...(excerpt ? { bodyExcerpt: excerpt } : {}) };
  if (r.status >= 200 && r.status < 300) {
    const id = (posted.json as { dag_run_id?: unknown } | undefined)?.dag_run_id;
    const state = stateOf(posted.json);
    return done({
      ...extra,
      ok: true,
      ...(typeof id === 'string' ? { platformRunId: id } : {}),
      ...(state ? { platformState: state } : {}),
    });
  }
  if (r.status === 409) {
    // Already triggered under this key: adopt it (its state comes with the next poll if this read fails).
    const found = await client.call('GET', client.dagRunPath(version.version, dagRunId));
    const state = found.ok && found.reply.status === 200 ? stateOf(found.json) : undefined;
    return done({ ...extra, ok: true, adopted: true, ...(state ? { platformState: state } : {}) });
  }
  return done({ ...extra, error: httpError(r), requestSent: true });
}

/** The answer of a state call (poll or cancel) as the runtime reads it. */
function answer(client: AirflowClient, r: CallResult, what: string): PlatformAnswer {
  const failed = callFailure(client, r, what);
  if (failed || !r.ok) return failed as PlatformAnswer;
  const state = stateOf(r.json);
  if (state === undefined) return { ok: false, error: `${what}: the answer has no state` };
  return { ok: true, state, status: airflowRunStatus(state) };
}

/** GET the DAG run: its state (queued, running → RUNNING; success → COMPLETED; failed → FAILED). */
async function poll(spec: AirflowTriggerSpec, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer> {
  return platformCall(
    () => new AirflowClient(spec, ctx),
    async (client) => {
      const version = job.apiVersion === 'v2' ? 'v2' : 'v1';
      const r = await client.call('GET', client.dagRunPath(version, job.id));
      return answer(client, r, `GET DAG run ${job.id}`);
    },
  );
}

/** Cancel = PATCH the DAG run's state to failed (Airflow stops scheduling its tasks). */
async function cancel(spec: AirflowTriggerSpec, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer> {
  return platformCall(
    () => new AirflowClient(spec, ctx),
    async (client) => {
      const version = job.apiVersion === 'v2' ? 'v2' : 'v1';
      const r = await client.call('PATCH', client.dagRunPath(version, job.id), { state: 'failed' });
      return answer(client, r, `PATCH DAG run ${job.id} state=failed`);
    },
  );
}

/** GET the DAG run whose dag_run_id the run key gives: 200 → found (with its state), 404 → none. */
async function find(spec: AirflowTriggerSpec, runKey: string, ctx: FindContext): Promise<FindAnswer> {
  try {
    const client = new AirflowClient(spec, ctx);
    const refused = client.start();
    if (refused !== undefined) return { ok: false, error: refused };
    const version = await client.version();
    if (!version.ok) return { ok: false, error: client.clean(version.error) };
    const dagRunId = airflowDagRunId(runKey);
    const r = await client.call('GET', client.dagRunPath(version.version, dagRunId));
    const what = `GET DAG run ${dagRunId}`;
    if (!r.ok) return { ok: false, error: client.clean(`${what}: ${r.error}`) };
    if (r.reply.status === 404) return { ok: true, found: false };
    if (r.reply.status !== 200) return { ok: false, error: client.clean(`${what}: ${httpError(r.reply)}`) };
    const state = stateOf(r.json);
    return { ok: true, found: true, id: dagRunId, apiVersion: version.version, ...(state ? { state } : {}) };
  } catch (err) {
    return { ok: false, error: `internal error: ${(err as Error).message}` };
  }
}

export const airflowTrigger: NativeTrigger<AirflowTriggerSpec> = {
  fire,
  poll,
  cancel,
  find,
  pollSeconds: (spec) => spec.poll,
};
