// Fuzzing the HTTP API through a real server: random and malformed methods, paths, ids, query strings, headers and
// bodies on every route → never a 5xx (but 503 while the store is down), always a JSON error body, never a crash,
// and never a status the OpenAPI document does not declare for that operation.

import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDashboardPath } from '../../src/api/auth.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { makeProject } from '../support/api-project.js';
import { expectErrorShape, useServers } from '../support/api-server.js';
import { api, type RawRequest, raw } from '../support/http-request.js';
import { outageStore } from '../support/outage-store.js';

const { dir, start } = useServers('interlock-api-fuzz-');

const TOKEN = 'fuzz-token-0123';

const TEMPLATES = [
  '/api/health',
  '/api/pipelines',
  '/api/pipelines/{id}',
  '/api/pipelines/{id}/evaluate',
  '/api/pipelines/{id}/readiness',
  '/api/pipelines/{id}/traits',
  '/api/pipelines/{id}/traits/{id}',
  '/api/pipelines/{id}/run',
  '/api/pipelines/{id}/runs',
  '/api/pipelines/{id}/history',
  '/api/runs/{id}',
  '/api/runs/{id}/complete',
  '/api/runs/{id}/cancel',
  '/api/openapi.json',
  '/api/{id}',
  '/{id}',
  '/',
];

/** Run ids that exist (filled in by each test before fuzzing), so callbacks and cancels hit real runs too. */
const liveRunIds: string[] = ['01NOPE'];

const segment = fc.oneof(
  fc.nat().map((i) => liveRunIds[i % liveRunIds.length] as string),
  fc.constantFrom('p', 'no-trigger', 'a', 'b', 'nope', '01NOPE', '..', '.', '%2e%2e', '%00', '%ZZ', '%', '%2F', '~'),
  fc.constant('x'.repeat(2000)),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{0,40}$/),
);

const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?limit=0', '?limit=-1', '?limit=abc', '?limit=1e3', '?limit=5', '?before=x', '?before=0', '?limit='),
  fc.constantFrom('?before=2020-01-01T00:00:00Z', '?limit=2&limit=3', '?a=%ZZ', '?%', '?limit=99999999999999999999'),
  fc.string({ maxLength: 30 }).map((s) => `?${encodeURIComponent(s)}=${encodeURIComponent(s)}`),
);

const path = fc
  .tuple(fc.constantFrom(...TEMPLATES), fc.array(segment, { minLength: 3, maxLength: 3 }), query)
  .map(([t, segs, q]) => {
    let i = 0;
    return t.replace(/\{id\}/g, () => segs[i++] as string) + q;
  });

const pipelineDoc = fc.record(
  {
    name: fc.oneof(fc.constantFrom('p', 'fz', 'Bad', ''), fc.string({ maxLength: 10 }), fc.integer()),
    archetype: fc.oneof(fc.constant('gate'), fc.string({ maxLength: 8 })),
    traits: fc.oneof(
      fc.constant({ a: { evaluator: 'pass' } }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()),
      fc.jsonValue(),
    ),
    trigger: fc.oneof(
      fc.constant({ type: 'command', command: 'echo hi' }),
      fc.constant({ type: 'http', url: 'http://127.0.0.1/x' }),
      fc.record({ type: fc.constantFrom('http', 'command', 'x'), url: fc.string({ maxLength: 20 }) }),
      fc.jsonValue(),
    ),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  fc.constant(undefined),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 500 }).map((a) => Buffer.from(a)),
  fc.constantFrom('{', '{"status":', 'null', '[]', '""', '{"status":"success"}', '{"status":"failed","metadata":[]}'),
  fc
    .record(
      {
        status: fc.oneof(fc.constantFrom('success', 'failed'), fc.jsonValue()),
        metadata: fc.jsonValue(),
        reason: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  pipelineDoc.map((o) => JSON.stringify(o)),
);

const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
const headers = fc.record(
  {
    'content-type': fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'application/vnd.api+json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=zz',
        '',
        'application/json; charset',
      ),
      headerValue,
    ),
    authorization: fc.oneof(fc.constant(`Bearer ${TOKEN}`), fc.constant('Bearer '), headerValue),
    accept: headerValue,
    'x-random': headerValue,
    host: fc.constantFrom('localhost', 'evil.example.com', '[::1]', 'a:b:c', ''),
  },
  { requiredKeys: [] },
);

const request: fc.Arbitrary<RawRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'TRACE'),
    path,
    headers,
    body,
    chunked: fc.boolean(),
  })
  .map((r) => {
    // GET/HEAD bodies are legal but unusual; keep them, except that node refuses a body with HEAD.
    const out: RawRequest = { method: r.method, path: r.path, headers: r.headers as Record<string, string> };
    if (r.body !== undefined && r.method !== 'HEAD') {
      out.body = r.body;
      out.chunked = r.chunked;
      if (r.chunked) out.headers = { ...out.headers, 'transfer-encoding': 'chunked' };
    }
    return out;
  });

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is walked as plain JSON.
type Doc = any;

/**
 * The statuses the OpenAPI document lets this request get: those of the operation it reaches, 405 for a known path
 * asked with another method, 404 for an unknown path (421 for a foreign Host, 403 for a foreign Origin and 401 before
 * either when a token is needed); undefined when it
 * cannot say (HEAD has no operation).
 */
function declaredStatuses(doc: Doc, req: RawRequest): string[] | undefined {
  if (req.method === 'HEAD') return undefined;
  // The path the server sees: the URL parser resolves dot segments (%2e%2e) before routing.
  const path = new URL(req.path, 'http://x').pathname;
  // The dashboard's page and assets are not API operations (public, HTML/JS/CSS): only GET answers them, 200 or 404.
  if (isDashboardPath(path)) return (req.method ?? 'GET') === 'GET' ? ['200', '404', '421', '403'] : undefined;
  for (const [template, item] of Object.entries<Doc>(doc.paths)) {
    const re = new RegExp(`^${template.replace(/\./g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (!re.test(path)) continue;
    const op = item[(req.method ?? 'GET').toLowerCase()];
    return op ? Object.keys(op.responses) : ['405', '401', '403', '421'];
  }
  return ['404', '401', '403', '421']; // the Host/Origin guard and auth come before routing
}

function check(r: Awaited<ReturnType<typeof raw>>, req: RawRequest, storeDown: boolean, doc?: Doc): void {
  const what = `${req.method} ${req.path.slice(0, 120)} → ${r.status} ${r.text.slice(0, 300)}`;
  const declared = doc ? declaredStatuses(doc, req) : undefined;
  // A request too malformed to route (an unusable Host) is a 400 before any route: the document cannot list it.
  const unroutable = r.status === 400 && r.body?.error?.message === 'malformed request';
  if (declared && !unroutable)
    expect(declared, `${what}: status not in the OpenAPI document`).toContain(String(r.status));
  expect(r.status, what).toBeGreaterThanOrEqual(200);
  if (storeDown) expect(r.status === 503 || r.status < 500, what).toBe(true);
  else expect(r.status, what).toBeLessThan(500);
  if (req.method === 'HEAD') return;
  // The dashboard's page and assets answer in their own types; everything else (errors included) is JSON.
  if (r.status === 200 && isDashboardPath(new URL(req.path, 'http://x').pathname)) {
    expect(r.headers['content-type'], what).toMatch(/^(text\/html|text\/css|text\/javascript|image\/svg\+xml)/);
    return;
  }
  expect(r.headers['content-type'], what).toContain('application/json');
  expect(r.body, what).toBeDefined();
  if (r.status >= 400 && !(r.status === 503 && req.path.startsWith('/api/health'))) expectErrorShape(r);
  expect(r.text, what).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
}

describe('fuzzing every route', () => {
  it('without a token: never a 5xx, always JSON, the server keeps serving', async () => {
    const s = await start(makeProject(dir()));
    liveRunIds.push((await api(s.url, 'POST', '/api/pipelines/p/run')).body.run.runId);
    const doc = (await api(s.url, 'GET', '/api/openapi.json')).body;
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        check(await raw(s.url, req), req, false, doc);
      }),
      { numRuns: 500 },
    );
    expect((await api(s.url, 'GET', '/api/health')).status).toBe(200);
    expect((await api(s.url, 'GET', '/api/pipelines/p')).status).toBe(200);
  });

  it('with a token: random Authorization headers → 401 or a normal answer, never a 5xx', async () => {
    const s = await start(makeProject(dir()), { env: { INTERLOCK_API_TOKEN: TOKEN } });
    const doc = (await api(s.url, 'GET', '/api/openapi.json', undefined, { authorization: `Bearer ${TOKEN}` })).body;
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const r = await raw(s.url, req);
        check(r, req, false, doc);
        const authorized = req.headers?.authorization === `Bearer ${TOKEN}`;
        // The dashboard's page and assets are public (they hold no data); everything else needs the token.
        const dashboard = isDashboardPath(new URL(req.path, 'http://x').pathname);
        if (!authorized && !dashboard && !req.path.startsWith('/api/health?') && req.path !== '/api/health') {
          // Unauthorised is never served; a request too malformed to route (bad Host) is a 400 before auth, and the
          // Host / Content-Type guards (421, 415) answer before auth too.
          const malformed =
            r.status === 400 && (req.method === 'HEAD' || r.body?.error?.message === 'malformed request');
          const guarded = r.status === 421 || r.status === 415;
          const what = `${req.method} ${req.path.slice(0, 120)} → ${r.status} ${r.text.slice(0, 200)}`;
          expect(r.status === 401 || malformed || guarded, what).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('with the store going up and down: only 503 among the 5xx, and health recovers', async () => {
    const root = makeProject(dir());
    const flaky = outageStore(new SqliteStore({ path: join(root, '.interlock', 'state.db') }));
    const s = await start(root, { store: flaky.store });
    const doc = (await api(s.url, 'GET', '/api/openapi.json')).body;
    await fc.assert(
      fc.asyncProperty(request, fc.boolean(), async (req, down) => {
        flaky.down = down;
        check(await raw(s.url, req), req, down, doc);
      }),
      { numRuns: 300 },
    );
    flaky.down = false;
    expect((await api(s.url, 'GET', '/api/health')).body).toEqual({ status: 'ok' });
  });
});
