// End-to-end (issue 15): the built CLI against a local AWS (test/support/aws-mock.ts, every request's SigV4 signature
// recomputed with aws4): `interlock run` starts one Glue job run / Step Functions execution and leaves the run
// RUNNING; `runs --refresh` ends it as GetJobRun / DescribeExecution says (no callback); `interlock cancel` reaches
// BatchStopJobRun / StopExecution; a Lambda invoke ends the run at once (FunctionError → FAILED). The subprocess has
// only test credentials, a region, no metadata service and `endpoint:` at the mock: nothing can reach real AWS. The
// secret key never appears in any output.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are the subject under test.
import { afterEach, describe, expect, it } from 'vitest';
import { AWS_TEST_ACCOUNT, AWS_TEST_CREDENTIALS, type AwsMock, awsTestEnv, startAwsMock } from '../support/aws-mock.js';
import { json, show } from '../support/cli-output.js';
import { copyFixtureEvaluators, writeFiles } from '../support/files.js';
import { type CliResult, cli } from '../support/run-cli.js';
import { useTempDirs } from '../support/test-cleanups.js';

const tmp = useTempDirs('interlock-aws-');
const MACHINE = `arn:aws:states:us-east-1:${AWS_TEST_ACCOUNT}:stateMachine:nightly`;
const SECRET = AWS_TEST_CREDENTIALS.secretAccessKey;
const mocks: AwsMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

async function project(trigger: (m: AwsMock) => string[]) {
  const m = await startAwsMock({
    glueJobs: ['my-etl-job'],
    stateMachines: [MACHINE],
    functions: {
      'my-fn': (event) => ({ payload: { echoed: event } }),
      'bad-fn': () => ({
        payload: { errorMessage: `boom with ${SECRET}`, errorType: 'Error' },
        functionError: 'Unhandled',
      }),
    },
  });
  mocks.push(m);
  const root = tmp();
  copyFixtureEvaluators(root);
  writeFiles(root, {
    'interlock.yaml': 'provider: sqlite\n',
    'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: a\n',
    'pipelines/p.yaml': [
      'name: p',
      'archetype: gate',
      'traits:',
      '  a:',
      '    evaluator: pass',
      'trigger:',
      ...trigger(m).map((l) => `  ${l}`),
      '',
    ].join('\n'),
  });
  const outputs: CliResult[] = [];
  // Exactly the test AWS env on top of the harness env; any AWS_* of the machine running the tests is overridden.
  const run = async (...args: string[]) => {
    const r = await cli(args, { cwd: root, env: awsTestEnv() });
    outputs.push(r);
    return r;
  };
  /** The secret key is in no output of any command so far (stdout, stderr, --json). */
  const noSecret = () => {
    for (const out of outputs) expect(out.stdout + out.stderr).not.toContain(SECRET);
  };
  return { m, run, noSecret };
}

const count = (m: AwsMock, op: string) => m.requests.filter((r) => r.operation === op && r.status === 200).length;

describe('glue through the CLI', () => {
  it('run → RUNNING; SUCCEEDED → runs --refresh COMPLETED; FAILED → FAILED; cancel reaches BatchStopJobRun', async () => {
    const { m, run, noSecret } = await project((mk) => [
      'type: glue',
      'job: my-etl-job',
      'arguments: { "--run": "${INTERLOCK_RUN_KEY}" }',
      'region: us-east-1',
      `endpoint: ${mk.url}`,
    ]);
    const r = await run('run', 'p', '--json');
    expect(r.code, show(r)).toBe(0);
    const started = json(r).run;
    expect(started).toMatchObject({ status: 'RUNNING', platform: { type: 'glue' } });
    const id = started.platform.id as string;
    expect(m.glueRuns.get(id)?.Arguments['--run']).toBe(started.runId);
    expect(count(m, 'StartJobRun')).toBe(1);

    m.advanceGlue(id, 'RUNNING');
    const still = await run('runs', 'p', '--refresh', '--json');
    expect(still.code, show(still)).toBe(0);
    expect(json(still)[0]).toMatchObject({ status: 'RUNNING', platform: { state: 'RUNNING' } });
    m.advanceGlue(id, 'SUCCEEDED');
    const done = await run('runs', 'p', '--refresh', '--json');
    expect(done.code, show(done)).toBe(0);
    expect(json(done)[0]).toMatchObject({
      runId: started.runId,
      status: 'COMPLETED',
      platform: { state: 'SUCCEEDED' },
    });

    // A failed job run fails the run.
    const second = json(await run('run', 'p', '--json')).run;
    m.advanceGlue(second.platform.id, 'FAILED');
    const st = await run('runs', 'p', '--refresh', '--json');
    expect(st.code, show(st)).toBe(0);
    expect(json(await run('runs', '--id', second.runId, '--json'))).toMatchObject({
      status: 'FAILED',
      platform: { state: 'FAILED' },
    });

    // Cancel stops the job run on Glue.
    const third = json(await run('run', 'p', '--json')).run;
    const c = await run('cancel', third.runId);
    expect(c.code, show(c)).toBe(0);
    expect(count(m, 'BatchStopJobRun')).toBe(1);
    expect(m.glueRuns.get(third.platform.id)?.JobRunState).toBe('STOPPING');
    expect(json(await run('runs', '--id', third.runId, '--json'))).toMatchObject({ status: 'CANCELLED' });

    expect(count(m, 'StartJobRun')).toBe(3);
    expect(m.requests.filter((q) => q.refused)).toEqual([]);
    noSecret();
  });
});

describe('stepfunctions through the CLI', () => {
  it('run → RUNNING; SUCCEEDED → COMPLETED; FAILED → FAILED; cancel reaches StopExecution (ABORTED)', async () => {
    const { m, run, noSecret } = await project((mk) => [
      'type: stepfunctions',
      `stateMachineArn: "${MACHINE}"`,
      'input: { run: "${INTERLOCK_RUN_KEY}" }',
      `endpoint: ${mk.url}`,
    ]);
    const r = await run('run', 'p', '--json');
    expect(r.code, show(r)).toBe(0);
    const started = json(r).run;
    expect(started).toMatchObject({ status: 'RUNNING', platform: { type: 'stepfunctions' } });
    const arn = started.platform.id as string;
    expect(JSON.parse(m.executions.get(arn)?.input ?? '{}')).toMatchObject({ run: started.runId });

    m.advanceExecution(arn, 'SUCCEEDED');
    const done = await run('runs', 'p', '--refresh', '--json');
    expect(done.code, show(done)).toBe(0);
    expect(json(done)[0]).toMatchObject({
      runId: started.runId,
      status: 'COMPLETED',
      platform: { state: 'SUCCEEDED' },
    });

    const second = json(await run('run', 'p', '--json')).run;
    m.advanceExecution(second.platform.id, 'FAILED');
    const failed = await run('runs', 'p', '--refresh', '--json');
    expect(json(failed)[0]).toMatchObject({ runId: second.runId, status: 'FAILED', platform: { state: 'FAILED' } });

    const third = json(await run('run', 'p', '--json')).run;
    const c = await run('cancel', third.runId);
    expect(c.code, show(c)).toBe(0);
    expect(count(m, 'StopExecution')).toBe(1);
    expect(m.executions.get(third.platform.id)?.status).toBe('ABORTED');
    expect(json(await run('runs', '--id', third.runId, '--json'))).toMatchObject({ status: 'CANCELLED' });

    expect(count(m, 'StartExecution')).toBe(3);
    expect(m.requests.filter((q) => q.refused)).toEqual([]);
    noSecret();
  });
});

describe('lambda through the CLI', () => {
  it('a successful invoke completes the run at once', async () => {
    const { m, run, noSecret } = await project((mk) => [
      'type: lambda',
      'function: my-fn',
      'payload: { run: "${INTERLOCK_RUN_KEY}" }',
      'region: us-east-1',
      `endpoint: ${mk.url}`,
    ]);
    const r = await run('run', 'p', '--json');
    expect(r.code, show(r)).toBe(0);
    const started = json(r).run;
    expect(started).toMatchObject({ status: 'COMPLETED' });
    expect(m.invocations).toMatchObject([{ function: 'my-fn', event: { run: started.runId } }]);
    expect(json(await run('runs', '--id', started.runId, '--json'))).toMatchObject({ status: 'COMPLETED' });
    noSecret();
  });

  it('a FunctionError fails the run (exit 3); the payload echoing the secret is masked', async () => {
    const { m, run, noSecret } = await project((mk) => [
      'type: lambda',
      'function: bad-fn',
      'region: us-east-1',
      `endpoint: ${mk.url}`,
    ]);
    const r = await run('run', 'p', '--json');
    expect(r.code, show(r)).toBe(3);
    expect(m.invocations).toHaveLength(1);
    const runs = await run('runs', 'p', '--json');
    expect(json(runs)[0]).toMatchObject({ status: 'FAILED' });
    noSecret();
  });
});

describe('runs --help', () => {
  it('lists every native trigger type --refresh asks', async () => {
    const r = await cli(['runs', '--help'], { cwd: tmp() });
    expect(r.code, show(r)).toBe(0);
    const text = r.stdout.replace(/\s+/g, ' ');
    for (const type of ['airflow', 'databricks', 'glue', 'stepfunctions', 'lambda']) expect(text).toContain(type);
  });
});
