// Databricks trigger against a local Jobs API 2.1 mock (test/support/databricks-mock.ts) that checks requests like
// Databricks: run-now with job_id, job_parameters and an idempotency_token from the run key (a repeat returns the same
// run_id), the bearer token, error categories, a lost answer asked again safely, runs/get states, runs/cancel.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are the subject under test.
import { afterEach, describe, expect, it } from 'vitest';
import { type DatabricksMock, startDatabricksMock } from '../../test/support/databricks-mock.js';
import type { DatabricksTriggerSpec, PlatformRun } from '../core/types.js';
import { failureCategory } from '../engine/retry.js';
import type { TriggerContext } from './context.js';
import { databricksIdempotencyToken, databricksRunStatus, databricksTrigger } from './databricks.js';
import { fireTrigger, missingTriggerVars } from './fire.js';

const TOKEN = 'dapi-secret-0123456789abcdef';
const mocks: DatabricksMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

async function mock(): Promise<DatabricksMock> {
  const m = await startDatabricksMock({ jobs: [12345], token: TOKEN });
  mocks.push(m);
  return m;
}
const spec = (m: DatabricksMock, extra: Partial<DatabricksTriggerSpec> = {}): DatabricksTriggerSpec => ({
  type: 'databricks',
  host: m.url,
  jobId: 12345,
  parameters: { day: '${INTERLOCK_WINDOW_DATE}', key: '${INTERLOCK_RUN_KEY}' },
  token: '${DATABRICKS_TOKEN}',
  ...extra,
});
const KEY = 'sales@daily@2026-12-01T04:00:00.000Z#1';
const ctx = (extra: Partial<TriggerContext> = {}): TriggerContext => ({
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
  env: { DATABRICKS_TOKEN: TOKEN },
  ...extra,
});
const runNows = (m: DatabricksMock) => m.requests.filter((r) => r.path === '/api/2.1/jobs/run-now');

describe('databricks', () => {
  it('the idempotency token: deterministic, 64 characters, distinct per run key', () => {
    expect(databricksIdempotencyToken(KEY)).toBe(databricksIdempotencyToken(KEY));
    expect(databricksIdempotencyToken(KEY)).toHaveLength(64);
    expect(databricksIdempotencyToken(`${KEY}x`)).not.toBe(databricksIdempotencyToken(KEY));
  });

  it('run-now with job_id, job_parameters and the token; a repeat under the same key returns the same run_id', async () => {
    const m = await mock();
    const o = await fireTrigger(spec(m), ctx());
    expect(o).toMatchObject({ type: 'databricks', ok: true, async: true, httpStatus: 200, platformRunId: '1000' });
    const [p] = runNows(m);
    expect(p.authorization).toBe(`Bearer ${TOKEN}`);
    expect(p.body).toEqual({
      job_id: 12345,
      idempotency_token: databricksIdempotencyToken(KEY),
      job_parameters: { day: '2026-12-01', key: KEY },
    });
    const again = await fireTrigger(spec(m), ctx({ runId: '01OTHER' }));
    expect(again).toMatchObject({ ok: true, platformRunId: '1000' });
    expect(m.runs.size).toBe(1);
    expect(JSON.stringify([o, again])).not.toContain(TOKEN);
  });

  it('errors: 401 and an unknown job (400) PERMANENT, 429/503 TRANSIENT, missing ${VAR} refused unsent', async () => {
    const m = await mock();
    const bad = await fireTrigger(spec(m), ctx({ env: { DATABRICKS_TOKEN: 'dapi-wrong-000000' } }));
    expect(bad).toMatchObject({ ok: false, httpStatus: 401 });
    expect(failureCategory(bad)).toBe('PERMANENT');
    const noJob = await fireTrigger(spec(m, { jobId: 9 }), ctx());
    expect(noJob).toMatchObject({ ok: false, httpStatus: 400 });
    expect(noJob.bodyExcerpt).toContain('INVALID_PARAMETER_VALUE');
    expect(failureCategory(noJob)).toBe('PERMANENT');
    for (const status of [429, 503]) {
      m.failNext('/api/2.1/jobs/run-now', status);
      const o = await fireTrigger(spec(m), ctx());
      expect(failureCategory(o)).toBe('TRANSIENT');
    }
    expect(m.runs.size).toBe(0);
    expect(missingTriggerVars(spec(m), {}, ctx().window)).toEqual(['DATABRICKS_TOKEN']);
    const before = m.requests.length;
    const refused = await fireTrigger(spec(m), ctx({ env: {} }));
    expect(refused).toMatchObject({ ok: false, requestSent: false, category: 'PERMANENT' });
    expect(m.requests.length).toBe(before);
  });

  it('the answer lost after the run launched: asked again with the same token, the same run adopted, one run', async () => {
    const m = await mock();
    m.dropNextRunNowAnswer();
    const o = await fireTrigger(spec(m), ctx());
    expect(o).toMatchObject({ ok: true, adopted: true, platformRunId: '1000' });
    expect(runNows(m)).toHaveLength(2);
    expect(m.runs.size).toBe(1);
  });

  it('the answer lost and the second ask failing: UNKNOWN', async () => {
    const m = await mock();
    m.dropNextRunNowAnswer();
    m.failNext('/api/2.1/jobs/run-now', 503, 1);
    const o = await fireTrigger(spec(m), ctx());
    // The first request launched the run; the second ask could not say which: never retried as if nothing ran.
    expect(o).toMatchObject({ ok: false, requestSent: true, category: 'UNKNOWN', httpStatus: 503 });
    expect(o.error).toMatch(/may have started the run/);
    expect(m.runs.size).toBe(1);
  });

  it('polls runs/get: PENDING/RUNNING → RUNNING; TERMINATED SUCCESS → COMPLETED; FAILED/CANCELED → FAILED', async () => {
    const m = await mock();
    const o = await fireTrigger(spec(m), ctx());
    const job: PlatformRun = { type: 'databricks', id: o.platformRunId as string };
    expect(await databricksTrigger.poll(spec(m), job, ctx())).toEqual({
      ok: true,
      state: 'PENDING',
      status: 'RUNNING',
    });
    m.advance(1000, 'RUNNING');
    expect(await databricksTrigger.poll(spec(m), job, ctx())).toMatchObject({ status: 'RUNNING' });
    m.advance(1000, 'TERMINATED', 'SUCCESS');
    expect(await databricksTrigger.poll(spec(m), job, ctx())).toEqual({
      ok: true,
      state: 'TERMINATED/SUCCESS',
      status: 'COMPLETED',
    });
    expect(m.requests.find((r) => r.path === '/api/2.1/jobs/runs/get')?.query).toBe('?run_id=1000');
    expect(databricksRunStatus('TERMINATED', 'FAILED')).toBe('FAILED');
    expect(databricksRunStatus('TERMINATED', 'CANCELED')).toBe('FAILED');
    expect(databricksRunStatus('INTERNAL_ERROR', undefined)).toBe('FAILED');
    expect(databricksRunStatus('TERMINATING', undefined)).toBe('RUNNING');
  });

  it('cancel POSTs runs/cancel with the run_id; Databricks ends the run CANCELED', async () => {
    const m = await mock();
    const o = await fireTrigger(spec(m), ctx());
    const job: PlatformRun = { type: 'databricks', id: o.platformRunId as string };
    expect(await databricksTrigger.cancel(spec(m), job, ctx())).toMatchObject({ ok: true });
    expect(m.requests.find((r) => r.path === '/api/2.1/jobs/runs/cancel')?.body).toEqual({ run_id: 1000 });
    expect(m.runs.get(1000)).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'CANCELED' });
    m.failNext('/api/2.1/jobs/runs/cancel', 503);
    expect(await databricksTrigger.cancel(spec(m), job, ctx())).toMatchObject({ ok: false, httpStatus: 503 });
  });
});
