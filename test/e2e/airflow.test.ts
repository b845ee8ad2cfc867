// End-to-end (issue 15): the built CLI against a local Airflow API mock (v1 and v2): `interlock run` creates one DAG
// run under the run key and leaves the run RUNNING; `interlock runs --refresh` polls it to COMPLETED or FAILED with
// no callback; `interlock cancel` marks the DAG run failed on Airflow; the token never appears in any output.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are the subject under test.
import { afterEach, describe, expect, it } from 'vitest';
import { type AirflowMock, startAirflowMock } from '../support/airflow-mock.js';
import { json, show } from '../support/cli-output.js';
import { copyFixtureEvaluators, writeFiles } from '../support/files.js';
import { cli } from '../support/run-cli.js';
import { useTempDirs } from '../support/test-cleanups.js';

const tmp = useTempDirs('interlock-airflow-');
const TOKEN = 'e2e-airflow-token-7f3a9c';
const mocks: AirflowMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

async function project(version: 'v1' | 'v2') {
  const airflow = await startAirflowMock({ version, dags: ['daily_sales'], authorization: `Bearer ${TOKEN}` });
  mocks.push(airflow);
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
      '  type: airflow',
      `  url: ${airflow.url}`,
      '  dag: daily_sales',
      '  conf: { source: interlock }',
      '  auth: { bearer: "${AIRFLOW_TOKEN}" }',
      '',
    ].join('\n'),
  });
  const run = (...args: string[]) => cli(args, { cwd: root, env: { AIRFLOW_TOKEN: TOKEN } });
  return { root, airflow, run };
}

describe.each(['v1', 'v2'] as const)('airflow %s through the CLI', (version) => {
  it('run → RUNNING with one DAG run; runs --refresh → COMPLETED once Airflow says success (no callback)', async () => {
    const { airflow, run } = await project(version);
    const r = await run('run', 'p', '--json');
    expect(r.code, show(r)).toBe(0);
    const started = json(r).run;
    expect(started).toMatchObject({
      status: 'RUNNING',
      platform: { type: 'airflow', state: 'queued', apiVersion: version },
    });
    expect(airflow.runs.size).toBe(1);
    const dagRun = [...airflow.runs.values()][0];
    expect(dagRun.dag_run_id).toBe(started.platform.id);
    expect(dagRun.conf).toMatchObject({ source: 'interlock', interlock: { run_id: started.runId, pipeline: 'p' } });
    if (version === 'v2') expect(dagRun.logical_date).toBeNull();

    airflow.advance(dagRun.dag_run_id, 'running');
    const mid = await run('runs', 'p', '--refresh', '--json');
    expect(mid.code, show(mid)).toBe(0);
    expect(json(mid)[0]).toMatchObject({ status: 'RUNNING', platform: { state: 'running' } });

    airflow.advance(dagRun.dag_run_id, 'success');
    const done = await run('runs', 'p', '--refresh');
    expect(done.code, show(done)).toBe(0);
    expect(done.stdout).toMatch(/COMPLETED/);
    const detail = await run('runs', '--id', started.runId);
    expect(detail.stdout).toMatch(/ended success \(polled\)/);
    expect(detail.stdout).toContain(`job: ${dagRun.dag_run_id} success`);
    for (const out of [r, mid, done, detail]) expect(out.stdout + out.stderr).not.toContain(TOKEN);
    // Still one DAG run, and a second run is a new DAG run (its own run key).
    expect(airflow.runs.size).toBe(1);
    expect((await run('run', 'p')).code).toBe(0);
    expect(airflow.runs.size).toBe(2);
  });
});

describe('airflow through the CLI', () => {
  it('a failed DAG run ends the run FAILED on refresh', async () => {
    const { airflow, run } = await project('v1');
    const started = json(await run('run', 'p', '--json')).run;
    airflow.advance(started.platform.id, 'failed');
    const r = await run('runs', '--id', started.runId, '--refresh', '--json');
    expect(r.code, show(r)).toBe(0);
    expect(json(r)).toMatchObject({ status: 'FAILED', platform: { state: 'failed' } });
  });

  it('cancel reaches Airflow: the DAG run is marked failed, the run CANCELLED', async () => {
    const { airflow, run } = await project('v2');
    const started = json(await run('run', 'p', '--json')).run;
    airflow.advance(started.platform.id, 'running');
    const c = await run('cancel', started.runId);
    expect(c.code, show(c)).toBe(0);
    expect(airflow.runs.get(started.platform.id)?.state).toBe('failed');
    expect(airflow.requests.find((q) => q.method === 'PATCH')).toMatchObject({
      body: { state: 'failed' },
      status: 200,
    });
    const after = json(await run('runs', '--id', started.runId, '--json'));
    expect(after).toMatchObject({ status: 'CANCELLED' });
  });

  it('a wrong token: FAILED with a PERMANENT category (401), nothing created, exit 3', async () => {
    const { airflow, root } = await project('v1');
    const r = await cli(['run', 'p', '--json'], { cwd: root, env: { AIRFLOW_TOKEN: 'not-the-token-at-all' } });
    expect(r.code, show(r)).toBe(3);
    expect(airflow.runs.size).toBe(0);
    const runs = json(await cli(['runs', 'p', '--json'], { cwd: root }));
    expect(runs[0]).toMatchObject({ status: 'FAILED', trigger: { httpStatus: 401, category: 'PERMANENT' } });
    expect(JSON.stringify(runs)).not.toContain('not-the-token-at-all');
  });
});
