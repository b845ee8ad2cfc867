// `interlock watch --metrics-addr` (the built CLI): the same metrics as serve's GET /metrics, read from the store at
// scrape time (a CLI evaluation in another process shows), the token when the project has one, nothing but /metrics,
// no listener without the flag, and a refusal to serve anonymous metrics off loopback.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { raw } from '../support/http-request.js';
import { BIN } from '../support/paths.js';
import { cli } from '../support/run-cli.js';
import { childEnv, ServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

let work: { dir: string; cleanup: () => void };
const procs: ServerProcess[] = [];
beforeAll(() => {
  work = tempDir('interlock-watch-metrics-');
});
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }
});
afterAll(() => work?.cleanup());

let n = 0;
const project = (config = '') =>
  makeProject(join(work.dir, `project-${++n}`), { config: `provider: sqlite\n${config}` });

async function watch(root: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const p = await ServerProcess.start(process.execPath, [BIN, 'watch', ...args], { cwd: root, env: childEnv(env) });
  procs.push(p);
  return p;
}

describe('interlock watch --metrics-addr', () => {
  it('serves the metrics on loopback; the state gauges follow another process’s evaluation', async () => {
    const root = project();
    const w = await watch(root, ['--metrics-addr', '127.0.0.1:0']);
    expect(w.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const before = await fetch(w.url);
    expect(before.status).toBe(200);
    expect(before.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await before.text();
    expect(text).toContain('interlock_pipeline_ready{pipeline="p"} 0');
    expect(text).toMatch(/interlock_build_info\{version="[^"]+"\} 1/);
    expect(text).toContain('interlock_store_operation_duration_seconds_bucket');

    const r = await cli(['evaluate', 'p'], { cwd: root, env: { INTERLOCK_API_TOKEN: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(await (await fetch(w.url)).text()).toContain('interlock_pipeline_ready{pipeline="p"} 1');

    const other = await fetch(w.url.replace('/metrics', '/api/pipelines'));
    expect(other.status).toBe(404);
    await other.arrayBuffer();
    const post = await fetch(w.url, { method: 'POST' });
    expect(post.status).toBe(405);
    await post.arrayBuffer();
    // A Host that is not loopback (DNS rebinding) is not answered.
    const port = new URL(w.url).port;
    const rebound = await raw(w.url, { path: '/metrics', headers: { host: `evil.example:${port}` } });
    expect(rebound.status).toBe(421);

    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('with an API token the scrape needs it (unless server.metricsPublic)', async () => {
    const root = project();
    const w = await watch(root, ['--metrics-addr', '127.0.0.1:0'], { INTERLOCK_API_TOKEN: 'tok' });
    const anon = await fetch(w.url);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await anon.arrayBuffer();
    const ok = await fetch(w.url, { headers: { authorization: 'Bearer tok' } });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();

    const pub = await watch(project('server:\n  metricsPublic: true\n'), ['--metrics-addr', '127.0.0.1:0'], {
      INTERLOCK_API_TOKEN: 'tok',
    });
    const open = await fetch(pub.url);
    expect(open.status).toBe(200);
    await open.arrayBuffer();
  }, 60_000);

  it('refuses an address off loopback when scrapes would be anonymous (exit 2); without the flag nothing listens', async () => {
    const root = project();
    const r = await cli(['watch', '--metrics-addr', '0.0.0.0:0'], { cwd: root, env: { INTERLOCK_API_TOKEN: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to serve metrics on http:\/\/0\.0\.0\.0:0/);

    // Without --metrics-addr: the watcher runs and says nothing about metrics.
    const plain = await ServerProcess.start(process.execPath, [BIN, 'watch'], {
      cwd: root,
      env: childEnv(),
      timeoutMs: 3000,
    }).catch((e: Error) => e);
    expect(plain).toBeInstanceOf(Error);
    expect(String(plain)).not.toMatch(/metrics listening/);
  }, 60_000);
});
