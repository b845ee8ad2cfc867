// The environment evaluators and command triggers get (issue 9 item 3): a minimal set plus exactly their `env`
// lists, never the API token; `${VAR}` in evaluator config only for listed names; passed values masked everywhere.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in configs are the subject under test.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { copyFixtureEvaluators, writeFiles } from '../support/files.js';
import { cli } from '../support/run-cli.js';
import { useTempDirs } from '../support/test-cleanups.js';

const tmp = useTempDirs('interlock-env-e2e-');
const SECRET = 'listed-secret-5f1e9a';
const ENV = {
  FIXTURE_SECRET: SECRET,
  INTERLOCK_API_TOKEN: 'api-token-never-passed-77',
  AWS_SECRET_ACCESS_KEY: 'aws-secret-never-passed-88',
  DEPLOY_KEY: 'deploy-key-value-99',
};

function project(traitExtra: string, trigger = ''): string {
  const root = tmp();
  copyFixtureEvaluators(root);
  writeFiles(root, {
    'interlock.yaml': 'provider: sqlite\nalerts:\n  - type: file\n    path: ./alerts.log\n',
    'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: a\n',
    'pipelines/p.yaml': `name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: env-dump\n${traitExtra}${trigger}`,
  });
  return root;
}

/** Every byte Interlock stored or wrote in the project (SQLite files, alert log). */
function storedBytes(root: string): string {
  const files = [
    ...readdirSync(join(root, '.interlock')).map((f) => join(root, '.interlock', f)),
    join(root, 'alerts.log'),
  ].filter((f) => existsSync(f));
  return files.map((f) => readFileSync(f).toString('latin1')).join('\n');
}

describe('evaluator environment', () => {
  it('minimal env + the trait env list (no API token, no unlisted secret); ${VAR} expands; the value is masked everywhere', async () => {
    const root = project('    env: [FIXTURE_SECRET]\n    config:\n      dsn: "db://u:${FIXTURE_SECRET}@h"\n');
    const ev = await cli(['evaluate', 'p', '--json'], { cwd: root, env: ENV });
    expect(ev.code, show(ev)).toBe(0);
    const trait = json(ev).readiness.traits[0].result;
    expect(trait.value.names).toContain('FIXTURE_SECRET');
    expect(trait.value.names).not.toContain('INTERLOCK_API_TOKEN');
    expect(trait.value.names).not.toContain('AWS_SECRET_ACCESS_KEY');
    expect(trait.value.names).not.toContain('DEPLOY_KEY');
    // The evaluator saw the value (it echoed it in config, value and reason); nothing shows or stores it.
    expect(trait.value.config).toEqual({ dsn: 'db://u:***@h' });
    expect(trait.value.secret).toBe('***');
    expect(trait.reason).toBe('saw ***');
    for (const args of [
      ['status', 'p', '--json'],
      ['history', 'p', '--json'],
      ['status', 'p'],
      ['evaluate', 'p'],
    ]) {
      const r = await cli(args, { cwd: root, env: ENV });
      expect(`${r.stdout}${r.stderr}`, args.join(' ')).not.toContain(SECRET);
    }
    // A FAIL raises alerts carrying the reason: masked there too.
    writeFiles(root, {
      'pipelines/f.yaml':
        'name: f\narchetype: gate\ntraits:\n  a:\n    evaluator: env-dump\n    env: [FIXTURE_SECRET]\n    config: {fail: true}\n',
    });
    const f = await cli(['evaluate', 'f'], { cwd: root, env: ENV });
    expect(f.code, show(f)).toBe(1);
    expect(`${f.stdout}${f.stderr}`).not.toContain(SECRET);
    expect(readFileSync(join(root, 'alerts.log'), 'utf8')).toContain('saw ***');
    expect(storedBytes(root)).not.toContain(SECRET);
  });

  it('the archetype defaultEnv passes variables; a pipeline env list replaces it', async () => {
    const root = tmp();
    copyFixtureEvaluators(root);
    writeFiles(root, {
      'interlock.yaml': 'provider: sqlite\n',
      'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: a\n    defaultEnv: [FIXTURE_SECRET]\n',
      'pipelines/p.yaml': 'name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: env-dump\n',
      'pipelines/q.yaml': 'name: q\narchetype: gate\ntraits:\n  a:\n    evaluator: env-dump\n    env: [DEPLOY_KEY]\n',
    });
    const p = json(await cli(['evaluate', 'p', '--json'], { cwd: root, env: ENV })).readiness.traits[0].result;
    expect(p.value.names).toContain('FIXTURE_SECRET');
    const q = json(await cli(['evaluate', 'q', '--json'], { cwd: root, env: ENV })).readiness.traits[0].result;
    expect(q.value.names).toContain('DEPLOY_KEY');
    expect(q.value.names).not.toContain('FIXTURE_SECRET');
  });

  it('${VAR} of a variable not in env is a config error (exit 2, the variable named)', async () => {
    const root = project('    config:\n      dsn: "db://${AWS_SECRET_ACCESS_KEY}@h"\n');
    const v = await cli(['validate'], { cwd: root });
    expect(v.code, show(v)).toBe(2);
    expect(v.stderr + v.stdout).toMatch(/traits\.a\.config.*\$\{AWS_SECRET_ACCESS_KEY\}.*not listed in its env/);
    const ev = await cli(['evaluate', 'p'], { cwd: root, env: ENV });
    expect(ev.code).toBe(2);
    const token = project('    env: [INTERLOCK_API_TOKEN]\n');
    const t = await cli(['validate'], { cwd: token });
    expect(t.code).toBe(2);
    expect(t.stderr + t.stdout).toContain('INTERLOCK_API_TOKEN is never passed');
  });
});

describe('command trigger environment', () => {
  it('minimal env + the trigger env list; the listed value is masked in the run record', async () => {
    const root = project(
      '',
      "trigger:\n  type: command\n  env: [DEPLOY_KEY]\n  command: \"env | cut -d= -f1 | sort | tr '\\\\n' ' '; echo; echo key=$DEPLOY_KEY\"\n",
    );
    const r = await cli(['run', 'p', '--json'], { cwd: root, env: ENV });
    expect(r.code, show(r)).toBe(0);
    const run = json(r).run;
    const names: string[] = run.trigger.stdoutTail.split('\n')[0].trim().split(' ');
    expect(names).toContain('DEPLOY_KEY');
    expect(names).toContain('INTERLOCK_RUN_ID');
    expect(names).not.toContain('INTERLOCK_API_TOKEN');
    expect(names).not.toContain('FIXTURE_SECRET');
    expect(names).not.toContain('AWS_SECRET_ACCESS_KEY');
    expect(run.trigger.stdoutTail).toContain('key=***');
    expect(`${r.stdout}${r.stderr}`).not.toContain(ENV.DEPLOY_KEY);
    expect(storedBytes(root)).not.toContain(ENV.DEPLOY_KEY);
  });
});
