// Issue 15, reconcile by the run key: a native trigger whose answer is lost after the platform created the job is
// asked again by its key (never fired twice) and adopts the job, which is then polled to its end; a timeout with no
// job behind it is a clean, retryable failure; a run left TRIGGERING by a process that died between request and
// record is reconciled by the watcher's poll. Glue, Step Functions, Lambda against the local AWS mock (SigV4
// checked), Airflow and Databricks against theirs; fake clock, memory store, a real evaluator script.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are the subject under test.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AirflowMock, startAirflowMock } from '../../test/support/airflow-mock.js';
import { AWS_TEST_ACCOUNT, type AwsMock, awsTestEnv, startAwsMock } from '../../test/support/aws-mock.js';
import { type DatabricksMock, startDatabricksMock } from '../../test/support/databricks-mock.js';
import { openGateContext, recordAlerts, writeGateProject } from '../../test/support/runtime-context.js';
import type { RunState } from '../core/types.js';
import { airflowDagRunId } from '../trigger/airflow.js';
import { GLUE_RUN_KEY_ARGUMENT } from '../trigger/glue.js';
import { cancelRun } from './cancel.js';
import { refreshRuns, staleTriggeringMs } from './platform-runs.js';
import { runPipeline } from './run.js';

const T0 = Date.parse('2026-12-01T04:00:05Z');
const MACHINE = `arn:aws:states:us-east-1:${AWS_TEST_ACCOUNT}:stateMachine:nightly`;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(() => {
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function awsMock(): Promise<AwsMock> {
  const m = await startAwsMock({
    glueJobs: ['my-etl-job'],
    stateMachines: [MACHINE],
    functions: { 'my-fn': () => ({ payload: { ok: true } }) },
  });
  cleanups.push(() => m.close());
  return m;
}

/** A YAML project (trusted) whose pipeline p has `trigger` (YAML lines under `trigger:`). */
async function project(trigger: string[], env: NodeJS.ProcessEnv = awsTestEnv()) {
  const root = mkdtempSync(join(tmpdir(), 'interlock-reconcile-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  writeGateProject(root, { files: { 'evaluators/gate': `#!/bin/sh\necho '{"status":"PASS"}'\n` } });
  mkdirSync(join(root, 'pipelines'));
  writeFileSync(
    join(root, 'pipelines', 'p.yaml'),
    [
      'name: p',
      'archetype: gate',
      'traits: { a: { evaluator: gate } }',
      'trigger:',
      ...trigger.map((l) => `  ${l}`),
      '',
    ].join('\n'),
  );
  const { ctx, store, clock } = await openGateContext(root, { env, start: T0 });
  expect(ctx.project.invalid.size).toBe(0);
  const sent = recordAlerts(ctx);
  return { ctx, store, clock, sent };
}

describe('reconcile after an UNKNOWN outcome (at fire time)', () => {
  it('glue: the StartJobRun answer is lost after the job run was made → found by --interlock-run-key, adopted, polled to COMPLETED; one job run', async () => {
    const m = await awsMock();
    const s = await project(['type: glue', 'job: my-etl-job', `endpoint: ${m.url}`, 'region: us-east-1', 'poll: 30s']);
    m.dropNextAnswer('StartJobRun');
    const r = (await runPipeline(s.ctx, 'p', { source: 'test' })) as { kind: string; run: RunState };
    expect(r.kind).toBe('triggered');
    const [made] = [...m.glueRuns.values()];
    expect(m.glueRuns.size).toBe(1);
    expect(made?.Arguments[GLUE_RUN_KEY_ARGUMENT]).toBe(r.run.runId);
    expect(r.run).toMatchObject({ status: 'RUNNING', platform: { type: 'glue', id: made?.Id, state: 'STARTING' } });
    expect(r.run.trigger).toMatchObject({ ok: true, reconciled: true, adopted: true });
    expect(r.run.outcome).toBeUndefined();
    expect(m.requests.filter((q) => q.operation === 'StartJobRun')).toHaveLength(1);
    expect(s.sent.map((a) => a.kind)).not.toContain('TRIGGER_OUTCOME_UNKNOWN');
    m.advanceGlue(made?.Id as string, 'SUCCEEDED');
    s.clock.advance(30_000);
    const [done] = await refreshRuns(s.ctx, ['p']);
    expect(done?.run).toMatchObject({ status: 'COMPLETED', platform: { state: 'SUCCEEDED' } });
  });

  it('glue: a StartJobRun that hangs past the timeout with no job run behind it → FAILED, TRANSIENT (retryable), never UNKNOWN', async () => {
    const m = await awsMock();
    m.swallowNext('StartJobRun');
    const s = await project(['type: glue', 'job: my-etl-job', `endpoint: ${m.url}`, 'timeout: 0.5']);
    const r = (await runPipeline(s.ctx, 'p', { source: 'test' })) as { kind: string; run: RunState };
    expect(r.kind).toBe('trigger-failed');
    expect(r.run).toMatchObject({ status: 'FAILED', trigger: { category: 'TRANSIENT', reconciled: true } });
    expect(r.run.outcome).toBeUndefined();
    expect(r.run.trigger?.error).toContain('nothing started (retryable)');
    expect(m.requests.filter((q) => q.operation === 'GetJobRuns' && q.status === 200)).toHaveLength(1);
    expect(m.glueRuns.size).toBe(0);
  });

  it('glue: the platform cannot be asked either → stays UNKNOWN (alerted, never retried)', async () => {
    const m = await awsMock();
    const s = await project(['type: glue', 'job: my-etl-job', `endpoint: ${m.url}`]);
    m.dropNextAnswer('StartJobRun');
    // Every attempt the SDK makes within the timeout fails.
    m.failNext('GetJobRuns', 500, 'InternalServiceException', 3);
    const r = (await runPipeline(s.ctx, 'p', { source: 'test' })) as { kind: string; run: RunState };
    expect(r.run).toMatchObject({ status: 'FAILED', outcome: 'UNKNOWN', trigger: { category: 'UNKNOWN' } });
    expect(r.run.trigger?.error).toContain('asking glue by the run key failed too');
    expect(s.sent.map((a) => a.kind)).toContain('TRIGGER_OUTCOME_UNKNOWN');
    expect(m.glueRuns.size).toBe(1);
    expect(m.requests.filter((q) => q.operation === 'StartJobRun')).toHaveLength(1);
  });

  it('stepfunctions: every StartExecution answer lost → found by its name, adopted; one execution; cancel reaches StopExecution', async () => {
    const m = await awsMock();
    const s = await project(['type: stepfunctions', `stateMachineArn: "${MACHINE}"`, `endpoint: ${m.url}`]);
    m.dropNextAnswer('StartExecution', 3);
    const r = (await runPipeline(s.ctx, 'p', { source: 'test' })) as { kind: string; run: RunState };
    expect(r.kind).toBe('triggered');
    expect(m.executions.size).toBe(1);
    const [exec] = [...m.executions.values()];
    expect(r.run).toMatchObject({
      status: 'RUNNING',
      platform: { id: exec?.executionArn },
      trigger: { reconciled: true },
    });
    const c = await cancelRun(s.ctx, r.run.runId);
    expect(c.run.status).toBe('CANCELLED');
    expect(exec?.status).toBe('ABORTED');
  });

  it('lambda: a lost Invoke answer stays UNKNOWN: no find, no second invocation', async () => {
    const m = await awsMock();
    const s = await project(['type: lambda', 'function: my-fn', `endpoint: ${m.url}`]);
    m.dropNextAnswer('Invoke');
    const r = (await runPipeline(s.ctx, 'p', { source: 'test' })) as { kind: string; run: RunState };
    expect(r.run).toMatchObject({ status: 'FAILED', outcome: 'UNKNOWN' });
    expect(m.invocations).toHaveLength(1);
    expect(s.sent.map((a) => a.kind)).toContain('TRIGGER_OUTCOME_UNKNOWN');
  });

  it('lambda: an answered Invoke is the whole job: COMPLETED', async () => {
    const m = await awsMock();
    const s = await project(['type: lambda', 'function: my-fn', `endpoint: ${m.url}`]);
    const r = (await runPipeline(s.ctx, 'p', { source: 'test' })) as { kind: string; run: RunState };
    expect(r.run.status).toBe('COMPLETED');
  });
});

describe('reconcile after a crash between request and record (the watcher poll)', () => {
  /** The state a process that died right after its request leaves: the run TRIGGERING, no outcome recorded. */
  async function crashedRun(s: Awaited<ReturnType<typeof project>>, runId: string): Promise<RunState> {
    const now = s.clock.now();
    const run: RunState = {
      runId,
      pipeline: 'p',
      status: 'TRIGGERING',
      version: 2,
      createdAt: now,
      updatedAt: now,
      triggeredAt: now,
      deadlineAt: now + 3_600_000,
      triggerType: s.ctx.project.pipelines.get('p')?.trigger?.type,
      source: 'test',
    } as RunState;
    const created = await s.ctx.store.createRun(run);
    expect(created).toBeTruthy();
    return run;
  }

  it('stepfunctions: the execution exists → RUNNING with it adopted once the fire is overdue; before that nothing is asked', async () => {
    const m = await awsMock();
    const s = await project(['type: stepfunctions', `stateMachineArn: "${MACHINE}"`, `endpoint: ${m.url}`]);
    const run = await crashedRun(s, '01CRASHEDRUN');
    // The dead process's request did land: the execution of the run key exists.
    const { stepFunctionsTrigger } = await import('../trigger/stepfunctions.js');
    const spec = s.ctx.project.pipelines.get('p')?.trigger as Parameters<typeof stepFunctionsTrigger.fire>[0];
    const fired = await stepFunctionsTrigger.fire(spec, {
      projectDir: '/',
      pipeline: 'p',
      runId: run.runId,
      runKey: run.runId,
      env: awsTestEnv(),
    });
    expect(fired.ok).toBe(true);
    const before = m.requests.length;
    s.clock.advance(staleTriggeringMs(spec) - 1000);
    expect((await refreshRuns(s.ctx, ['p']))[0]).toMatchObject({ polled: false, run: { status: 'TRIGGERING' } });
    expect(m.requests.length).toBe(before);
    s.clock.advance(1000);
    const [r] = await refreshRuns(s.ctx, ['p']);
    expect(r).toMatchObject({ changed: true, run: { status: 'RUNNING', platform: { id: fired.platformRunId } } });
    expect(m.requests.filter((q) => q.operation === 'StartExecution')).toHaveLength(1);
    expect(m.executions.size).toBe(1);
  });

  it('glue: no job run carries the key → FAILED, TRANSIENT (nothing started)', async () => {
    const m = await awsMock();
    const s = await project(['type: glue', 'job: my-etl-job', `endpoint: ${m.url}`, 'timeout: 10s']);
    await crashedRun(s, '01CRASHEDGLUE');
    s.clock.advance(staleTriggeringMs({ type: 'glue', job: 'x', timeout: 10 }));
    const [r] = await refreshRuns(s.ctx, ['p']);
    expect(r?.run).toMatchObject({ status: 'FAILED', trigger: { category: 'TRANSIENT', reconciled: true } });
    expect(m.requests.filter((q) => q.operation === 'StartJobRun')).toHaveLength(0);
  });

  it('airflow: the DAG run of the key exists → adopted (v2 detected)', async () => {
    const token = 'airflow-token-0123456789';
    const airflow: AirflowMock = await startAirflowMock({
      version: 'v2',
      dags: ['daily_sales'],
      authorization: `Bearer ${token}`,
    });
    cleanups.push(() => airflow.close());
    const s = await project(
      ['type: airflow', `url: ${airflow.url}`, 'dag: daily_sales', 'auth: { bearer: "${AIRFLOW_TOKEN}" }'],
      { AIRFLOW_TOKEN: token },
    );
    const run = await crashedRun(s, '01CRASHEDAIRFLOW');
    const posted = await fetch(`${airflow.url}/api/v2/dags/daily_sales/dagRuns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dag_run_id: airflowDagRunId(run.runId), logical_date: null }),
    });
    expect(posted.status).toBe(200);
    s.clock.advance(staleTriggeringMs({ type: 'airflow', url: 'x', dag: 'd' }));
    const [r] = await refreshRuns(s.ctx, ['p']);
    expect(r?.run).toMatchObject({
      status: 'RUNNING',
      platform: { type: 'airflow', id: airflowDagRunId(run.runId), apiVersion: 'v2' },
    });
    expect(airflow.runs.size).toBe(1);
  });

  it('databricks: the run-now repeat with the key token answers with the run already launched', async () => {
    const token = 'dapi-secret-0123456789abcdef';
    const db: DatabricksMock = await startDatabricksMock({ jobs: [12345], token });
    cleanups.push(() => db.close());
    const s = await project(['type: databricks', `host: ${db.url}`, 'jobId: 12345', 'token: "${DATABRICKS_TOKEN}"'], {
      DATABRICKS_TOKEN: token,
    });
    const run = await crashedRun(s, '01CRASHEDDB');
    const { databricksIdempotencyToken } = await import('../trigger/databricks.js');
    await fetch(`${db.url}/api/2.1/jobs/run-now`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ job_id: 12345, idempotency_token: databricksIdempotencyToken(run.runId) }),
    });
    expect(db.runs.size).toBe(1);
    s.clock.advance(staleTriggeringMs({ type: 'databricks', host: 'x', jobId: 1, token: 't' }));
    const [r] = await refreshRuns(s.ctx, ['p']);
    expect(r?.run).toMatchObject({ status: 'RUNNING', platform: { type: 'databricks' } });
    expect(db.runs.size).toBe(1);
  });
});
