// `interlock serve` as a real process (the built CLI): bind address, auth, refusing to listen unprotected, and
// graceful shutdown on SIGTERM with work in flight.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are tested here.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { expectErrorShape, waitForRun } from '../support/api-server.js';
import { api, raw } from '../support/http-request.js';
import { isAlive } from '../support/processes.js';
import { cli } from '../support/run-cli.js';
import { serveProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';
import { useCleanups } from '../support/test-cleanups.js';

const cleanup = useCleanups();

function project(o: Parameters<typeof makeProject>[1] = {}): string {
  const t = tempDir('interlock-serve-');
  cleanup(t.cleanup);
  return makeProject(t.dir, { config: 'provider: sqlite\nserver:\n  addr: "127.0.0.1:0"\n', ...o });
}

async function serve(root: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const p = await serveProcess(root, args, env);
  cleanup(() => {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  });
  return p;
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

describe('interlock serve: address and auth', () => {
  it('prints `listening on http://127.0.0.1:PORT` to stderr; without a token every route is open on loopback', async () => {
    const root = project();
    const p = await serve(root);
    expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(p.stderr()).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n/);
    expect((await api(p.url, 'GET', '/api/pipelines')).status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });

  it('warns at start about config warnings, e.g. a ${VAR} an http trigger needs that is not set', async () => {
    const root = project({ trigger: 'trigger:\n  type: http\n  url: "https://${IL_SERVE_TEST_HOST}/x"\n' });
    const p = await serve(root, [], { IL_SERVE_TEST_HOST: '' });
    expect(await until(() => p.stderr().includes('IL_SERVE_TEST_HOST'), 2000), p.stderr()).toBe(true);
    expect(p.stderr()).toContain(
      'interlock: pipelines/p.yaml:8:8 warning: trigger.url: environment variable IL_SERVE_TEST_HOST is empty here',
    );
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });

  it('with server.authToken: 401 without or with a wrong token (constant-time compare), 200 with it; health stays open', async () => {
    const root = project({
      config: 'provider: sqlite\nserver:\n  addr: "127.0.0.1:0"\n  authToken: "s3cret-token-1"\n',
    });
    const p = await serve(root);
    expect((await api(p.url, 'GET', '/api/health')).status).toBe(200);
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: 'Bearer s3cret-token-12' },
      { authorization: 'Bearer s3cret-token-' },
      { authorization: 'Basic czNjcmV0LXRva2VuLTE=' },
      { authorization: 's3cret-token-1' },
      { authorization: 'Bearer' },
    ];
    for (const headers of attempts) {
      for (const path of ['/api/pipelines', '/api/openapi.json', '/api/nope', '/api/runs/x']) {
        const r = await api(p.url, 'GET', path, undefined, headers);
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expectErrorShape(r);
        expect(r.body.error.code).toBe('UNAUTHORIZED');
        expect(r.headers['www-authenticate']).toContain('Bearer');
      }
    }
    // The body is never read before auth: an unauthenticated 2 MiB POST is a 401, not a 413.
    const big = await raw(p.url, {
      method: 'POST',
      path: '/api/pipelines',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(2 * 1024 * 1024),
    });
    expect(big.status).toBe(401);
    const ok = await api(p.url, 'GET', '/api/pipelines', undefined, { authorization: 'Bearer s3cret-token-1' });
    expect(ok.status).toBe(200);
    const lower = await api(p.url, 'POST', '/api/pipelines/p/evaluate', undefined, {
      authorization: 'bearer s3cret-token-1',
    });
    expect(lower.status).toBe(200);
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });

  it('INTERLOCK_API_TOKEN overrides server.authToken', async () => {
    const root = project({ config: 'provider: sqlite\nserver:\n  addr: "127.0.0.1:0"\n  authToken: "from-yaml"\n' });
    const p = await serve(root, [], { INTERLOCK_API_TOKEN: 'from-env' });
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    expect((await api(p.url, 'GET', '/api/pipelines', undefined, auth('from-yaml'))).status).toBe(401);
    expect((await api(p.url, 'GET', '/api/pipelines', undefined, auth('from-env'))).status).toBe(200);
    p.child.kill('SIGINT');
    expect((await p.exited).code).toBe(0);
  });

  it('refuses to start on a non-loopback address without a token (exit 2, says how to fix it)', async () => {
    const root = project();
    for (const addr of ['0.0.0.0:0', ':0', '[::]:0']) {
      const r = await cli(['serve', '--addr', addr], { cwd: root, env: { INTERLOCK_API_TOKEN: '' } });
      expect(r.code, `${addr}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('refusing to listen on');
      expect(r.stderr).toContain('without an API token');
      expect(r.stderr).toContain('--insecure');
      expect(r.stderr).not.toContain('listening on');
    }
    // server.addr from interlock.yaml is held to the same rule.
    const yaml = project({ config: 'provider: sqlite\nserver:\n  addr: "0.0.0.0:0"\n' });
    const y = await cli(['serve'], { cwd: yaml, env: { INTERLOCK_API_TOKEN: '' } });
    expect(y.code).toBe(2);
    for (const bad of ['nonsense', '127.0.0.1:99999', '[127.0.0.1]:80']) {
      const r = await cli(['serve', '--addr', bad], { cwd: root });
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain('invalid listen address');
    }
  });

  it('a non-loopback address starts with a token, or with --insecure (and a warning)', async () => {
    const root = project();
    const withToken = await serve(root, ['--addr', '0.0.0.0:0'], { INTERLOCK_API_TOKEN: 'tok-123' });
    expect(withToken.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    const local = withToken.url.replace('0.0.0.0', '127.0.0.1');
    expect((await api(local, 'GET', '/api/pipelines')).status).toBe(401);
    withToken.child.kill('SIGTERM');
    expect((await withToken.exited).code).toBe(0);

    const insecure = await serve(root, ['--addr', '0.0.0.0:0', '--insecure']);
    await until(() => insecure.stderr().includes('warning'), 2000);
    expect(insecure.stderr()).toContain('warning: no API token');
    expect((await api(insecure.url.replace('0.0.0.0', '127.0.0.1'), 'GET', '/api/pipelines')).status).toBe(200);
    insecure.child.kill('SIGTERM');
    expect((await insecure.exited).code).toBe(0);
  });
});

describe('interlock serve: graceful shutdown', () => {
  it('a stray INTERLOCK_TEST_PAUSE_AT in the environment cannot hang serve: the run answers 202 and completes', async () => {
    for (const point of ['after-pending', 'after-trigger-call']) {
      const root = project();
      const p = await serve(root, [], { INTERLOCK_TEST_PAUSE_AT: point });
      const r = await api(p.url, 'POST', '/api/pipelines/p/run');
      expect(r.status, r.text).toBe(202);
      const done = await waitForRun(p.url, r.body.run.runId, ['COMPLETED', 'FAILED'], {}, 5000);
      expect(done.body.run?.status ?? done.body.status).toBe('COMPLETED');
      expect(p.stderr()).not.toContain('INTERLOCK_PAUSED');
      p.child.kill('SIGTERM');
      expect((await p.exited).code).toBe(0);
    }
  });

  it('SIGTERM with a trigger in flight: the trigger is killed, the run ends FAILED "aborted by shutdown", exit 0', async () => {
    const root = project({
      trigger:
        'trigger:\n  type: command\n  command: "echo $$ > trigger.pid; echo $INTERLOCK_RUN_ID >> fired.log; sleep 30"\n',
    });
    const p = await serve(root);
    const r = await api(p.url, 'POST', '/api/pipelines/p/run');
    expect(r.status, r.text).toBe(202);
    const runId: string = r.body.run.runId;
    expect(await until(() => existsSync(join(root, 'trigger.pid')), 5000)).toBe(true);
    const pid = Number(readFileSync(join(root, 'trigger.pid'), 'utf8'));
    expect(isAlive(pid)).toBe(true);

    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const exit = await p.exited;
    expect(exit, p.stderr()).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await until(() => !isAlive(pid), 2000)).toBe(true);

    const run = await cli(['runs', '--id', runId, '--json'], { cwd: root });
    const stored = JSON.parse(run.stdout);
    expect(stored.status).toBe('FAILED');
    expect(stored.reason).toContain('aborted by shutdown');
    expect(stored.trigger).toMatchObject({ type: 'command', ok: false });
    const h = JSON.parse((await cli(['history', 'p', '--json'], { cwd: root })).stdout);
    expect(h.filter((e: { type: string }) => e.type === 'run').map((e: { to: string }) => e.to)).toEqual([
      'FAILED',
      'TRIGGERING', // the command's process recorded
      'TRIGGERING',
      'PENDING',
    ]);
    // The lock is free: the next run (after restart) is not refused as "already running".
    const again = await serve(root);
    const next = await api(again.url, 'POST', '/api/pipelines/p/run');
    expect(next.status).toBe(202);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  });

  it('SIGTERM while evaluating: in-flight requests get their answer (evaluators aborted → NOT_READY), runs end BLOCKED', async () => {
    const root = project({ evaluator: 'slow' });
    const p = await serve(root);
    const run = api(p.url, 'POST', '/api/pipelines/p/run');
    const evaluate = api(p.url, 'POST', '/api/pipelines/p/evaluate');
    // Wait until the run exists (PENDING, its evaluator sleeping).
    let runId: string | undefined;
    for (let i = 0; i < 200 && !runId; i++) {
      runId = (await api(p.url, 'GET', '/api/pipelines/p/runs')).body[0]?.runId;
      if (!runId) await new Promise((r) => setTimeout(r, 25));
    }
    expect(runId).toBeDefined();
    await new Promise((r) => setTimeout(r, 200));
    p.child.kill('SIGTERM');
    const [runReply, evalReply] = await Promise.all([run, evaluate]);
    expect(runReply.status, runReply.text).toBe(412);
    expect(runReply.body.error.details.blocking[0]).toMatchObject({ trait: 'a', reasonCode: 'EVALUATOR_ERROR' });
    expect(runReply.body.error.details.blocking[0].reason).toContain('aborted by shutdown');
    expect(evalReply.status).toBe(200);
    expect(evalReply.body.outcome).toBe('NOT_READY');
    expect((await p.exited).code).toBe(0);
    const stored = JSON.parse((await cli(['runs', '--id', runId as string, '--json'], { cwd: root })).stdout);
    expect(stored.status).toBe('BLOCKED');
    expect(stored.reason).toContain('aborted by shutdown');
  });

  it('an async http run stays RUNNING across a restart, and its completion callback works on the new server', async () => {
    const { createServer } = await import('node:http');
    const target = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end('{}'));
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    cleanup(() => new Promise<void>((r) => target.close(() => r())));
    const port = (target.address() as { port: number }).port;
    const root = project({ trigger: `trigger:\n  type: http\n  url: http://127.0.0.1:${port}/run\n  async: true\n` });
    const p = await serve(root);
    const r = await api(p.url, 'POST', '/api/pipelines/p/run');
    expect(r.status).toBe(202);
    await waitForRun(p.url, r.body.run.runId, ['RUNNING']);
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    const q = await serve(root);
    const done = await api(q.url, 'POST', `/api/runs/${r.body.run.runId}/complete`, { status: 'success' });
    expect(done.status).toBe(200);
    expect(done.body.run.status).toBe('COMPLETED');
    q.child.kill('SIGTERM');
    expect((await q.exited).code).toBe(0);
  });
});
