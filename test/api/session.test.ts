// The dashboard's sign-in (issue 14): POST /api/session trades the token for a cookie the API accepts like the
// bearer token; a wrong token gets none; a forged cookie, or one from another server process, is refused; a
// state-changing request signed in by the cookie must be same-origin. And the dashboard's files at / and /assets/*,
// public, under a strict CSP, with no inline script. And GET /api/status, the overview the pipelines page reads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { useServers } from '../support/api-server.js';
import { api, raw } from '../support/http-request.js';
import { REPO } from '../support/paths.js';
import { fired } from '../support/trigger-recorder.js';

const { dir, start } = useServers('interlock-api-session-');
const TOKEN = 'session-test-token';
const withToken = { env: { INTERLOCK_API_TOKEN: TOKEN } };

async function signIn(url: string): Promise<string> {
  const r = await api(url, 'POST', '/api/session', { token: TOKEN });
  expect(r.status, r.text).toBe(204);
  const set = String(r.headers['set-cookie']);
  const m = /^interlock_session=([^;]+);/.exec(set);
  expect(m, set).not.toBeNull();
  return (m as RegExpExecArray)[1] as string;
}

describe('POST /api/session: the token for a session cookie', () => {
  it('the right token → 204 with an HttpOnly SameSite=Strict cookie (not the token); it reads like the bearer token', async () => {
    const s = await start(makeProject(dir()), withToken);
    const before = await api(s.url, 'GET', '/api/session');
    expect(before.body).toEqual({ authRequired: true, signedIn: false, expiresAt: null });
    const r = await api(s.url, 'POST', '/api/session', { token: TOKEN });
    expect(r.status).toBe(204);
    const set = String(r.headers['set-cookie']);
    expect(set).toMatch(/^interlock_session=[^;]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
    expect(set).not.toContain(TOKEN);
    const cookie = await signIn(s.url);
    const list = await api(s.url, 'GET', '/api/pipelines', undefined, { cookie: `interlock_session=${cookie}` });
    expect(list.status).toBe(200);
    expect(list.body.map((p: { name: string }) => p.name)).toContain('p');
    const me = await api(s.url, 'GET', '/api/session', undefined, { cookie: `a=b; interlock_session=${cookie}` });
    expect(me.body).toMatchObject({ authRequired: true, signedIn: true });
    expect(me.body.expiresAt).toBeGreaterThan(Date.now());
    // Without it, refused as before.
    expect((await api(s.url, 'GET', '/api/pipelines')).status).toBe(401);
  });

  it('a wrong token → 401, no cookie; a forged or altered cookie → 401; a cookie of another server process → 401', async () => {
    const root = makeProject(dir());
    const s = await start(root, withToken);
    const wrong = await api(s.url, 'POST', '/api/session', { token: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('UNAUTHORIZED');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const cookie = await signIn(s.url);
    const [exp, mac] = cookie.split('.') as [string, string];
    for (const forged of [
      TOKEN,
      `${Number(exp) + 1000}.${mac}`,
      `${exp}.${mac.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`,
    ]) {
      const r = await api(s.url, 'GET', '/api/pipelines', undefined, { cookie: `interlock_session=${forged}` });
      expect(r.status, forged).toBe(401);
    }
    // A second server over the same project and token has its own key: the first one's cookie means nothing there.
    const other = await start(root, withToken);
    const r = await api(other.url, 'GET', '/api/pipelines', undefined, { cookie: `interlock_session=${cookie}` });
    expect(r.status).toBe(401);
    // A wrong bearer header is refused even beside a good cookie (the header decides alone).
    const both = await api(s.url, 'GET', '/api/pipelines', undefined, {
      cookie: `interlock_session=${cookie}`,
      authorization: 'Bearer wrong',
    });
    expect(both.status).toBe(401);
  });

  it('a state-changing request signed in by the cookie needs its own Origin: none → 403, foreign → 403, own → runs', async () => {
    const root = makeProject(dir());
    const s = await start(root, withToken);
    const cookie = { cookie: `interlock_session=${await signIn(s.url)}` };
    const noOrigin = await api(s.url, 'POST', '/api/pipelines/p/run', {}, cookie);
    expect(noOrigin.status).toBe(403);
    expect(noOrigin.body.error.code).toBe('FORBIDDEN');
    const foreign = await api(s.url, 'POST', '/api/pipelines/p/run', {}, { ...cookie, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(fired(root)).toEqual([]);
    const own = await api(s.url, 'POST', '/api/pipelines/p/evaluate', {}, { ...cookie, origin: s.url });
    expect(own.status, own.text).toBe(200);
    expect(own.body.outcome).toBe('READY');
    // The bearer token needs no Origin (curl, scripts).
    const bearer = await api(s.url, 'POST', '/api/pipelines/p/evaluate', {}, { authorization: `Bearer ${TOKEN}` });
    expect(bearer.status).toBe(200);
  });

  it('the sign-in itself is guarded: a foreign Origin → 403, a rebinding Host → 421, a form body → 415', async () => {
    const s = await start(makeProject(dir()), withToken);
    const body = JSON.stringify({ token: TOKEN });
    const foreign = await raw(s.url, {
      method: 'POST',
      path: '/api/session',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body,
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers['set-cookie']).toBeUndefined();
    const rebound = await raw(s.url, {
      method: 'POST',
      path: '/api/session',
      headers: { 'content-type': 'application/json', host: 'evil.example' },
      body,
    });
    expect(rebound.status).toBe(421);
    const form = await raw(s.url, {
      method: 'POST',
      path: '/api/session',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${TOKEN}`,
    });
    expect(form.status).toBe(415);
  });

  it('Secure behind https (X-Forwarded-Proto); DELETE clears the cookie', async () => {
    const s = await start(makeProject(dir()), withToken);
    const r = await api(s.url, 'POST', '/api/session', { token: TOKEN }, { 'x-forwarded-proto': 'https' });
    expect(String(r.headers['set-cookie'])).toMatch(/; Secure$/);
    const out = await api(s.url, 'DELETE', '/api/session');
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^interlock_session=; .*Max-Age=0/);
  });

  it('a server without a token: no sign-in needed (GET says so, POST is refused with 400), the API answers anonymously', async () => {
    const s = await start(makeProject(dir()));
    expect((await api(s.url, 'GET', '/api/session')).body).toEqual({
      authRequired: false,
      signedIn: true,
      expiresAt: null,
    });
    const post = await api(s.url, 'POST', '/api/session', { token: 'anything' });
    expect(post.status).toBe(400);
    expect(post.headers['set-cookie']).toBeUndefined();
    expect((await api(s.url, 'GET', '/api/status')).status).toBe(200);
  });
});

describe('the dashboard files', () => {
  const built = (() => {
    try {
      return readFileSync(join(REPO, 'dist/web/index.html'), 'utf8');
    } catch {
      return undefined;
    }
  })();

  it.skipIf(built === undefined && process.env.CI !== 'true')(
    'GET / and its assets: public even with a token, strict CSP, no inline script or style, hashed assets cached',
    async () => {
      const s = await start(makeProject(dir()), withToken);
      const page = await raw(s.url, { path: '/' });
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
      expect(page.headers['x-frame-options']).toBe('DENY');
      // Every script has a src on our own origin; no inline script, no inline style, nothing from elsewhere.
      const scripts = [...page.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attrs, body] of scripts) {
        expect(attrs).toMatch(/src="\/assets\/[\w.-]+\.js"/);
        expect(body?.trim()).toBe('');
      }
      expect(page.text).not.toMatch(/<style|style="|https?:\/\//);
      const assets = [...page.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
      expect(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css'))).toBe(true);
      for (const a of assets) {
        const r = await raw(s.url, { path: a });
        expect(r.status, a).toBe(200);
        const type = a.endsWith('.js') ? /^text\/javascript/ : a.endsWith('.css') ? /^text\/css/ : /^image\/svg\+xml$/;
        expect(r.headers['content-type']).toMatch(type);
        expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(r.text).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // no CDN, nothing fetched from elsewhere
      }
      expect((await raw(s.url, { path: '/assets/nope.js' })).status).toBe(404);
      expect((await raw(s.url, { path: '/assets/..%2Fweb%2Findex.html' })).status).toBe(404);
      // The page is public; the data is not.
      expect((await raw(s.url, { path: '/api/status' })).status).toBe(401);
      // A rebinding Host is refused here too.
      expect((await raw(s.url, { path: '/', headers: { host: 'evil.example' } })).status).toBe(421);
    },
  );
});

describe('GET /api/status: every pipeline at once', () => {
  it('each entry is what GET /api/pipelines/{id}/readiness says; INVALID ones with their problems', async () => {
    const root = makeProject(dir(), {
      files: { 'pipelines/broken.yaml': 'name: broken\narchetype: nope\ntraits: {}\n' },
    });
    const s = await start(root);
    await api(s.url, 'POST', '/api/pipelines/p/evaluate', {});
    const all = await api(s.url, 'GET', '/api/status');
    expect(all.status).toBe(200);
    expect(all.body.map((e: { pipeline: string }) => e.pipeline)).toEqual(['broken', 'no-trigger', 'p']);
    const one = await api(s.url, 'GET', '/api/pipelines/p/readiness');
    const p = all.body.find((e: { pipeline: string }) => e.pipeline === 'p');
    expect({ ...p, traits: undefined }).toEqual({ ...one.body, traits: undefined });
    expect(p.outcome).toBe('READY');
    const broken = all.body.find((e: { pipeline: string }) => e.pipeline === 'broken');
    expect(broken.outcome).toBe('INVALID');
    expect(broken.problems.length).toBeGreaterThan(0);
  });
});
