// Airflow trigger against a local Airflow API mock (test/support/airflow-mock.ts) that checks requests like Airflow:
// POST dagRuns with dag_run_id from the run key (a repeat is 409: adopted), v1 and v2 shapes (v2: logical_date
// null), auth, the error categories, a lost answer reconciled by id, polling and cancel.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are the subject under test.
import { afterEach, describe, expect, it } from 'vitest';
import { type AirflowMock, startAirflowMock } from '../../test/support/airflow-mock.js';
import type { AirflowTriggerSpec, PlatformRun } from '../core/types.js';
import { failureCategory } from '../engine/retry.js';
import { AIRFLOW_RUN_ID_MAX, airflowDagRunId, airflowTrigger } from './airflow.js';
import type { TriggerContext } from './context.js';
import { fireTrigger, missingTriggerVars } from './fire.js';

const TOKEN = 'tok-secret-123456';
const mocks: AirflowMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

async function mock(version: 'v1' | 'v2', authorization = `Bearer ${TOKEN}`): Promise<AirflowMock> {
  const m = await startAirflowMock({ version, dags: ['daily_sales'], authorization });
  mocks.push(m);
  return m;
}

function spec(m: AirflowMock, extra: Partial<AirflowTriggerSpec> = {}): AirflowTriggerSpec {
  return {
    type: 'airflow',
    url: m.url,
    dag: 'daily_sales',
    auth: { bearer: '${AIRFLOW_TOKEN}' },
    conf: { day: '${INTERLOCK_WINDOW_DATE}', fixed: 1 },
    apiVersion: 'auto',
    ...extra,
  };
}

const KEY = 'sales@daily@2026-12-01T04:00:00.000Z#1';
function ctx(extra: Partial<TriggerContext> = {}): TriggerContext {
  return {
    projectDir: '/',
    pipeline: 'sales',
    runId: '01RUN',
    runKey: KEY,
    window: {
      key: 'sales@daily@2026-12-01T04:00:00.000Z',
      schedule: 'daily',
      openAt: Date.parse('2026-12-01T04:00:00Z'),
      date: '2026-12-01',
    },
    env: { AIRFLOW_TOKEN: TOKEN },
    ...extra,
  };
}

const posts = (m: AirflowMock) => m.requests.filter((r) => r.method === 'POST');

describe('airflowDagRunId', () => {
  it('is deterministic, in the charset Airflow accepts, distinct for keys that differ, and at most 250 chars', () => {
    const a = airflowDagRunId(KEY);
    expect(a).toBe(airflowDagRunId(KEY));
    expect(a).toMatch(/^[A-Za-z0-9_.~:+-]+$/);
    expect(a.startsWith('interlock__sales_daily_2026-12-01T04:00:00.000Z_1__')).toBe(true);
    // '@' and '#' both become '_': the hash keeps them apart.
    expect(airflowDagRunId('a@b')).not.toBe(airflowDagRunId('a#b'));
    expect(airflowDagRunId('01JABCDEF')).toBe('interlock__01JABCDEF');
    expect(airflowDagRunId('x'.repeat(400)).length).toBeLessThanOrEqual(AIRFLOW_RUN_ID_MAX);
    expect(airflowDagRunId(`${'x'.repeat(400)}1`)).not.toBe(airflowDagRunId(`${'x'.repeat(400)}2`));
  });
});

describe('fire', () => {
  it('v1: POSTs /api/v1/dags/{dag}/dagRuns with the run key as dag_run_id, the conf and the bearer token', async () => {
    const m = await mock('v1');
    const o = await fireTrigger(spec(m, { apiVersion: 'v1' }), ctx());
    expect(o).toMatchObject({
      type: 'airflow',
      ok: true,
      async: true,
      httpStatus: 200,
      apiVersion: 'v1',
      platformState: 'queued',
    });
    expect(o.platformRunId).toBe(airflowDagRunId(KEY));
    const [p] = posts(m);
    expect(p.path).toBe('/api/v1/dags/daily_sales/dagRuns');
    expect(p.authorization).toBe(`Bearer ${TOKEN}`);
    expect(p.contentType).toBe('application/json');
    expect(p.body).toEqual({
      dag_run_id: airflowDagRunId(KEY),
      conf: {
        day: '2026-12-01',
        fixed: 1,
        interlock: {
          run_id: '01RUN',
          run_key: KEY,
          pipeline: 'sales',
          schedule: 'daily',
          window: 'sales@daily@2026-12-01T04:00:00.000Z',
          window_start: '2026-12-01T04:00:00.000Z',
          window_date: '2026-12-01',
        },
      },
    });
    expect(m.runs.size).toBe(1);
    // The token is never in the outcome.
    expect(JSON.stringify(o)).not.toContain(TOKEN);
  });

  it('a second fire under the same run key gets 409 and adopts the DAG run: never a second one', async () => {
    const m = await mock('v1');
    await fireTrigger(spec(m, { apiVersion: 'v1' }), ctx());
    m.advance(airflowDagRunId(KEY), 'running');
    const again = await fireTrigger(spec(m, { apiVersion: 'v1' }), ctx({ runId: '01OTHER' }));
    expect(again).toMatchObject({ ok: true, adopted: true, httpStatus: 409, platformState: 'running' });
    expect(again.platformRunId).toBe(airflowDagRunId(KEY));
    expect(m.runs.size).toBe(1);
    expect(posts(m).map((r) => r.status)).toEqual([200, 409]);
  });

  it('v2 (auto-detected from GET /api/v2/version): POSTs /api/v2 with logical_date null', async () => {
    const m = await mock('v2');
    const o = await fireTrigger(spec(m), ctx());
    expect(o).toMatchObject({ ok: true, apiVersion: 'v2' });
    const [p] = posts(m);
    expect(p.path).toBe('/api/v2/dags/daily_sales/dagRuns');
    expect(p.body).toMatchObject({ dag_run_id: airflowDagRunId(KEY), logical_date: null });
    expect(m.runs.get(airflowDagRunId(KEY))?.logical_date).toBeNull();
  });

  it('auto on an Airflow 2 (no /api/v2): v1, whose body has no logical_date', async () => {
    const m = await mock('v1');
    const o = await fireTrigger(spec(m), ctx());
    expect(o).toMatchObject({ ok: true, apiVersion: 'v1' });
    expect(posts(m)[0].body).not.toHaveProperty('logical_date');
  });

  it('a v1 body sent to Airflow 3 would be refused (422): the mock checks logical_date', async () => {
    const m = await mock('v2');
    const o = await fireTrigger(spec(m, { apiVersion: 'v2', url: m.url }), ctx());
    expect(o.ok).toBe(true);
    // Forced v1 against Airflow 3: the path does not exist.
    const v1 = await fireTrigger(spec(m, { apiVersion: 'v1' }), ctx({ runKey: 'other' }));
    expect(v1).toMatchObject({ ok: false, httpStatus: 404 });
    expect(failureCategory(v1)).toBe('PERMANENT');
  });

  it('basic auth: username and password from ${VAR}s', async () => {
    const m = await mock('v1', `Basic ${Buffer.from('svc:pa55-word-x').toString('base64')}`);
    const o = await fireTrigger(
      spec(m, { apiVersion: 'v1', auth: { username: 'svc', password: '${AF_PASS}' } }),
      ctx({ env: { AF_PASS: 'pa55-word-x' } }),
    );
    expect(o.ok).toBe(true);
    expect(JSON.stringify(o)).not.toContain('pa55-word-x');
  });

  it('maps errors to categories: 401/404 PERMANENT, 429/503 TRANSIENT; nothing is adopted', async () => {
    const m = await mock('v1');
    const wrong = await fireTrigger(spec(m, { apiVersion: 'v1' }), ctx({ env: { AIRFLOW_TOKEN: 'wrong-token-xyz' } }));
    expect(wrong).toMatchObject({ ok: false, httpStatus: 401 });
    expect(failureCategory(wrong)).toBe('PERMANENT');
    const noDag = await fireTrigger(spec(m, { apiVersion: 'v1', dag: 'nope' }), ctx());
    expect(noDag).toMatchObject({ ok: false, httpStatus: 404 });
    expect(failureCategory(noDag)).toBe('PERMANENT');
    for (const status of [429, 503]) {
      m.failNext('POST', status);
      const o = await fireTrigger(spec(m, { apiVersion: 'v1' }), ctx());
      expect(o).toMatchObject({ ok: false, httpStatus: status });
      expect(failureCategory(o)).toBe('TRANSIENT');
    }
    expect(m.runs.size).toBe(0);
  });

  it('nothing listening: not sent, TRANSIENT (never UNKNOWN)', async () => {
    const m = await mock('v1');
    const url = m.url;
    await m.close();
    mocks.splice(0);
    const o = await fireTrigger({ ...spec(m, { apiVersion: 'v1' }), url }, ctx());
    expect(o).toMatchObject({ ok: false, requestSent: false });
    expect(failureCategory(o)).toBe('TRANSIENT');
  });

  it('the answer lost after Airflow created the run: looked up by its id and adopted, one DAG run', async () => {
    const m = await mock('v1');
    m.dropNextPostAnswer();
    const o = await fireTrigger(spec(m, { apiVersion: 'v1' }), ctx());
    expect(o).toMatchObject({ ok: true, adopted: true, platformState: 'queued' });
    expect(m.runs.size).toBe(1);
    expect(posts(m)).toHaveLength(1);
  });

  it('the answer lost and the lookup failing too: UNKNOWN (requestSent), never retried', async () => {
    const m = await mock('v1');
    m.dropNextPostAnswer();
    m.failNext('GET', 503);
    const o = await fireTrigger(spec(m, { apiVersion: 'v1' }), ctx());
    expect(o).toMatchObject({ ok: false, requestSent: true, category: 'UNKNOWN' });
    expect(o.error).toMatch(/may have started the DAG run/);
  });

  it('a missing ${VAR}: refused before sending (PERMANENT), and listed by missingTriggerVars', async () => {
    const m = await mock('v1');
    const s = spec(m, { apiVersion: 'v1' });
    expect(missingTriggerVars(s, {}, ctx().window)).toEqual(['AIRFLOW_TOKEN']);
    // A manual run has no window: the conf's ${INTERLOCK_WINDOW_DATE} is missing too.
    expect(missingTriggerVars(s, { AIRFLOW_TOKEN: 'x' })).toEqual(['INTERLOCK_WINDOW_DATE']);
    const o = await fireTrigger(s, ctx({ env: {} }));
    expect(o).toMatchObject({ ok: false, requestSent: false, category: 'PERMANENT' });
    expect(m.requests).toHaveLength(0);
  });
});

describe('poll and cancel', () => {
  it('polls GET …/dagRuns/{id}: queued/running → RUNNING, success → COMPLETED, failed → FAILED', async () => {
    const m = await mock('v2');
    const o = await fireTrigger(spec(m), ctx());
    const job: PlatformRun = { type: 'airflow', id: o.platformRunId as string, apiVersion: 'v2' };
    expect(await airflowTrigger.poll(spec(m), job, ctx())).toEqual({ ok: true, state: 'queued', status: 'RUNNING' });
    m.advance(job.id, 'running');
    expect(await airflowTrigger.poll(spec(m), job, ctx())).toMatchObject({ state: 'running', status: 'RUNNING' });
    m.advance(job.id, 'success');
    expect(await airflowTrigger.poll(spec(m), job, ctx())).toMatchObject({ state: 'success', status: 'COMPLETED' });
    m.advance(job.id, 'failed');
    expect(await airflowTrigger.poll(spec(m), job, ctx())).toMatchObject({ state: 'failed', status: 'FAILED' });
    const get = m.requests.filter((r) => r.method === 'GET' && r.path.includes('/dagRuns/'));
    expect(get[0].path).toBe(`/api/v2/dags/daily_sales/dagRuns/${encodeURIComponent(job.id)}`);
    m.failNext('GET', 500);
    expect(await airflowTrigger.poll(spec(m), job, ctx())).toMatchObject({ ok: false, httpStatus: 500 });
  });

  it('cancel PATCHes the DAG run state to failed', async () => {
    const m = await mock('v1');
    const o = await fireTrigger(spec(m, { apiVersion: 'v1' }), ctx());
    const job: PlatformRun = { type: 'airflow', id: o.platformRunId as string, apiVersion: 'v1' };
    m.advance(job.id, 'running');
    expect(await airflowTrigger.cancel(spec(m, { apiVersion: 'v1' }), job, ctx())).toEqual({
      ok: true,
      state: 'failed',
      status: 'FAILED',
    });
    const patch = m.requests.find((r) => r.method === 'PATCH');
    expect(patch).toMatchObject({
      path: `/api/v1/dags/daily_sales/dagRuns/${encodeURIComponent(job.id)}`,
      body: { state: 'failed' },
      status: 200,
    });
    expect(m.runs.get(job.id)?.state).toBe('failed');
    m.failNext('PATCH', 403);
    expect(await airflowTrigger.cancel(spec(m), job, ctx())).toMatchObject({ ok: false, httpStatus: 403 });
  });
});
