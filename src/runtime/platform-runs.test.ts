// Issue 15 (Airflow, Databricks): a run with an airflow trigger stays RUNNING with its DAG run recorded, is completed or failed by
// polling the DAG run's state every `poll` (fake clock; no callback), a repeated run key adopts the DAG run, and
// cancel marks the DAG run failed (or, when Airflow refuses, says so and keeps the lock). Memory store, a real local
// Airflow API mock (test/support/airflow-mock.ts), a real evaluator script.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are the subject under test.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AirflowMock, startAirflowMock } from '../../test/support/airflow-mock.js';
import { type DatabricksMock, startDatabricksMock } from '../../test/support/databricks-mock.js';
import type { FakeClock } from '../../test/support/fake-clock.js';
import { recordingLogger } from '../../test/support/recording-logger.js';
import { gatePipeline, openGateContext, recordAlerts, writeGateProject } from '../../test/support/runtime-context.js';
import type { AirflowTriggerSpec, Alert, PipelineSpec, TriggerSpec } from '../core/types.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { airflowDagRunId } from '../trigger/airflow.js';
import { cancelRun } from './cancel.js';
import { completeRun } from './complete.js';
import { type Context, openContext } from './context.js';
import { refreshRun, refreshRuns } from './platform-runs.js';
import { pipelineView, registerPipeline } from './register.js';
import { runPipeline } from './run.js';
import { Watcher } from './watcher/watcher.js';

const T0 = Date.parse('2026-12-01T04:00:05Z');
const TOKEN = 'airflow-token-0123456789';
const dirs: string[] = [];
const mocks: AirflowMock[] = [];
const dbMocks: DatabricksMock[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await Promise.all([...mocks.splice(0), ...dbMocks.splice(0)].map((m) => m.close()));
});

interface Setup {
  ctx: Context;
  clock: FakeClock;
  airflow: AirflowMock;
  sent: Alert[];
}

async function setup(
  version: 'v1' | 'v2',
  trigger: Partial<AirflowTriggerSpec> = {},
  yaml = false,
  other?: (airflowUrl: string) => Promise<TriggerSpec>,
): Promise<Setup> {
  const root = mkdtempSync(join(tmpdir(), 'interlock-airflow-'));
  dirs.push(root);
  writeGateProject(root, { files: { 'evaluators/gate': `#!/bin/sh\necho '{"status":"PASS"}'\n` } });
  const airflow = await startAirflowMock({ version, dags: ['daily_sales'], authorization: `Bearer ${TOKEN}` });
  mocks.push(airflow);
  if (yaml) {
    mkdirSync(join(root, 'pipelines'));
    writeFileSync(
      join(root, 'pipelines', 'p.yaml'),
      [
        'name: p',
        'archetype: gate',
        'traits: { a: { evaluator: gate } }',
        'trigger:',
        '  type: airflow',
        `  url: ${airflow.url}`,
        '  dag: daily_sales',
        '  auth: { bearer: "${AIRFLOW_TOKEN}" }',
        '  poll: 45s',
        '',
      ].join('\n'),
    );
  }
  const { ctx, store, clock } = await openGateContext(root, { env: { AIRFLOW_TOKEN: TOKEN }, start: T0 });
  const sent = recordAlerts(ctx);
  const spec = gatePipeline(root, {
    type: 'airflow',
    url: airflow.url,
    dag: 'daily_sales',
    auth: { bearer: '${AIRFLOW_TOKEN}' },
    apiVersion: 'auto',
    poll: 60,
    ...trigger,
  });
  if (other) spec.trigger = await other(airflow.url);
  if (!yaml) await store.putPipeline(spec);
  return { ctx, clock, airflow, sent };
}

async function runIt(s: Setup) {
  const r = await runPipeline(s.ctx, 'p', { source: 'test' });
  if (r.kind !== 'triggered') throw new Error(`expected triggered, got ${r.kind}`);
  return r.run;
}

describe.each(['v1', 'v2'] as const)('airflow %s', (version) => {
  it('RUNNING with its DAG run recorded, then COMPLETED by polling every `poll` (no callback)', async () => {
    const s = await setup(version);
    const run = await runIt(s);
    expect(run.status).toBe('RUNNING');
    expect(run.platform).toMatchObject({
      type: 'airflow',
      id: airflowDagRunId(run.runId),
      state: 'queued',
      apiVersion: version,
    });
    expect(s.airflow.runs.size).toBe(1);
    const gets = () => s.airflow.requests.filter((r) => r.method === 'GET' && r.path.includes('/dagRuns/')).length;

    // Not due yet: nothing is asked.
    s.clock.advance(59_000);
    expect((await refreshRuns(s.ctx, ['p'])).map((r) => r.polled)).toEqual([false]);
    expect(gets()).toBe(0);

    s.airflow.advance(airflowDagRunId(run.runId), 'running');
    s.clock.advance(1_000);
    const [mid] = await refreshRuns(s.ctx, ['p']);
    expect(mid).toMatchObject({ polled: true, changed: false });
    expect(mid.run).toMatchObject({ status: 'RUNNING', platform: { state: 'running', polledAt: T0 + 60_000 } });
    expect(gets()).toBe(1);

    s.airflow.advance(airflowDagRunId(run.runId), 'success');
    s.clock.advance(30_000);
    expect((await refreshRuns(s.ctx, ['p']))[0].polled).toBe(false);
    s.clock.advance(30_000);
    const [end] = await refreshRuns(s.ctx, ['p']);
    expect(end).toMatchObject({ polled: true, changed: true });
    const stored = await s.ctx.store.getRun(run.runId);
    expect(stored).toMatchObject({ status: 'COMPLETED', platform: { state: 'success' } });
    expect(stored?.reason).toMatch(/ended success \(polled\)/);
    // The lock is free: a new run can start.
    expect(await s.ctx.store.getActiveRun('p')).toBeUndefined();
  });

  it('a failed DAG run ends the run FAILED and raises RUN_FAILED', async () => {
    const s = await setup(version);
    const run = await runIt(s);
    s.airflow.advance(airflowDagRunId(run.runId), 'failed');
    const r = await refreshRun(s.ctx, run, { force: true });
    expect(r).toMatchObject({ polled: true, changed: true, run: { status: 'FAILED' } });
    expect(s.sent.map((a) => a.kind)).toContain('RUN_FAILED');
  });
});

describe('airflow runs', () => {
  it('an Airflow that cannot answer a poll leaves the run RUNNING (fail closed), with the poll time recorded', async () => {
    const s = await setup('v1');
    const run = await runIt(s);
    s.airflow.failNext('GET', 503);
    const r = await refreshRun(s.ctx, run, { force: true });
    expect(r.error).toMatch(/HTTP 503/);
    expect(r.run.status).toBe('RUNNING');
    expect((await s.ctx.store.getRun(run.runId))?.status).toBe('RUNNING');
  });

  it('a completion callback that comes first wins; the poll then does nothing', async () => {
    const s = await setup('v1');
    const run = await runIt(s);
    await completeRun(s.ctx, run.runId, 'success');
    s.airflow.advance(airflowDagRunId(run.runId), 'failed');
    const r = await refreshRun(s.ctx, (await s.ctx.store.getRun(run.runId)) ?? run, { force: true });
    expect(r.polled).toBe(false);
    expect((await s.ctx.store.getRun(run.runId))?.status).toBe('COMPLETED');
  });

  it('a watcher-style run key already triggered on Airflow: adopted (409), one DAG run', async () => {
    const s = await setup('v2');
    const key = 'p@daily@2026-12-01T04:00:00.000Z#1';
    const window = {
      key: 'p@daily@2026-12-01T04:00:00.000Z',
      schedule: 'daily',
      openAt: T0,
      date: '2026-12-01',
      attempt: 1,
      runKey: key,
    };
    // Someone (a crashed replica) already created it under this key.
    s.airflow.runs.set(airflowDagRunId(key), {
      dag_id: 'daily_sales',
      dag_run_id: airflowDagRunId(key),
      state: 'running',
      conf: {},
      logical_date: null,
    });
    const r = await runPipeline(s.ctx, 'p', { source: 'test', window });
    expect(r.kind).toBe('triggered');
    if (r.kind !== 'triggered') return;
    expect(r.run.trigger).toMatchObject({ ok: true, adopted: true, httpStatus: 409 });
    expect(r.run.platform).toMatchObject({ id: airflowDagRunId(key), state: 'running' });
    expect(s.airflow.runs.size).toBe(1);
  });

  it('cancel marks the DAG run failed on Airflow, then the run is CANCELLED and the lock free', async () => {
    const s = await setup('v2');
    const run = await runIt(s);
    const c = await cancelRun(s.ctx, run.runId);
    expect(c.run).toMatchObject({ status: 'CANCELLED', platform: { state: 'failed' } });
    expect(c.run.reason).toMatch(/stopped \(state failed\)/);
    expect(s.airflow.runs.get(airflowDagRunId(run.runId))?.state).toBe('failed');
    const patch = s.airflow.requests.find((r) => r.method === 'PATCH');
    expect(patch?.body).toEqual({ state: 'failed' });
    expect(await s.ctx.store.getActiveRun('p')).toBeUndefined();
  });

  it('a cancel Airflow refuses: CANCELLED saying the DAG run may still run, the lock held until the deadline', async () => {
    const s = await setup('v1', { maxRunSeconds: 3600 });
    const run = await runIt(s);
    s.airflow.failNext('PATCH', 403);
    const c = await cancelRun(s.ctx, run.runId);
    expect(c.run.status).toBe('CANCELLED');
    expect(c.run.reason).toMatch(/failed \(.*HTTP 403.*\): it may still be running/);
    expect(c.run.lockHeldUntil).toBe(run.deadlineAt);
    // Another run is refused while the hold lasts, and allowed once it has passed.
    expect((await runPipeline(s.ctx, 'p', { source: 'test' })).kind).toBe('already-running');
    s.clock.advance(3600_000);
    expect((await runPipeline(s.ctx, 'p', { source: 'test' })).kind).toBe('triggered');
  });

  it('the watcher (serve) polls a RUNNING airflow run every `poll` and completes it, with no callback', async () => {
    const s = await setup('v1', {}, true);
    // A lease longer than the test's clock steps (its renewal rides on the sweep timer).
    const watcher = new Watcher(s.ctx, { holder: 'A', random: () => 0.5, leaseMs: 600_000 });
    await watcher.start();
    try {
      const run = await runIt(s);
      expect(run.platform?.id).toBe(airflowDagRunId(run.runId));
      const gets = () => s.airflow.requests.filter((r) => r.method === 'GET' && r.path.includes('/dagRuns/')).length;
      s.airflow.advance(airflowDagRunId(run.runId), 'success');
      s.clock.advance(44_000);
      await watcher.pollSettled();
      expect(gets()).toBe(0);
      expect((await s.ctx.store.getRun(run.runId))?.status).toBe('RUNNING');
      s.clock.advance(1_000);
      await watcher.pollSettled();
      expect(gets()).toBe(1);
      expect((await s.ctx.store.getRun(run.runId))?.status).toBe('COMPLETED');
    } finally {
      await watcher.stop();
    }
  });

  it('registered over HTTP (untrusted): an airflow trigger may not use ${VAR}s (server secrets) nor a loopback host', async () => {
    const root = mkdtempSync(join(tmpdir(), 'interlock-airflow-reg-'));
    dirs.push(root);
    mkdirSync(join(root, 'archetypes'));
    writeFileSync(join(root, 'archetypes', 'gate.yaml'), 'name: gate\nrequiredTraits:\n  - type: a\n');
    writeFileSync(join(root, 'interlock.yaml'), 'provider: memory\n');
    const ctx = await openContext({
      cwd: root,
      env: { AIRFLOW_TOKEN: TOKEN },
      store: new MemoryStore(),
      log: recordingLogger(),
    });
    const doc = (trigger: Record<string, unknown>) => ({
      name: 'remote',
      archetype: 'gate',
      traits: { a: { evaluator: 'push' } },
      trigger: { type: 'airflow', dag: 'd', auth: { bearer: '${AIRFLOW_TOKEN}' }, ...trigger },
    });
    const refused = await registerPipeline(ctx, doc({ url: 'https://airflow.example.com' })).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'FORBIDDEN' });
    expect(JSON.stringify((refused as { context?: unknown }).context)).toContain(
      'airflow triggers registered over HTTP cannot reference environment variables (${AIRFLOW_TOKEN})',
    );
    const loopback = await registerPipeline(
      ctx,
      doc({ url: 'http://127.0.0.1:8080', auth: { bearer: 'literal' } }),
    ).catch((e: unknown) => e);
    expect(loopback).toMatchObject({ code: 'FORBIDDEN' });
    expect(await ctx.store.getPipeline('remote')).toBeUndefined();
    await ctx.close();
  });
});

describe('databricks runs', () => {
  async function dbSetup() {
    const db = await startDatabricksMock({ jobs: [12345], token: TOKEN });
    dbMocks.push(db);
    const s = await setup('v1', {}, false, async () => ({
      type: 'databricks',
      host: db.url,
      jobId: 12345,
      token: '${AIRFLOW_TOKEN}',
      poll: 10,
    }));
    return { ...s, db };
  }

  it('run-now → RUNNING with the run_id recorded; polled every `poll` to COMPLETED (TERMINATED/SUCCESS)', async () => {
    const s = await dbSetup();
    const run = await runIt(s);
    expect(run).toMatchObject({ status: 'RUNNING', platform: { type: 'databricks', id: '1000' } });
    s.db.advance(1000, 'TERMINATED', 'SUCCESS');
    s.clock.advance(9_000);
    expect((await refreshRuns(s.ctx, ['p']))[0].polled).toBe(false);
    s.clock.advance(1_000);
    const [r] = await refreshRuns(s.ctx, ['p']);
    expect(r).toMatchObject({
      polled: true,
      changed: true,
      run: { status: 'COMPLETED', platform: { state: 'TERMINATED/SUCCESS' } },
    });
    expect(s.db.runs.size).toBe(1);
  });

  it('a failed job run ends the run FAILED; cancel reaches runs/cancel and the run is CANCELLED', async () => {
    const s = await dbSetup();
    const first = await runIt(s);
    s.db.advance(1000, 'TERMINATED', 'FAILED');
    expect((await refreshRun(s.ctx, first, { force: true })).run.status).toBe('FAILED');
    const second = await runIt(s);
    const c = await cancelRun(s.ctx, second.runId);
    expect(c.run.status).toBe('CANCELLED');
    expect(s.db.requests.find((q) => q.path === '/api/2.1/jobs/runs/cancel')?.body).toEqual({ run_id: 1001 });
    expect(s.db.runs.get(1001)).toMatchObject({ result_state: 'CANCELED' });
  });
});

describe('pipeline views', () => {
  it('never show a literal Airflow or Databricks credential (a ${VAR} placeholder is shown as written)', () => {
    const base = {
      name: 'p',
      archetype: 'gate',
      traits: [],
      readinessRule: { type: 'all-required-pass' as const },
      source: 'api',
    };
    const af = pipelineView({
      ...base,
      trigger: { type: 'airflow', url: 'https://af', dag: 'd', auth: { username: 'svc', password: 'hunter22-pass' } },
    } as PipelineSpec);
    expect(af.trigger).toMatchObject({ auth: { username: 'svc', password: '***' } });
    const bearer = pipelineView({
      ...base,
      trigger: { type: 'airflow', url: 'https://af', dag: 'd', auth: { bearer: '${T}' } },
    } as PipelineSpec);
    expect(bearer.trigger).toMatchObject({ auth: { bearer: '${T}' } });
    const db = pipelineView({
      ...base,
      trigger: { type: 'databricks', host: 'https://db', jobId: 1, token: 'dapi-literal-123' },
    } as PipelineSpec);
    expect(db.trigger).toMatchObject({ token: '***' });
    expect(JSON.stringify([af, db])).not.toMatch(/hunter22|dapi-literal/);
  });
});
