// End-to-end (issue 15): the built CLI against a local Databricks Jobs API 2.1 mock: `interlock run` launches one job
// run (idempotency_token from the run key) and leaves the run RUNNING; `runs --refresh` ends it as runs/get says;
// `interlock cancel` reaches runs/cancel; the token never appears in any output.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are the subject under test.
import { afterEach, describe, expect, it } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { type DatabricksMock, startDatabricksMock } from '../support/databricks-mock.js';
import { copyFixtureEvaluators, writeFiles } from '../support/files.js';
import { cli } from '../support/run-cli.js';
import { useTempDirs } from '../support/test-cleanups.js';

const tmp = useTempDirs('interlock-databricks-');
const TOKEN = 'dapi-e2e-token-5c1d2e3f';
const mocks: DatabricksMock[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

async function project() {
  const db = await startDatabricksMock({ jobs: [12345], token: TOKEN });
  mocks.push(db);
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
      '  type: databricks',
      `  host: ${db.url}`,
      '  jobId: 12345',
      '  parameters: { run: "${INTERLOCK_RUN_KEY}" }',
      '  token: "${DATABRICKS_TOKEN}"',
      '',
    ].join('\n'),
  });
  const run = (...args: string[]) => cli(args, { cwd: root, env: { DATABRICKS_TOKEN: TOKEN } });
  return { db, run };
}

describe('databricks through the CLI', () => {
  it('run → RUNNING with one job run; runs --refresh → COMPLETED on TERMINATED/SUCCESS; cancel reaches runs/cancel', async () => {
    const { db, run } = await project();
    const r = await run('run', 'p', '--json');
    expect(r.code, show(r)).toBe(0);
    const started = json(r).run;
    expect(started).toMatchObject({ status: 'RUNNING', platform: { type: 'databricks', id: '1000' } });
    expect(db.runs.get(1000)?.job_parameters).toEqual({ run: started.runId });
    db.advance(1000, 'TERMINATED', 'SUCCESS');
    const done = await run('runs', 'p', '--refresh', '--json');
    expect(done.code, show(done)).toBe(0);
    expect(json(done)[0]).toMatchObject({ status: 'COMPLETED', platform: { state: 'TERMINATED/SUCCESS' } });

    const second = json(await run('run', 'p', '--json')).run;
    expect(second.platform.id).toBe('1001');
    const c = await run('cancel', second.runId);
    expect(c.code, show(c)).toBe(0);
    expect(db.runs.get(1001)).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'CANCELED' });
    expect(json(await run('runs', '--id', second.runId, '--json'))).toMatchObject({ status: 'CANCELLED' });
    for (const out of [r, done, c]) expect(out.stdout + out.stderr).not.toContain(TOKEN);
    expect(db.runs.size).toBe(2);
  });
});
