// Code execution and trust (issue 9): what an API caller registers runs only what the API accepts, by real path,
// at registration and again at every spawn; YAML pipelines stay trusted.
import { existsSync, mkdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { api, makeProject, useServers } from './support.js';

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

  it('a link swapped after registration is refused at spawn: FAIL EVALUATOR_FORBIDDEN, the target never runs', async () => {
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
    const ev = await api(s.url, 'POST', '/api/pipelines/reg/evaluate');
    expect(ev.status).toBe(200);
    expect(ev.body.outcome).toBe('NOT_READY');
    expect(ev.body.readiness.blocking[0]).toMatchObject({ trait: 'a', reasonCode: 'EVALUATOR_FORBIDDEN' });
    const run = await api(s.url, 'POST', '/api/pipelines/reg/run');
    expect(run.status).toBe(412);
    // The CLI spawns by the same rule.
    const c = await cli(['evaluate', 'reg', '--json'], { cwd: root });
    expect(c.code).toBe(1);
    expect(JSON.parse(c.stdout).readiness.blocking[0].reasonCode).toBe('EVALUATOR_FORBIDDEN');
    expect(existsSync(pwned)).toBe(false);

    // A directory swapped for a link out of evaluatorDirs is caught too.
    unlinkSync(link);
    mkdirSync(join(root, 'evaluators', 'sub'));
    symlinkSync(join(root, 'evaluators', 'pass'), join(root, 'evaluators', 'sub', 'x'));
    const sub = await api(s.url, 'POST', '/api/pipelines', doc('evaluators/sub/x', {}, 'sub'));
    expect(sub.status, sub.text).toBe(201);
    renameSync(join(root, 'evaluators', 'sub'), join(root, 'moved'));
    symlinkSync('/usr/bin', join(root, 'evaluators', 'sub'));
    writeFileSync(join(root, 'moved', 'unused'), '');
    const subEv = await api(s.url, 'POST', '/api/pipelines/sub/evaluate');
    expect(subEv.body.readiness.blocking[0].reasonCode).toMatch(/EVALUATOR_FORBIDDEN/);
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
