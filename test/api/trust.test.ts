// Code execution and trust (issue 9): what an API caller registers runs only what the API accepts, by real path,
// at registration and again at every spawn; YAML pipelines stay trusted.
import { existsSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResolveHost } from '../../src/trigger/index.js';
import { type MockService, startService } from '../fixtures/triggers/mock-services.js';
import { makeProject } from '../support/api-project.js';
import { useServers, waitForRun } from '../support/api-server.js';
import { api } from '../support/http-request.js';
import { cli } from '../support/run-cli.js';

const { dir, start } = useServers('interlock-api-trust-');

const doc = (evaluator: string, config: Record<string, unknown> = {}, name = 'reg') => ({
  name,
  archetype: 'gate',
  traits: { a: { evaluator, config } },
  trigger: { type: 'http', url: 'https://airflow.example.com/api/v1/dags/reg/dagRuns' },
});

describe('evaluatorDirs by real path (symlinks resolved)', () => {
  it('a symlink to /bin/sh inside evaluatorDirs is refused at registration; nothing runs', async () => {
    const root = makeProject(dir());
    symlinkSync('/bin/sh', join(root, 'evaluators', 'shell'));
    const pwned = join(root, 'pwned');
    const s = await start(root);
    const r = await api(s.url, 'POST', '/api/pipelines', doc('shell', { x: `$(id > ${pwned})` }));
    expect(r.status, r.text).toBe(403);
    expect(r.body.error.details.problems[0].path).toBe('traits.a.evaluator');
    expect(r.body.error.details.problems[0].message).toContain('outside evaluatorDirs');
    expect((await api(s.url, 'POST', '/api/pipelines/reg/evaluate')).status).toBe(404);
    expect(existsSync(pwned)).toBe(false);
  });

  it('a symlinked directory inside evaluatorDirs (evaluators/bindir -> /usr/bin) is refused', async () => {
    const root = makeProject(dir());
    symlinkSync('/usr/bin', join(root, 'evaluators', 'bindir'));
    const s = await start(root);
    for (const ref of ['evaluators/bindir/bash', './evaluators/bindir/env', 'evaluators/bindir/not-there']) {
      const r = await api(s.url, 'POST', '/api/pipelines', doc(ref, { x: '$(id)' }));
      expect(r.status, `${ref}: ${r.text}`).toBe(403);
      expect(r.body.error.details.problems[0].path).toBe('traits.a.evaluator');
    }
  });

  it('a link swapped after registration is refused when the pipeline is next loaded; the target never runs', async () => {
    const root = makeProject(dir());
    const link = join(root, 'evaluators', 'checker');
    symlinkSync(join(root, 'evaluators', 'pass'), link); // inside evaluatorDirs: fine
    const pwned = join(root, 'pwned');
    const s = await start(root);
    const r = await api(s.url, 'POST', '/api/pipelines', doc('checker', { x: `$(id > ${pwned})` }));
    expect(r.status, r.text).toBe(201);
    expect((await api(s.url, 'POST', '/api/pipelines/reg/evaluate')).body.outcome).toBe('READY');

    // Swap the link atomically to a shell.
    symlinkSync('/bin/sh', `${link}.new`);
    renameSync(`${link}.new`, link);
    for (const what of ['evaluate', 'run']) {
      const ev = await api(s.url, 'POST', `/api/pipelines/reg/${what}`);
      expect(ev.status, ev.text).toBe(409);
      expect(ev.body.error.code).toBe('PIPELINE_INVALID');
      expect(ev.body.error.details.problems[0]).toMatchObject({ path: 'traits.a.evaluator' });
      expect(ev.body.error.details.problems[0].message).toContain('really /');
    }
    // The CLI loads it by the same rule.
    const c = await cli(['evaluate', 'reg'], { cwd: root });
    expect(c.code, c.stderr).toBe(2);
    expect(existsSync(pwned)).toBe(false);

    // A directory swapped for a link out of evaluatorDirs is caught too.
    mkdirSync(join(root, 'evaluators', 'sub'));
    writeFileSync(join(root, 'evaluators', 'sub', 'env'), '#!/bin/sh\necho \'{"status":"PASS"}\'\n', { mode: 0o755 });
    const sub = await api(s.url, 'POST', '/api/pipelines', doc('evaluators/sub/env', {}, 'sub'));
    expect(sub.status, sub.text).toBe(201);
    expect((await api(s.url, 'POST', '/api/pipelines/sub/evaluate')).body.outcome).toBe('READY');
    renameSync(join(root, 'evaluators', 'sub'), join(root, 'moved'));
    symlinkSync('/usr/bin', join(root, 'evaluators', 'sub'));
    expect((await api(s.url, 'POST', '/api/pipelines/sub/evaluate')).status).toBe(409);
  });

  it('YAML pipelines are trusted: a symlinked evaluator pointing outside evaluatorDirs still runs', async () => {
    const root = makeProject(dir(), { evaluator: 'linked' });
    mkdirSync(join(root, 'scripts'));
    renameSync(join(root, 'evaluators', 'pass'), join(root, 'scripts', 'pass'));
    symlinkSync(join(root, 'scripts', 'pass'), join(root, 'evaluators', 'linked'));
    const s = await start(root);
    expect((await api(s.url, 'POST', '/api/pipelines/p/evaluate')).body.outcome).toBe('READY');
  });
});

describe('SSRF by name: http triggers of registered pipelines', () => {
  const services: MockService[] = [];
  const target = async () => {
    const m = await startService((_req, res) => res.end('{"ok":true}'));
    services.push(m);
    return m;
  };
  const httpDoc = (url: string) => ({
    name: 'hook',
    archetype: 'gate',
    traits: { a: { evaluator: 'pass' } },
    trigger: { type: 'http', url, async: false },
  });

  it('names resolving to loopback (localhost, this machine’s hostname) are refused at registration', async () => {
    const m = await target();
    const port = new URL(m.url).port;
    const s = await start(makeProject(dir()));
    for (const h of ['localhost', hostname(), `${hostname()}.`]) {
      const r = await api(s.url, 'POST', '/api/pipelines', httpDoc(`http://${h}:${port}/`));
      expect(r.status, `${h}: ${r.text}`).toBe(403);
      expect(r.body.error.details.problems).toEqual([
        { path: 'trigger.url', message: expect.stringContaining('server.allowedHosts') },
      ]);
    }
    // Listed in server.allowedHosts (by name or by address): allowed, and the trigger reaches it.
    const allowed = await start(
      makeProject(dir(), { config: `provider: sqlite\nserver:\n  allowedHosts: ["${hostname()}"]\n` }),
    );
    const r = await api(allowed.url, 'POST', '/api/pipelines', httpDoc(`http://${hostname()}:${port}/`));
    expect(r.status, r.text).toBe(201);
    const run = await api(allowed.url, 'POST', '/api/pipelines/hook/run');
    expect(run.status, run.text).toBe(202);
    await waitForRun(allowed.url, run.body.run.runId, ['COMPLETED']);
    expect(m.requests).toHaveLength(1);
    await Promise.all(services.splice(0).map((x) => x.close()));
  });

  it('DNS rebinding: public at registration, loopback at fire time → the run FAILS and nothing is sent', async () => {
    const m = await target();
    const port = new URL(m.url).port;
    const s = await start(makeProject(dir()));
    const calls: string[] = [];
    const resolve: ResolveHost = async (host) => {
      calls.push(host);
      return [{ address: calls.length === 1 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    };
    s.ctx.resolveHost = resolve;
    const r = await api(s.url, 'POST', '/api/pipelines', httpDoc(`http://rebind.test:${port}/hook`));
    expect(r.status, r.text).toBe(201);
    const run = await api(s.url, 'POST', '/api/pipelines/hook/run');
    expect(run.status, run.text).toBe(202);
    const done = await waitForRun(s.url, run.body.run.runId, ['FAILED']);
    expect(JSON.stringify(done.body)).toContain("refused before sending: host 'rebind.test' resolves to 127.0.0.1");
    expect(calls).toEqual(['rebind.test', 'rebind.test']);
    expect(m.connections).toBe(0);
    // YAML pipelines are trusted: the same name in a YAML trigger is not checked.
    await Promise.all(services.splice(0).map((x) => x.close()));
  });
});

describe('environment of registered pipelines', () => {
  it('a registration cannot pass environment variables to its evaluators (403); the archetype defaultEnv applies', async () => {
    const root = makeProject(dir(), {
      files: {
        'archetypes/envy.yaml': 'name: envy\nrequiredTraits:\n  - type: a\n    defaultEnv: [FIXTURE_SECRET]\n',
      },
    });
    const s = await start(root);
    const own = { ...doc('pass'), traits: { a: { evaluator: 'pass', env: ['AWS_SECRET_ACCESS_KEY'] } } };
    const r = await api(s.url, 'POST', '/api/pipelines', own);
    expect(r.status, r.text).toBe(403);
    expect(r.body.error.details.problems.map((p: { path: string }) => p.path)).toEqual(['traits.a.env']);
    const inherited = { ...doc('pass'), archetype: 'envy' };
    expect((await api(s.url, 'POST', '/api/pipelines', inherited)).status).toBe(201);
  });
});
