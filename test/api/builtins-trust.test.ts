// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in configs are the subject under test.
// Builtins in pipelines registered over HTTP (untrusted): SQL builtins are refused unless
// server.allowCommandRegistration; builtin:http passes the http triggers' address guard; builtin:file stays in the
// project. YAML pipelines stay trusted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { useServers } from '../support/api-server.js';
import { api } from '../support/http-request.js';

const { dir, start } = useServers('interlock-api-builtins-');
let health: Server;
let healthUrl: string;
let hits = 0;

beforeAll(async () => {
  health = createServer((_req, res) => {
    hits++;
    res.end('{"status":"ok"}');
  });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
});
afterAll(() => new Promise((r) => health.close(r)));

const doc = (evaluator: string, config: Record<string, unknown>) => ({
  name: 'reg',
  archetype: 'gate',
  traits: { a: { evaluator, config } },
});

function withWarehouse(root: string): string {
  const db = new Database(join(root, 'w.db'));
  db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);');
  db.close();
  return root;
}
const CONNECTIONS = 'connections:\n  w: { url: "sqlite:w.db" }\n';

describe('builtins registered over HTTP', () => {
  it('a SQL builtin is refused at registration (403) unless server.allowCommandRegistration', async () => {
    const root = withWarehouse(makeProject(dir(), { config: `provider: sqlite\n${CONNECTIONS}` }));
    const s = await start(root);
    const r = await api(
      s.url,
      'POST',
      '/api/pipelines',
      doc('builtin:sql-query', { connection: 'w', query: 'select 1' }),
    );
    expect(r.status, r.text).toBe(403);
    expect(r.body.error.details.problems[0]).toMatchObject({
      path: 'traits.a.evaluator',
      message: expect.stringContaining('cannot use SQL builtins'),
    });
    expect((await api(s.url, 'POST', '/api/pipelines/reg/evaluate')).status).toBe(404);

    const trusted = withWarehouse(
      makeProject(dir(), { config: `provider: sqlite\nserver:\n  allowCommandRegistration: true\n${CONNECTIONS}` }),
    );
    const t = await start(trusted);
    const ok = await api(
      t.url,
      'POST',
      '/api/pipelines',
      doc('builtin:sql-query', { connection: 'w', query: 'select count(*) from t', expect: { eq: 1 } }),
    );
    expect(ok.status, ok.text).toBe(201);
    const ev = await api(t.url, 'POST', '/api/pipelines/reg/evaluate');
    expect(ev.body.outcome, ev.text).toBe('READY');
  });

  it('builtin:http to a loopback address is refused at registration (403) unless server.allowedHosts lists it', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(s.url, 'POST', '/api/pipelines', doc('builtin:http', { url: healthUrl }));
    expect(r.status, r.text).toBe(403);
    expect(r.body.error.details.problems[0]).toMatchObject({
      path: 'traits.a.config.url',
      message: expect.stringContaining('server.allowedHosts'),
    });
    const v = await api(
      s.url,
      'POST',
      '/api/pipelines',
      doc('builtin:http', { url: 'http://${INTERLOCK_WINDOW_DATE}.example.com/health' }),
    );
    expect(v.status, v.text).toBe(403);

    const allowed = makeProject(dir(), { config: 'provider: sqlite\nserver:\n  allowedHosts: ["127.0.0.1"]\n' });
    const a = await start(allowed);
    const before = hits;
    expect((await api(a.url, 'POST', '/api/pipelines', doc('builtin:http', { url: healthUrl }))).status).toBe(201);
    const ok = await api(a.url, 'POST', '/api/pipelines/reg/evaluate');
    expect(ok.body.outcome, ok.text).toBe('READY');
    expect(hits).toBe(before + 1);
  });

  it('a name that resolves to loopback when the check runs is refused then: no request is sent', async () => {
    const s = await start(makeProject(dir()));
    s.ctx.resolveHost = async () => [{ address: '127.0.0.1', family: 4 }];
    const url = healthUrl.replace('127.0.0.1', 'rebind.test');
    expect((await api(s.url, 'POST', '/api/pipelines', doc('builtin:http', { url }))).status).toBe(201);
    const before = hits;
    const ev = await api(s.url, 'POST', '/api/pipelines/reg/evaluate');
    expect(ev.body.outcome, ev.text).toBe('NOT_READY');
    expect(JSON.stringify(ev.body)).toContain('EVALUATOR_FORBIDDEN');
    expect(JSON.stringify(ev.body)).toContain("host 'rebind.test' resolves to 127.0.0.1");
    expect(hits).toBe(before);
  });

  it('builtin:file of a registered pipeline may not look outside the project', async () => {
    const root = makeProject(dir());
    const s = await start(root);
    expect((await api(s.url, 'POST', '/api/pipelines', doc('builtin:file', { path: '/etc/hostname' }))).status).toBe(
      201,
    );
    const ev = await api(s.url, 'POST', '/api/pipelines/reg/evaluate');
    expect(ev.body.outcome, ev.text).toBe('NOT_READY');
    expect(JSON.stringify(ev.body)).toContain('EVALUATOR_FORBIDDEN');
  });
});
