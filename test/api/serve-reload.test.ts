// Issue 12 "Config reload", end to end with the real built `interlock serve`: a changed file is picked up by
// itself, SIGHUP reloads (and no longer kills the process) without dropping a request in flight, a broken pipeline
// fails closed (INVALID, never run, alerted, logged) while the others take the new config, a broken interlock.yaml
// keeps the whole last good project, and SIGTERM still shuts down cleanly.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { waitForRun } from '../support/api-server.js';
import { put } from '../support/files.js';
import { api } from '../support/http-request.js';
import { until } from '../support/poll.js';
import { serveProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';
import { useCleanups } from '../support/test-cleanups.js';
import { alerts, fired, RECORD_TRIGGER } from '../support/trigger-recorder.js';

const cleanup = useCleanups();
const CONFIG = 'provider: sqlite\nserver:\n  addr: "127.0.0.1:0"\nalerts:\n  - type: file\n    path: ./alerts.log\n';
const pipeline = (name: string, evaluator = 'pass', extra = '') =>
  `name: ${name}\narchetype: gate\ntraits:\n  a:\n    evaluator: ${evaluator}\n${extra}`;

async function start() {
  const t = tempDir('interlock-serve-reload-');
  cleanup(t.cleanup);
  const root = makeProject(t.dir, {
    config: CONFIG,
    files: {
      // Takes ~1.5 s: a request in flight while the project reloads.
      'evaluators/slow-pass': '#!/bin/sh\nsleep 1.5\necho \'{"status":"PASS"}\'\n',
      'pipelines/slow.yaml': pipeline('slow', 'slow-pass'),
    },
  });
  const p = await serveProcess(root);
  cleanup(() => {
    if (p.running) p.child.kill('SIGKILL');
  });
  return { root, p };
}

type View = { name: string; status?: string; description?: string; problems?: Array<{ file?: string }> };

async function pipelines(url: string): Promise<View[]> {
  const r = await api(url, 'GET', '/api/pipelines');
  expect(r.status).toBe(200);
  return r.body.pipelines ?? r.body;
}

async function view(url: string, name: string): Promise<View | undefined> {
  return (await pipelines(url)).find((v) => v.name === name);
}

describe('interlock serve: config reload', () => {
  it('picks up a changed pipeline file by itself; SIGHUP reloads at once, keeps serving and finishes a request in flight', async () => {
    const { root, p } = await start();
    expect((await view(p.url, 'p'))?.description).toBeUndefined();

    // A file change, no signal: visible within a few seconds (debounced 300 ms).
    put(root, 'pipelines/p.yaml', `${pipeline('p', 'pass', 'description: changed on disk\n')}${RECORD_TRIGGER}`);
    expect(await until(async () => (await view(p.url, 'p'))?.description === 'changed on disk', 5000), p.stderr()).toBe(
      true,
    );
    expect(
      await until(() => p.stderr().includes('config reload (file change): 0 added, 0 removed, 1 changed (p)'), 2000),
    ).toBe(true);

    // A request in flight (the evaluator takes 1.5 s) while SIGHUP reloads a project with a new pipeline.
    const inFlight = api(p.url, 'POST', '/api/pipelines/slow/evaluate');
    await new Promise((r) => setTimeout(r, 300));
    put(root, 'pipelines/added.yaml', pipeline('added'));
    p.child.kill('SIGHUP');
    expect(await until(() => p.stderr().includes('config reload (SIGHUP): 1 added (added)'), 5000), p.stderr()).toBe(
      true,
    );
    expect(await view(p.url, 'added')).toMatchObject({ name: 'added', origin: 'yaml' });
    const answered = await inFlight;
    expect(answered.status, answered.text).toBe(200);
    expect(answered.body.outcome).toBe('READY');
    expect(p.running).toBe(true);

    // A SIGHUP with nothing changed answers too, and the process still serves.
    p.child.kill('SIGHUP');
    expect(await until(() => p.stderr().includes('config reload (SIGHUP): 0 added, 0 removed, 0 changed'), 5000)).toBe(
      true,
    );
    expect((await api(p.url, 'GET', '/api/health')).status).toBe(200);

    p.child.kill('SIGTERM');
    expect(await p.exited, p.stderr()).toEqual({ code: 0, signal: null });
    expect(p.stderr()).toContain('stopped');
  });

  it('a broken pipeline file: that pipeline is INVALID with diagnostics and never run, the others work, alert + log; a broken interlock.yaml keeps the last good project', async () => {
    const { root, p } = await start();
    put(root, 'pipelines/q.yaml', `${pipeline('q')}${RECORD_TRIGGER}`);
    expect(await until(async () => (await view(p.url, 'q')) !== undefined, 5000), p.stderr()).toBe(true);

    // Broken beyond reading its name.
    put(root, 'pipelines/p.yaml', 'name: p\narchetype: [gate\n');
    expect(await until(async () => (await view(p.url, 'p'))?.status === 'INVALID', 5000), p.stderr()).toBe(true);
    const invalid = await view(p.url, 'p');
    expect(invalid?.problems?.length).toBeGreaterThan(0);
    expect(invalid?.problems?.[0]?.file).toBe('pipelines/p.yaml');

    const refused = await api(p.url, 'POST', '/api/pipelines/p/run');
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.error.code).toBe('CONFIG_INVALID');
    const ok = await api(p.url, 'POST', '/api/pipelines/q/run');
    expect(ok.status, ok.text).toBe(202);
    await waitForRun(p.url, ok.body.run.runId, ['COMPLETED']);
    expect(fired(root)).toEqual([ok.body.run.runId]);

    expect(await until(() => alerts(root).some((a) => a.kind === 'CONFIG_RELOAD_FAILED'), 5000)).toBe(true);
    const alert = alerts(root).find((a) => a.kind === 'CONFIG_RELOAD_FAILED') as unknown as Record<string, unknown>;
    expect(alert).toMatchObject({ kind: 'CONFIG_RELOAD_FAILED', pipeline: 'p', level: 'error' });
    expect(p.stderr()).toMatch(
      /interlock: warning: config reload \(file change\): .*failed for pipeline p, now INVALID \(never triggered until fixed\): pipelines\/p\.yaml:\d+:\d+/,
    );

    // interlock.yaml broken: nothing of the new load is taken (the new pipeline stays out), alert + log.
    const good = readFileSync(join(root, 'interlock.yaml'), 'utf8');
    put(root, 'pipelines/later.yaml', pipeline('later'));
    writeFileSync(join(root, 'interlock.yaml'), `${good}unknownKey: 1\n`);
    expect(
      await until(() => p.stderr().includes('kept the last good config for every pipeline'), 5000),
      p.stderr(),
    ).toBe(true);
    expect(p.stderr()).toMatch(/interlock: warning: config reload \(file change\) failed: 1 error in interlock\.yaml/);
    expect(await until(() => alerts(root).some((a) => (a as { pipeline?: string }).pipeline === '*'), 5000)).toBe(true);
    const names = (await pipelines(p.url)).map((v) => v.name).sort();
    expect(names).toEqual(['no-trigger', 'p', 'q', 'slow']);
    expect((await view(p.url, 'p'))?.status).toBe('INVALID');
    const stillOk = await api(p.url, 'POST', '/api/pipelines/q/run');
    expect(stillOk.status, stillOk.text).toBe(202);
    await waitForRun(p.url, stillOk.body.run.runId, ['COMPLETED']);

    // Fixed: everything comes in.
    writeFileSync(join(root, 'interlock.yaml'), good);
    expect(await until(async () => (await view(p.url, 'later')) !== undefined, 5000), p.stderr()).toBe(true);

    p.child.kill('SIGTERM');
    expect(await p.exited, p.stderr()).toEqual({ code: 0, signal: null });
  });
});
