// Glue, Step Functions and Lambda triggers through the real AWS SDK v3 clients against a local AWS mock
// (test/support/aws-mock.ts) that recomputes every SigV4 signature with an independent signer (aws4): start under the
// run key, poll to the end, cancel, adopt a repeat, the lost answer (UNKNOWN) found again by the run key, secrets masked.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are the subject under test.
import { GlueClient, StartJobRunCommand } from '@aws-sdk/client-glue';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AWS_TEST_ACCOUNT,
  AWS_TEST_CREDENTIALS,
  type AwsMock,
  awsTestEnv,
  startAwsMock,
} from '../../test/support/aws-mock.js';
import type { GlueTriggerSpec, LambdaTriggerSpec, PlatformRun, StepFunctionsTriggerSpec } from '../core/types.js';
import type { TriggerContext } from './context.js';
import { fireTrigger, missingTriggerVars } from './fire.js';
import { GLUE_RUN_KEY_ARGUMENT, glueRunStatus, glueTrigger } from './glue.js';
import { lambdaTrigger } from './lambda.js';
import {
  EXECUTION_NAME_MAX,
  executionArn,
  stepFunctionsExecutionName,
  stepFunctionsRunStatus,
  stepFunctionsTrigger,
} from './stepfunctions.js';

const MACHINE = `arn:aws:states:us-east-1:${AWS_TEST_ACCOUNT}:stateMachine:nightly`;
const KEY = 'sales@daily@2026-12-01T04:00:00.000Z#1';
const mocks: AwsMock[] = [];
beforeAll(() => {
  // Nothing in this file may reach real AWS or an instance metadata service.
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

async function mock(): Promise<AwsMock> {
  const m = await startAwsMock({
    glueJobs: ['my-etl-job'],
    stateMachines: [MACHINE],
    functions: {
      'my-fn': (event) => ({ payload: { echoed: event } }),
      'bad-fn': () => ({
        payload: { errorMessage: `boom with ${AWS_TEST_CREDENTIALS.secretAccessKey}`, errorType: 'Error' },
        functionError: 'Unhandled',
      }),
    },
  });
  mocks.push(m);
  return m;
}
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
  env: awsTestEnv(),
  ...extra,
});
const glue = (m: AwsMock, extra: Partial<GlueTriggerSpec> = {}): GlueTriggerSpec => ({
  type: 'glue',
  job: 'my-etl-job',
  arguments: { '--day': '${INTERLOCK_WINDOW_DATE}' },
  region: 'us-east-1',
  endpoint: m.url,
  ...extra,
});
const sfn = (m: AwsMock, extra: Partial<StepFunctionsTriggerSpec> = {}): StepFunctionsTriggerSpec => ({
  type: 'stepfunctions',
  stateMachineArn: MACHINE,
  input: { day: '${INTERLOCK_WINDOW_DATE}' },
  endpoint: m.url,
  ...extra,
});
const lambda = (m: AwsMock, extra: Partial<LambdaTriggerSpec> = {}): LambdaTriggerSpec => ({
  type: 'lambda',
  function: 'my-fn',
  payload: { day: '${INTERLOCK_WINDOW_DATE}' },
  region: 'us-east-1',
  endpoint: m.url,
  ...extra,
});
const job = (type: PlatformRun['type'], id: string): PlatformRun => ({ type, id });

describe('the AWS mock checks SigV4 like AWS', () => {
  it('a wrong secret key is refused (InvalidSignatureException) and starts nothing', async () => {
    const m = await mock();
    const o = await fireTrigger(
      glue(m),
      ctx({ env: { ...awsTestEnv(), AWS_SECRET_ACCESS_KEY: 'not-the-secret-key' } }),
    );
    expect(o).toMatchObject({ ok: false, httpStatus: 403, category: 'PERMANENT', requestSent: true });
    expect(o.error).toContain('InvalidSignatureException');
    expect(m.glueRuns.size).toBe(0);
  });

  it('an unknown access key is refused (UnrecognizedClientException)', async () => {
    const m = await mock();
    const o = await fireTrigger(sfn(m), ctx({ env: { ...awsTestEnv(), AWS_ACCESS_KEY_ID: 'AKIDSOMEONEELSE' } }));
    expect(o.error).toContain('UnrecognizedClientException');
    expect(m.executions.size).toBe(0);
  });

  it('a body changed after signing is refused', async () => {
    const m = await mock();
    const client = new GlueClient({
      region: 'us-east-1',
      endpoint: m.url,
      credentials: AWS_TEST_CREDENTIALS,
      maxAttempts: 1,
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = (args as { request: { body: string } }).request;
        request.body = request.body.replace('my-etl-job', 'my-etl-jod');
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'tamper' },
    );
    await expect(client.send(new StartJobRunCommand({ JobName: 'my-etl-job' }))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
    });
    expect(m.glueRuns.size).toBe(0);
  });
});

describe('glue', () => {
  it('StartJobRun with the arguments and --interlock-run-key; GetJobRun to SUCCEEDED; secrets never shown', async () => {
    const m = await mock();
    const o = await fireTrigger(glue(m), ctx());
    expect(o).toMatchObject({ type: 'glue', ok: true, async: true });
    const run = m.glueRuns.get(o.platformRunId as string);
    expect(run?.Arguments).toEqual({ '--day': '2026-12-01', [GLUE_RUN_KEY_ARGUMENT]: KEY });
    const start = m.requests.find((r) => r.operation === 'StartJobRun');
    expect(start?.status).toBe(200);
    expect(await glueTrigger.poll(glue(m), job('glue', run?.Id as string), ctx())).toEqual({
      ok: true,
      state: 'STARTING',
      status: 'RUNNING',
    });
    m.advanceGlue(run?.Id as string, 'SUCCEEDED');
    expect(await glueTrigger.poll(glue(m), job('glue', run?.Id as string), ctx())).toMatchObject({
      state: 'SUCCEEDED',
      status: 'COMPLETED',
    });
  });

  it('JobRunState → run status', () => {
    expect(['STARTING', 'RUNNING', 'STOPPING', 'WAITING'].map(glueRunStatus)).toEqual(Array(4).fill('RUNNING'));
    expect(['FAILED', 'STOPPED', 'TIMEOUT', 'ERROR', 'EXPIRED'].map(glueRunStatus)).toEqual(Array(5).fill('FAILED'));
    expect(glueRunStatus('SUCCEEDED')).toBe('COMPLETED');
  });

  it('a FAILED job run fails the run; BatchStopJobRun stops a running one; stopping an ended one is refused', async () => {
    const m = await mock();
    const a = await fireTrigger(glue(m), ctx());
    m.advanceGlue(a.platformRunId as string, 'FAILED');
    expect(await glueTrigger.poll(glue(m), job('glue', a.platformRunId as string), ctx())).toMatchObject({
      status: 'FAILED',
    });
    const b = await fireTrigger(glue(m), ctx({ runKey: `${KEY}b` }));
    expect(await glueTrigger.cancel(glue(m), job('glue', b.platformRunId as string), ctx())).toEqual({
      ok: true,
      state: 'STOPPING',
      status: 'FAILED',
    });
    expect(m.glueRuns.get(b.platformRunId as string)?.JobRunState).toBe('STOPPING');
    const refused = await glueTrigger.cancel(glue(m), job('glue', a.platformRunId as string), ctx());
    expect(refused).toMatchObject({ ok: false });
    expect((refused as { error: string }).error).toContain('already ended');
  });

  it('a lost StartJobRun answer is UNKNOWN, never re-sent; find by the run key gets the job run it made', async () => {
    const m = await mock();
    m.dropNextAnswer('StartJobRun');
    const o = await fireTrigger(glue(m), ctx());
    expect(o).toMatchObject({ ok: false, category: 'UNKNOWN', requestSent: true });
    expect(m.requests.filter((r) => r.operation === 'StartJobRun')).toHaveLength(1);
    expect(m.glueRuns.size).toBe(1);
    const [made] = [...m.glueRuns.values()];
    expect(await glueTrigger.find?.(glue(m), KEY, { ...ctx(), since: Date.now() })).toEqual({
      ok: true,
      found: true,
      id: made?.Id,
      state: 'STARTING',
    });
    expect(await glueTrigger.find?.(glue(m), `${KEY}-other`, { ...ctx(), since: Date.now() })).toEqual({
      ok: true,
      found: false,
    });
  });

  it('find pages through GetJobRuns; a scan that cannot reach the run fire time says it cannot tell', async () => {
    const m = await mock();
    const now = Date.now();
    for (let i = 0; i < 450; i++)
      m.addGlueRun({
        Id: `jr_old${i}`,
        JobName: 'my-etl-job',
        Arguments: {},
        JobRunState: 'SUCCEEDED',
        StartedOn: now - i,
      });
    m.addGlueRun({
      Id: 'jr_mine',
      JobName: 'my-etl-job',
      Arguments: { [GLUE_RUN_KEY_ARGUMENT]: KEY },
      JobRunState: 'RUNNING',
      StartedOn: now - 1000,
    });
    expect(await glueTrigger.find?.(glue(m), KEY, { ...ctx(), since: now })).toMatchObject({
      found: true,
      id: 'jr_mine',
    });
    expect(m.requests.filter((r) => r.operation === 'GetJobRuns')).toHaveLength(3);
    for (let i = 0; i < 1000; i++)
      m.addGlueRun({
        Id: `jr_new${i}`,
        JobName: 'my-etl-job',
        Arguments: {},
        JobRunState: 'RUNNING',
        StartedOn: now + 10 + i,
      });
    const blind = await glueTrigger.find?.(glue(m), KEY, { ...ctx(), since: now });
    expect(blind).toMatchObject({ ok: false });
    expect((blind as { error: string }).error).toContain('cannot tell');
  });

  it('an unknown job is PERMANENT; throttling TRANSIENT; a 5xx after sending UNKNOWN (Glue has no token)', async () => {
    const m = await mock();
    expect(await fireTrigger(glue(m, { job: 'nope' }), ctx())).toMatchObject({
      category: 'PERMANENT',
      httpStatus: 400,
    });
    m.failNext('StartJobRun', 400, 'ThrottlingException');
    expect(await fireTrigger(glue(m), ctx())).toMatchObject({ category: 'TRANSIENT' });
    m.failNext('StartJobRun', 500, 'InternalServiceException');
    expect(await fireTrigger(glue(m), ctx())).toMatchObject({ category: 'UNKNOWN', httpStatus: 500 });
    expect(m.requests.filter((r) => r.operation === 'StartJobRun')).toHaveLength(3);
  });

  it('refused before sending: a missing ${VAR}, no region, a pipeline registered over HTTP', async () => {
    const m = await mock();
    expect(missingTriggerVars(glue(m, { job: '${JOB}', arguments: {} }), {})).toEqual(['JOB']);
    const missing = await fireTrigger(glue(m, { job: '${JOB}' }), ctx());
    expect(missing).toMatchObject({ ok: false, requestSent: false, category: 'PERMANENT' });
    const { AWS_REGION: _r, ...noRegion } = awsTestEnv();
    const r = await fireTrigger(glue(m, { region: undefined }), ctx({ env: noRegion }));
    expect(r).toMatchObject({ ok: false, requestSent: false, category: 'PERMANENT' });
    expect(r.error).toMatch(/region/i);
    const api = await fireTrigger(glue(m), ctx({ addressPolicy: { allowedHosts: [] } as never }));
    expect(api.error).toContain('registered over HTTP');
    expect(m.requests).toHaveLength(0);
  });

  it('a refused connection is not sent (TRANSIENT); a hang past the timeout is UNKNOWN', async () => {
    const m = await mock();
    const url = m.url;
    await m.close();
    mocks.splice(0);
    const o = await fireTrigger(glue({ url } as AwsMock), ctx());
    expect(o).toMatchObject({ ok: false, requestSent: false, category: 'TRANSIENT' });
    const { createServer } = await import('node:http');
    const hang = createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    try {
      const port = (hang.address() as { port: number }).port;
      const t = await fireTrigger(glue({ url: `http://127.0.0.1:${port}` } as AwsMock, { timeout: 0.3 }), ctx());
      expect(t).toMatchObject({ ok: false, requestSent: true, timedOut: true, category: 'UNKNOWN' });
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });
});

describe('stepfunctions', () => {
  it('the execution name: deterministic, at most 80 characters of [A-Za-z0-9_-], distinct per key', () => {
    const n = stepFunctionsExecutionName(KEY);
    expect(n).toBe(stepFunctionsExecutionName(KEY));
    expect(n.length).toBeLessThanOrEqual(EXECUTION_NAME_MAX);
    expect(n).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(stepFunctionsExecutionName(KEY.replace('#1', '#2'))).not.toBe(n);
    expect(stepFunctionsExecutionName('x'.repeat(300))).toHaveLength(EXECUTION_NAME_MAX);
    expect(stepFunctionsExecutionName('01RUNID')).toBe('interlock-01RUNID');
    expect(executionArn(MACHINE, 'e1')).toBe(`arn:aws:states:us-east-1:${AWS_TEST_ACCOUNT}:execution:nightly:e1`);
  });

  it('StartExecution named after the run key with the input; the same again is the same execution', async () => {
    const m = await mock();
    const a = await fireTrigger(sfn(m), ctx());
    expect(a).toMatchObject({ type: 'stepfunctions', ok: true, async: true, platformState: 'RUNNING' });
    expect(a.platformRunId).toBe(executionArn(MACHINE, stepFunctionsExecutionName(KEY)));
    const exec = m.executions.get(a.platformRunId as string);
    expect(JSON.parse(exec?.input as string)).toMatchObject({
      day: '2026-12-01',
      interlock: { run_key: KEY, pipeline: 'sales', window_date: '2026-12-01' },
    });
    const b = await fireTrigger(sfn(m), ctx());
    expect(b).toMatchObject({ ok: true, platformRunId: a.platformRunId });
    expect(m.executions.size).toBe(1);
  });

  it('ExecutionAlreadyExists (an ended execution, or other input) is adopted, never a second execution', async () => {
    const m = await mock();
    const a = await fireTrigger(sfn(m), ctx());
    m.advanceExecution(a.platformRunId as string, 'SUCCEEDED');
    const b = await fireTrigger(sfn(m), ctx());
    expect(b).toMatchObject({ ok: true, adopted: true, platformRunId: a.platformRunId, platformState: 'SUCCEEDED' });
    expect(m.executions.size).toBe(1);
  });

  it('DescribeExecution to SUCCEEDED or FAILED; StopExecution aborts it', async () => {
    const m = await mock();
    const a = await fireTrigger(sfn(m), ctx());
    const id = a.platformRunId as string;
    expect(await stepFunctionsTrigger.poll(sfn(m), job('stepfunctions', id), ctx())).toEqual({
      ok: true,
      state: 'RUNNING',
      status: 'RUNNING',
    });
    expect(await stepFunctionsTrigger.cancel(sfn(m), job('stepfunctions', id), ctx())).toMatchObject({ ok: true });
    expect(m.executions.get(id)?.status).toBe('ABORTED');
    expect(await stepFunctionsTrigger.poll(sfn(m), job('stepfunctions', id), ctx())).toMatchObject({
      state: 'ABORTED',
      status: 'FAILED',
    });
    expect(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'RUNNING', 'PENDING_REDRIVE'].map(stepFunctionsRunStatus)).toEqual([
      'COMPLETED',
      'FAILED',
      'FAILED',
      'RUNNING',
      'RUNNING',
    ]);
  });

  it('a lost answer is asked again by the SDK under the same name: the same execution, never a second', async () => {
    const m = await mock();
    m.dropNextAnswer('StartExecution');
    const o = await fireTrigger(sfn(m), ctx());
    expect(o).toMatchObject({ ok: true, platformRunId: executionArn(MACHINE, stepFunctionsExecutionName(KEY)) });
    expect(m.requests.filter((r) => r.operation === 'StartExecution')).toHaveLength(2);
    expect(m.executions.size).toBe(1);
  });

  it('every answer lost: UNKNOWN; find by the run key describes the execution it made; none → not found', async () => {
    const m = await mock();
    m.dropNextAnswer('StartExecution', 3);
    const o = await fireTrigger(sfn(m), ctx());
    expect(o).toMatchObject({ ok: false, category: 'UNKNOWN' });
    expect(m.executions.size).toBe(1);
    expect(await stepFunctionsTrigger.find?.(sfn(m), KEY, ctx())).toMatchObject({
      ok: true,
      found: true,
      state: 'RUNNING',
    });
    expect(await stepFunctionsTrigger.find?.(sfn(m), 'other', ctx())).toEqual({ ok: true, found: false });
  });
});

describe('lambda', () => {
  it('Invoke RequestResponse with the payload and Interlock under `interlock`: COMPLETED with its answer', async () => {
    const m = await mock();
    const o = await fireTrigger(lambda(m), ctx());
    expect(o).toMatchObject({ type: 'lambda', ok: true, async: false, httpStatus: 200 });
    expect(m.invocations).toEqual([
      {
        function: 'my-fn',
        event: expect.objectContaining({ day: '2026-12-01', interlock: expect.objectContaining({ run_key: KEY }) }),
      },
    ]);
    expect(o.bodyExcerpt).toContain('echoed');
  });

  it('a FunctionError fails the run with its (masked) error payload; a missing function is PERMANENT', async () => {
    const m = await mock();
    const o = await fireTrigger(lambda(m, { function: 'bad-fn' }), ctx());
    expect(o).toMatchObject({ ok: false, category: 'PERMANENT', requestSent: true });
    expect(o.error).toContain('FunctionError: Unhandled');
    expect(JSON.stringify(o)).not.toContain(AWS_TEST_CREDENTIALS.secretAccessKey);
    expect(await fireTrigger(lambda(m, { function: 'nope' }), ctx())).toMatchObject({
      category: 'PERMANENT',
      httpStatus: 404,
    });
  });

  it('a lost answer is UNKNOWN and the invocation is never repeated (there is no find)', async () => {
    const m = await mock();
    m.dropNextAnswer('Invoke');
    const o = await fireTrigger(lambda(m), ctx());
    expect(o).toMatchObject({ ok: false, category: 'UNKNOWN', requestSent: true });
    expect(m.invocations).toHaveLength(1);
    expect(lambdaTrigger.find).toBeUndefined();
  });
});
