// POST/DELETE /api/pipelines through a real server: validated exactly like YAML, refused when it would open code
// execution or reach private hosts, YAML wins, and registrations survive a restart.
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { expectErrorShape, useServers, waitForRun } from '../support/api-server.js';
import { api } from '../support/http-request.js';
import { cli } from '../support/run-cli.js';

const { dir, start } = useServers('interlock-api-reg-');

const doc = (extra: Record<string, unknown> = {}) => ({
  name: 'reg',
  archetype: 'gate',
  tier: 2,
  traits: { a: { evaluator: 'pass', config: { k: 1 } } },
  trigger: { type: 'http', url: 'https://airflow.example.com/api/v1/dags/reg/dagRuns', body: '{"conf":{}}' },
  ...extra,
});

describe('POST /api/pipelines', () => {
  it('201 registers (origin api); listed, readable, evaluable; the same document again → 200 unchanged', async () => {
    const root = makeProject(dir());
    const s = await start(root);
    const r = await api(s.url, 'POST', '/api/pipelines', doc());
    expect(r.status, r.text).toBe(201);
    expect(r.headers.location).toBe('/api/pipelines/reg');
    expect(r.body).toMatchObject({
      created: true,
      warnings: [],
      pipeline: { name: 'reg', origin: 'api', source: 'api' },
    });
    expect(r.body.pipeline.traits[0]).toMatchObject({
      type: 'a',
      evaluatorRef: 'pass',
      evaluator: join(root, 'evaluators', 'pass'),
      config: { k: 1 },
    });
    expect(r.body.pipeline.trigger.method).toBe('POST'); // the schema's default, as for YAML
    const list = await api(s.url, 'GET', '/api/pipelines');
    expect(list.body.map((p: { name: string }) => p.name)).toEqual(['no-trigger', 'p', 'reg']);
    const ev = await api(s.url, 'POST', '/api/pipelines/reg/evaluate');
    expect(ev.body.outcome).toBe('READY');
    // The CLI sees it too (the store is shared).
    const c = await cli(['status', 'reg', '--json'], { cwd: root });
    expect(JSON.parse(c.stdout)).toMatchObject({ pipeline: 'reg', source: 'api', outcome: 'READY' });
    const again = await api(s.url, 'POST', '/api/pipelines', doc());
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
  });

  it('a different document under a registered name → 409 (DELETE first)', async () => {
    const s = await start(makeProject(dir()));
    expect((await api(s.url, 'POST', '/api/pipelines', doc())).status).toBe(201);
    const r = await api(s.url, 'POST', '/api/pipelines', doc({ tier: 3 }));
    expect(r.status).toBe(409);
    expectErrorShape(r);
    expect(r.body.error.code).toBe('ALREADY_EXISTS');
  });

  it('400 with every problem listed, worded exactly as `interlock validate` words the same document in YAML', async () => {
    const root = makeProject(dir());
    const s = await start(root);
    const bad = {
      name: 'Bad Name',
      archetype: 'gate',
      tier: -1,
      traits: { a: { evaluator: 'pass', ttl: 'soon', colour: 'red' } },
      trigger: { type: 'http', url: '', methd: 'POST' },
      extra: true,
    };
    const r = await api(s.url, 'POST', '/api/pipelines', bad);
    expect(r.status).toBe(400);
    expectErrorShape(r);
    expect(r.body.error.code).toBe('CONFIG_INVALID');
    const problems: Array<{ path: string; message: string }> = r.body.error.details.problems;
    expect(problems.map((p) => p.path).sort()).toEqual(
      ['extra', 'name', 'tier', 'traits.a.colour', 'traits.a.ttl', 'trigger.methd', 'trigger.url'].sort(),
    );
    // The same document as a YAML file (JSON is YAML) in a copy of the project, checked by the CLI.
    const copy = dir();
    cpSync(root, copy, { recursive: true });
    rmSync(join(copy, '.interlock'), { recursive: true, force: true });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(copy, 'pipelines', 'bad.yaml'), JSON.stringify(bad, null, 2));
    const v = await cli(['validate', '--json'], { cwd: copy });
    const yamlProblems = JSON.parse(v.stdout)
      .errors.filter((d: { file: string }) => d.file === 'pipelines/bad.yaml')
      .map((d: { path: string; message: string }) => ({ path: d.path, message: d.message }));
    expect(problems.sort((a, b) => a.path.localeCompare(b.path))).toEqual(
      yamlProblems.sort((a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path)),
    );
  });

  it('400 lists structural and semantic problems in one answer (unknown keys and an unknown archetype)', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(
      s.url,
      'POST',
      '/api/pipelines',
      doc({ archetype: 'gat', traits: { a: { evaluator: 'pass', confg: { k: 1 }, timout: 5 } } }),
    );
    expect(r.status).toBe(400);
    expect(r.body.error.details.problems).toEqual([
      { path: 'traits.a.confg', message: "unknown key 'confg' (did you mean 'config'?)" },
      { path: 'traits.a.timout', message: "unknown key 'timout' (did you mean 'timeout'?)" },
      { path: 'archetype', message: "unknown archetype 'gat' (known: gate)" },
    ]);
  });

  it('400 for schedules, exclusions, watch, retry or mode: YAML-only in this version; nothing is registered', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(
      s.url,
      'POST',
      '/api/pipelines',
      doc({ schedules: [{ cron: '0 5 * * *' }], mode: 'shadow', retry: { maxAttempts: 2 }, tier: -1 }),
    );
    expect(r.status, r.text).toBe(400);
    expectErrorShape(r);
    expect(r.body.error.code).toBe('CONFIG_INVALID');
    const yamlOnly =
      'schedules, exclusions, watch, retry and mode are configured in pipeline YAML files only in this version; a pipeline registered over the API runs on demand (remove the key, or define the pipeline in a YAML file)';
    expect(r.body.error.details.problems).toEqual([
      { path: 'schedules', message: yamlOnly },
      { path: 'retry', message: yamlOnly },
      { path: 'mode', message: yamlOnly },
      { path: 'tier', message: 'expected a non-negative integer' },
    ]);
    expect((await api(s.url, 'GET', '/api/pipelines/reg')).status).toBe(404);
    // Even a document whose only problem is a schedule is refused.
    const only = await api(s.url, 'POST', '/api/pipelines', doc({ exclusions: { days: ['sunday'] } }));
    expect(only.status).toBe(400);
    expect(only.body.error.details.problems).toEqual([{ path: 'exclusions', message: yamlOnly }]);
  });

  it('durations may be written as 90s, 15m, 1h30m: stored as seconds', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(
      s.url,
      'POST',
      '/api/pipelines',
      doc({ traits: { a: { evaluator: 'pass', ttl: '15m', timeout: '90s' } } }),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.pipeline.traits[0]).toMatchObject({ ttlSeconds: 900, timeoutSeconds: 90 });
    const bad = await api(
      s.url,
      'POST',
      '/api/pipelines',
      doc({ name: 'reg2', traits: { a: { evaluator: 'pass', ttl: '15 minutes' } } }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.problems[0].message).toMatch(/90s, 15m, 2h, 1d or 1h30m/);
  });

  it('400 for semantic problems: unknown archetype, a trait the archetype does not declare (did you mean…)', async () => {
    const s = await start(makeProject(dir()));
    const arch = await api(s.url, 'POST', '/api/pipelines', doc({ archetype: 'nope' }));
    expect(arch.status).toBe(400);
    expect(arch.body.error.details.problems).toEqual([
      { path: 'archetype', message: "unknown archetype 'nope' (known: gate)" },
    ]);
    const trait = await api(s.url, 'POST', '/api/pipelines', doc({ traits: { aa: { evaluator: 'pass' } } }));
    expect(trait.status).toBe(400);
    expect(trait.body.error.details.problems[0].path).toBe('traits.aa');
    expect(trait.body.error.details.problems[0].message).toContain("trait 'aa' is not declared by archetype 'gate'");
    for (const body of [[], 'x', 42, null]) {
      const r = await api(s.url, 'POST', '/api/pipelines', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expectErrorShape(r);
    }
    expect((await api(s.url, 'GET', '/api/pipelines')).body).toHaveLength(2);
  });

  it('an evaluator not found yet is a warning (the trait evaluates FAIL until it exists), as in YAML', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(s.url, 'POST', '/api/pipelines', doc({ traits: { a: { evaluator: 'not-there-yet' } } }));
    expect(r.status).toBe(201);
    expect(r.body.warnings).toEqual([
      {
        path: 'traits.a.evaluator',
        message: "evaluator 'not-there-yet' not found (looked for evaluators/not-there-yet)",
      },
    ]);
  });

  it('a name a YAML file defines → 409, and YAML pipelines cannot be deleted (409)', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(s.url, 'POST', '/api/pipelines', doc({ name: 'p' }));
    expect(r.status).toBe(409);
    expectErrorShape(r);
    expect(r.body.error.message).toContain('pipelines/p.yaml');
    const d = await api(s.url, 'DELETE', '/api/pipelines/p');
    expect(d.status).toBe(409);
    expect((await api(s.url, 'GET', '/api/pipelines/p')).body.origin).toBe('yaml');
  });
});

describe('registration policy (403 unless the server trusts registrations)', () => {
  it('command triggers are refused; allowed with server.allowCommandRegistration: true', async () => {
    const body = doc({ trigger: { type: 'command', command: 'touch pwned' } });
    const s = await start(makeProject(dir()));
    const r = await api(s.url, 'POST', '/api/pipelines', body);
    expect(r.status).toBe(403);
    expectErrorShape(r);
    expect(r.body.error.code).toBe('FORBIDDEN');
    expect(r.body.error.details.problems[0].path).toBe('trigger.type');
    expect((await api(s.url, 'GET', '/api/pipelines/reg')).status).toBe(404);
    const trusted = await start(
      makeProject(dir(), { config: 'provider: sqlite\nserver:\n  allowCommandRegistration: true\n' }),
    );
    expect((await api(trusted.url, 'POST', '/api/pipelines', body)).status).toBe(201);
  });

  it('evaluators resolving outside evaluatorDirs are refused; bare names and paths inside are fine', async () => {
    const root = makeProject(dir());
    const s = await start(root);
    for (const evaluator of ['/bin/true', '../../bin/true', './archetypes/../../x', './data/run-me']) {
      const r = await api(s.url, 'POST', '/api/pipelines', doc({ traits: { a: { evaluator } } }));
      expect(r.status, evaluator).toBe(403);
      expect(r.body.error.details.problems[0].path).toBe('traits.a.evaluator');
    }
    for (const [i, evaluator] of ['pass', './evaluators/pass', 'evaluators/../evaluators/fail'].entries()) {
      const r = await api(s.url, 'POST', '/api/pipelines', doc({ name: `ok-${i}`, traits: { a: { evaluator } } }));
      expect(r.status, `${evaluator}: ${r.text}`).toBe(201);
    }
  });

  it('http triggers to loopback, private or link-local hosts are refused unless listed in server.allowedHosts', async () => {
    const privateUrls = [
      'http://127.0.0.1:8080/x',
      'http://127.9.9.9/x',
      'http://localhost:3000/api/pipelines',
      'http://app.localhost/x',
      'http://[::1]:80/x',
      'http://10.1.2.3/x',
      'http://172.16.0.1/x',
      'http://172.31.255.255/x',
      'http://192.168.1.10/x',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fc00::1]/x',
      'http://[fd12:3456::1]/x',
      'http://[fe80::1]/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://0x7f000001/x',
      'http://2130706433/x',
      'http://0.0.0.0/x',
      'HTTP://LOCALHOST./x',
    ];
    const s = await start(makeProject(dir()));
    for (const url of privateUrls) {
      const r = await api(s.url, 'POST', '/api/pipelines', doc({ trigger: { type: 'http', url } }));
      expect(r.status, url).toBe(403);
      expect(r.body.error.details.problems.map((p: { path: string }) => p.path)).toEqual(['trigger.url']);
    }
    for (const url of [
      'https://8.8.8.8/x',
      'https://172.32.0.1/x',
      'https://[2001:db8::1]/x',
      'https://a.example.com',
    ]) {
      const r = await api(s.url, 'POST', '/api/pipelines', doc({ name: 'pub', trigger: { type: 'http', url } }));
      expect(r.status, `${url}: ${r.text}`).toBe(201);
      expect((await api(s.url, 'DELETE', '/api/pipelines/pub')).status).toBe(200);
    }
    const allowed = await start(
      makeProject(dir(), {
        config: 'provider: sqlite\nserver:\n  allowedHosts: ["127.0.0.1", "[::1]", "Airflow.Internal"]\n',
      }),
    );
    for (const url of ['http://127.0.0.1:8080/x', 'http://[::1]/x']) {
      const r = await api(allowed.url, 'POST', '/api/pipelines', doc({ name: 'x', trigger: { type: 'http', url } }));
      expect(r.status, url).toBe(201);
      await api(allowed.url, 'DELETE', '/api/pipelines/x');
    }
    expect(
      (await api(allowed.url, 'POST', '/api/pipelines', doc({ trigger: { type: 'http', url: 'http://10.0.0.1/' } })))
        .status,
    ).toBe(403);
  });

  it(`\${VAR} in a registered http trigger is refused (it would send this server’s environment); run-id vars are fine`, async () => {
    const s = await start(makeProject(dir()));
    const withSecret = doc({
      trigger: {
        type: 'http',
        url: 'https://x.example.com/',
        headers: { Authorization: `Bearer \${AWS_SECRET_ACCESS_KEY}` },
      },
    });
    const r = await api(s.url, 'POST', '/api/pipelines', withSecret);
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain(`\${AWS_SECRET_ACCESS_KEY}`);
    const templatedHost = doc({ trigger: { type: 'http', url: `http://\${TARGET}/x` } });
    expect((await api(s.url, 'POST', '/api/pipelines', templatedHost)).status).toBe(403);
    // Not http(s) at all is a config error for YAML and API alike (400), before any policy question.
    const notHttp = doc({ trigger: { type: 'http', url: 'file:///etc/passwd' } });
    const notHttpR = await api(s.url, 'POST', '/api/pipelines', notHttp);
    expect(notHttpR.status).toBe(400);
    expect(notHttpR.body.error.details.problems).toEqual([
      { path: 'trigger.url', message: expect.stringContaining('expected an http:// or https:// URL') },
    ]);
    const runId = doc({
      trigger: {
        type: 'http',
        url: `https://x.example.com/runs/\${INTERLOCK_RUN_ID}`,
        body: `{"p":"\${INTERLOCK_PIPELINE}"}`,
      },
    });
    expect((await api(s.url, 'POST', '/api/pipelines', runId)).status).toBe(201);
  });
});

describe('DELETE /api/pipelines/{id} and persistence', () => {
  it('registered pipelines survive a restart; DELETE removes them (404 after), 404 unknown, 409 while a run is active', async () => {
    const root = makeProject(dir(), { config: 'provider: sqlite\nserver:\n  allowedHosts: ["127.0.0.1"]\n' });
    const first = await start(root);
    const body = doc({ trigger: { type: 'http', url: 'http://127.0.0.1:9/never', async: true } });
    expect((await api(first.url, 'POST', '/api/pipelines', body)).status).toBe(201);
    await first.stop();

    const second = await start(root);
    const got = await api(second.url, 'GET', '/api/pipelines/reg');
    expect(got.status).toBe(200);
    expect(got.body.origin).toBe('api');
    // A run in progress (PENDING while its slow evaluator runs) blocks the delete.
    const p2 = doc({
      name: 'slow',
      traits: { a: { evaluator: 'slow' } },
      trigger: { type: 'http', url: 'https://x.example.com/' },
    });
    expect((await api(second.url, 'POST', '/api/pipelines', p2)).status).toBe(201);
    const pending = api(second.url, 'POST', '/api/pipelines/slow/run'); // evaluates for up to 30 s
    let active: string | undefined;
    for (let i = 0; i < 100 && !active; i++) {
      const runs = await api(second.url, 'GET', '/api/pipelines/slow/runs');
      active = runs.body[0]?.runId;
      if (!active) await new Promise((r) => setTimeout(r, 50));
    }
    expect(active).toBeDefined();
    const busy = await api(second.url, 'DELETE', '/api/pipelines/slow');
    expect(busy.status).toBe(409);
    expect(busy.body.error.details.runId).toBe(active);
    await api(second.url, 'POST', `/api/runs/${active}/cancel`);
    await waitForRun(second.url, active as string, ['CANCELLED']);

    const del = await api(second.url, 'DELETE', '/api/pipelines/reg');
    expect(del.status).toBe(200);
    expect(del.body.name).toBe('reg');
    expect((await api(second.url, 'GET', '/api/pipelines/reg')).status).toBe(404);
    expect((await api(second.url, 'DELETE', '/api/pipelines/reg')).status).toBe(404);
    await second.stop();
    // The cancelled run's request ends once shutdown aborts its evaluator.
    const settled = await pending;
    expect([409, 412, 503]).toContain(settled.status);
  });
});
