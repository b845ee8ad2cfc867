// `serve --log-format json`: pino JSON lines on stderr; every request logged with method, path, status, duration
// and its request id (X-Request-Id echoed when given, generated otherwise); secrets never reach the log. The real
// built CLI.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { waitFor } from '../support/poll.js';
import { cli } from '../support/run-cli.js';
import { type ServeProcess, serveProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

const TOKEN = 'logs-test-token-4711';
const SECRET = 'warehouse-s3cr3t-0815';
const auth = { authorization: `Bearer ${TOKEN}` };

let work: { dir: string; cleanup: () => void };
const servers: ServeProcess[] = [];
beforeAll(() => {
  work = tempDir('interlock-logs-');
});
afterEach(async () => {
  for (const s of servers.splice(0)) {
    if (s.child.exitCode === null) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  }
});
afterAll(() => work?.cleanup());

/** The JSON lines of stderr (the `listening on` and other human notices are not log lines). */
function jsonLines(s: ServeProcess): Array<Record<string, unknown>> {
  return s
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('serve --log-format json', () => {
  it('logs each request as a JSON line with its request id; secrets in env and the token are masked', async () => {
    const root = makeProject(join(work.dir, 'p1'), { config: 'provider: sqlite\nserver:\n  addr: "127.0.0.1:0"\n' });
    const s = await serveProcess(root, ['--no-watch', '--log-format', 'json', '--log-level', 'info'], {
      INTERLOCK_API_TOKEN: TOKEN,
      WAREHOUSE_PASSWORD: SECRET,
    });
    servers.push(s);

    const given = await fetch(`${s.url}/api/pipelines`, { headers: { ...auth, 'x-request-id': 'req-abc.123' } });
    expect(given.status).toBe(200);
    expect(given.headers.get('x-request-id')).toBe('req-abc.123');
    const fresh = await fetch(`${s.url}/api/pipelines/p/readiness`, { headers: auth });
    const freshId = fresh.headers.get('x-request-id') ?? '';
    expect(freshId).toMatch(/^[0-9a-f-]{36}$/);
    // An id that is not a sane token (spaces, too long) is replaced, not echoed into the log.
    const odd = await fetch(`${s.url}/api/health`, { headers: { 'x-request-id': 'a b' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Secrets in a path: masked in the log exactly as in stored records (`***`).
    expect((await fetch(`${s.url}/api/pipelines/${SECRET}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${s.url}/api/pipelines/${TOKEN}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${s.url}/api/pipelines`)).status).toBe(401);

    await waitFor('six request lines', 5000, async () => jsonLines(s).filter((l) => l.reqId).length >= 6);
    const requests = jsonLines(s).filter((l) => l.reqId);
    expect(requests[0]).toMatchObject({
      level: 'info',
      reqId: 'req-abc.123',
      method: 'GET',
      path: '/api/pipelines',
      status: 200,
      msg: 'GET /api/pipelines 200',
    });
    expect(typeof requests[0]?.durationMs).toBe('number');
    expect(typeof requests[0]?.time).toBe('string');
    expect(requests[1]).toMatchObject({ reqId: freshId, path: '/api/pipelines/p/readiness', status: 200 });
    expect(requests.slice(3, 5).map((l) => [l.path, l.status])).toEqual([
      ['/api/pipelines/***', 404],
      ['/api/pipelines/***', 404],
    ]);
    expect(requests[5]).toMatchObject({ status: 401 });
    expect(s.stderr()).not.toContain(SECRET);
    expect(s.stderr()).not.toContain(TOKEN);
  }, 60_000);

  it('the default stays human lines: a request is not logged at the default level; a bad --log-format is exit 2', async () => {
    const root = makeProject(join(work.dir, 'p2'), { config: 'provider: sqlite\nserver:\n  addr: "127.0.0.1:0"\n' });
    const s = await serveProcess(root, ['--no-watch']);
    servers.push(s);
    expect((await fetch(`${s.url}/api/pipelines`)).status).toBe(200);
    expect(s.stderr()).not.toContain('{');
    const bad = await cli(['serve', '--log-format', 'xml'], { cwd: root });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--log-format must be one of pretty, json');
  }, 60_000);
});
