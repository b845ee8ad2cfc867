// Cross-site requests and DNS rebinding against the tokenless loopback default (issue 9 items 4 and 5): Host, Origin
// and Content-Type rules on a real listening server, and the loopback rule applied to the address a name resolves to.
import { createServer, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../src/api/index.js';
import { serverSettings } from '../../src/api/settings.js';
import { openContext } from '../../src/runtime/context.js';
import { makeProject } from '../support/api-project.js';
import { expectErrorShape, useServers, waitForRun } from '../support/api-server.js';
import { api, raw } from '../support/http-request.js';
import { serveProcess } from '../support/server-process.js';
import { fired } from '../support/trigger-recorder.js';

const { dir, start, cleanup } = useServers('interlock-api-xsite-');

const portOf = (url: string) => new URL(url).port;

describe('item 4: cross-site requests and DNS rebinding (no token, 127.0.0.1)', () => {
  it('the exact request of the issue (Origin evil, form content type) against `interlock serve` → 403, nothing fires', async () => {
    const root = makeProject(dir(), { config: 'provider: sqlite\nserver:\n  addr: "127.0.0.1:0"\n' });
    const p = await serveProcess(root);
    cleanup(async () => {
      p.child.kill('SIGTERM');
      await p.exited;
    });
    const r = await raw(p.url, {
      method: 'POST',
      path: '/api/pipelines/p/run',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(403);
    expectErrorShape(r);
    expect(r.body.error.code).toBe('FORBIDDEN');
    const rebound = await raw(p.url, { path: '/api/pipelines', headers: { host: 'evil.example' } });
    expect(rebound.status).toBe(421);
    expect(rebound.body.error.code).toBe('MISDIRECTED_REQUEST');
    expect(fired(root)).toEqual([]);
    // The same server still serves a well-formed local request.
    const ok = await api(p.url, 'POST', '/api/pipelines/p/run', {});
    expect(ok.status).toBe(202);
    await waitForRun(p.url, ok.body.run.runId, ['COMPLETED', 'RUNNING']);
  });

  it('(a) a Host that is not a loopback name or address → 421 on every route but /api/health, before anything runs', async () => {
    const root = makeProject(dir());
    const s = await start(root);
    const port = portOf(s.url);
    for (const host of [
      'evil.example',
      `evil.example:${port}`,
      `10.0.0.7:${port}`,
      'localhost.evil.example',
      '127.0.0.1.nip.io',
    ]) {
      for (const [method, path] of [
        ['GET', '/api/pipelines'],
        ['GET', '/api/openapi.json'],
        ['POST', '/api/pipelines/p/run'],
      ] as const) {
        const r = await raw(s.url, {
          method,
          path,
          headers: { host, 'content-type': 'application/json' },
          ...(method === 'POST' ? { body: '{}' } : {}),
        });
        const what = `${method} ${path} Host: ${host}`;
        expect(r.status, what).toBe(421);
        expectErrorShape(r);
      }
    }
    expect(fired(root)).toEqual([]);
    expect((await raw(s.url, { path: '/api/health', headers: { host: 'evil.example' } })).status).toBe(200);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `127.1.2.3:${port}`, `app.localhost:${port}`]) {
      expect((await raw(s.url, { path: '/api/pipelines', headers: { host } })).status, host).toBe(200);
    }
  });

  it('(a) with a token the Host rule still applies (421 before 401); a token does not make a rebound Host valid', async () => {
    const s = await start(makeProject(dir()), { env: { INTERLOCK_API_TOKEN: 'tok-123456' } });
    const r = await raw(s.url, {
      path: '/api/pipelines',
      headers: { host: 'evil.example', authorization: 'Bearer tok-123456' },
    });
    expect(r.status).toBe(421);
  });

  it('(a) server.allowedHostnames admits the names a reverse proxy forwards', async () => {
    const root = makeProject(dir(), {
      config: 'provider: sqlite\nserver:\n  allowedHostnames: ["interlock.internal"]\n',
    });
    const s = await start(root);
    expect((await raw(s.url, { path: '/api/pipelines', headers: { host: 'interlock.internal' } })).status).toBe(200);
    expect((await raw(s.url, { path: '/api/pipelines', headers: { host: 'Interlock.Internal:8443' } })).status).toBe(
      200,
    );
    expect((await raw(s.url, { path: '/api/pipelines', headers: { host: 'other.internal' } })).status).toBe(421);
  });

  it('(b) a non-GET request without Content-Type: application/json → 415 and nothing fires (forms, no-cors fetch)', async () => {
    const root = makeProject(dir());
    const s = await start(root);
    const attempts: Array<[string, Record<string, string>, string | undefined]> = [
      ['form', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=b'],
      ['multipart', { 'content-type': 'multipart/form-data; boundary=zz' }, '--zz--'],
      ['text/plain JSON (no-cors fetch)', { 'content-type': 'text/plain' }, '{}'],
      ['no content type, no body (no-cors fetch)', {}, undefined],
      ['no content type, JSON body', {}, '{}'],
    ];
    for (const [what, headers, body] of attempts) {
      for (const path of ['/api/pipelines/p/run', '/api/pipelines/p/evaluate', '/api/pipelines']) {
        const r = await raw(s.url, { method: 'POST', path, headers, ...(body === undefined ? {} : { body }) });
        expect(r.status, `${what} ${path}`).toBe(415);
        expect(r.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      }
    }
    const del = await raw(s.url, { method: 'DELETE', path: '/api/pipelines/p' });
    expect(del.status).toBe(415);
    expect(fired(root)).toEqual([]);
    // What clients send: JSON with `{}`, JSON with no body at all, a charset parameter.
    const withBraces = await raw(s.url, {
      method: 'POST',
      path: '/api/pipelines/p/evaluate',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(withBraces.status).toBe(200);
    const empty = await raw(s.url, {
      method: 'POST',
      path: '/api/pipelines/p/evaluate',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(empty.status).toBe(200);
    const run = await raw(s.url, {
      method: 'POST',
      path: '/api/pipelines/p/run',
      headers: { 'content-type': 'application/json' },
    });
    expect(run.status).toBe(202);
    const cancelled = await raw(s.url, {
      method: 'POST',
      path: `/api/runs/${run.body.run.runId}/cancel`,
      headers: { 'content-type': 'application/json' },
    });
    expect(cancelled.status === 200 || cancelled.status === 409).toBe(true);
  });

  it("(c) an Origin that is not the server's own nor in server.allowedOrigins → 403, on reads and writes", async () => {
    const root = makeProject(dir(), {
      config: 'provider: sqlite\nserver:\n  allowedOrigins: ["https://dash.example.com"]\n',
    });
    const s = await start(root);
    const port = portOf(s.url);
    const json = { 'content-type': 'application/json' };
    for (const origin of [
      'https://evil.example',
      'null',
      `http://localhost:${port}`,
      `http://127.0.0.1:${Number(port) + 1}`,
    ]) {
      for (const [method, path] of [
        ['GET', '/api/pipelines'],
        ['POST', '/api/pipelines/p/run'],
      ] as const) {
        const r = await raw(s.url, {
          method,
          path,
          headers: { ...json, origin },
          ...(method === 'POST' ? { body: '{}' } : {}),
        });
        expect(r.status, `${origin} ${method}`).toBe(403);
        expectErrorShape(r);
      }
    }
    expect(fired(root)).toEqual([]);
    // The server's own origin (Host 127.0.0.1:port), an allowed one, and health for anyone.
    expect((await raw(s.url, { path: '/api/pipelines', headers: { origin: `http://127.0.0.1:${port}` } })).status).toBe(
      200,
    );
    expect(
      (
        await raw(s.url, {
          path: '/api/pipelines',
          headers: { host: `localhost:${port}`, origin: `http://localhost:${port}` },
        })
      ).status,
    ).toBe(200);
    expect((await raw(s.url, { path: '/api/pipelines', headers: { origin: 'https://dash.example.com' } })).status).toBe(
      200,
    );
    expect((await raw(s.url, { path: '/api/health', headers: { origin: 'https://evil.example' } })).status).toBe(200);
    const own = await api(s.url, 'POST', '/api/pipelines/p/run', {}, { origin: `http://127.0.0.1:${port}` });
    expect(own.status).toBe(202);
  });
});

/** A port free right now (listen on 0, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Is anything accepting connections on 127.0.0.1:port? */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
    sock.connect(port, '127.0.0.1');
  });
}

describe('item 5: the loopback rule applies to the address a listen name resolves to', () => {
  const open = async (config: string) => {
    const root = makeProject(dir(), { config });
    const ctx = await openContext({ cwd: root, env: process.env, warn: () => {} });
    cleanup(() => ctx.close());
    return ctx;
  };
  const to = (address: string) => async () => ({ address, family: address.includes(':') ? 6 : 4 });

  it('--addr adv.localhost:P resolving to 0.0.0.0 without a token → refused (USAGE), nothing listens', async () => {
    const ctx = await open('provider: sqlite\n');
    const port = await freePort();
    const settings = serverSettings(ctx.project.config, { addr: `adv.localhost:${port}` }, {});
    await expect(startServer(ctx, settings, { version: 't', lookup: to('0.0.0.0') })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/adv\.localhost.*resolves to 0\.0\.0\.0.*not a loopback address.*--insecure/),
    });
    expect(await listening(port)).toBe(false);
    await expect(startServer(ctx, settings, { version: 't', lookup: to('::') })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });

  it('the same name with a token or --insecure starts on the resolved address; resolving to loopback starts tokenless', async () => {
    const ctx = await open('provider: sqlite\n');
    const withToken = serverSettings(ctx.project.config, { addr: 'adv.localhost:0' }, { INTERLOCK_API_TOKEN: 'tok-1' });
    const a = await startServer(ctx, withToken, { version: 't', lookup: to('0.0.0.0') });
    cleanup(() => a.close());
    expect(a).toMatchObject({ address: '0.0.0.0', insecure: false });
    const insecure = serverSettings(ctx.project.config, { addr: 'adv.localhost:0', insecure: true }, {});
    const b = await startServer(ctx, insecure, { version: 't', lookup: to('0.0.0.0') });
    cleanup(() => b.close());
    expect(b).toMatchObject({ address: '0.0.0.0', insecure: true });
    const loop = serverSettings(ctx.project.config, { addr: 'adv.localhost:0' }, {});
    const c = await startServer(ctx, loop, { version: 't', lookup: to('127.0.0.1') });
    cleanup(() => c.close());
    expect(c).toMatchObject({ address: '127.0.0.1', insecure: false });
    const r = await raw(`http://127.0.0.1:${c.port}`, {
      path: '/api/pipelines',
      headers: { host: `adv.localhost:${c.port}` },
    });
    expect(r.status).toBe(200);
  });
});
