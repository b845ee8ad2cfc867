// GET /api/events on a real `interlock serve` (the built CLI) over a SQLite project: the SSE framing, auth, the
// domain events of evaluations, pushes and runs, ?pipeline= filters, Last-Event-ID resumption and its reset, a
// second process (`interlock evaluate` on the same store) arriving as store.changed, and a shutdown that ends open
// streams instead of hanging on them.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { cli } from '../support/run-cli.js';
import { type ServeProcess, serveProcess } from '../support/server-process.js';
import { dataOf, openSse, type SseConnection } from '../support/sse.js';
import { tempDir } from '../support/temp-dir.js';

const TOKEN = 'events-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

let work: { dir: string; cleanup: () => void };
const servers: ServeProcess[] = [];
const streams: SseConnection[] = [];

beforeAll(() => {
  work = tempDir('interlock-events-e2e-');
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const s of servers.splice(0)) {
    if (s.child.exitCode === null) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  }
});
afterAll(() => work?.cleanup());

let n = 0;
async function serve(): Promise<{ s: ServeProcess; root: string }> {
  const root = makeProject(join(work.dir, `project-${++n}`), {
    config: 'provider: sqlite\nserver:\n  addr: "127.0.0.1:0"\n',
    // Trait a of `fed` is pushed, never evaluated.
    files: { 'pipelines/fed.yaml': 'name: fed\narchetype: gate\ntraits:\n  a:\n    evaluator: push\n' },
  });
  const s = await serveProcess(root, ['--no-watch'], { INTERLOCK_API_TOKEN: TOKEN });
  servers.push(s);
  return { s, root };
}

async function events(s: ServeProcess, query = '', headers: Record<string, string> = {}): Promise<SseConnection> {
  const c = await openSse(`${s.url}/api/events${query}`, { ...auth, ...headers });
  streams.push(c);
  return c;
}

async function post(s: ServeProcess, path: string, body: unknown = {}): Promise<number> {
  const r = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await r.arrayBuffer();
  return r.status;
}

describe('GET /api/events', () => {
  it('401 without the token; with it a text/event-stream that starts with retry: 2000', async () => {
    const { s } = await serve();
    const denied = await fetch(`${s.url}/api/events`);
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    const wrong = await fetch(`${s.url}/api/events`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    await wrong.arrayBuffer();

    const c = await events(s);
    expect(c.status).toBe(200);
    expect(c.headers.get('content-type')).toBe('text/event-stream');
    expect(c.headers.get('cache-control')).toBe('no-store');
    await expect.poll(() => c.text()).toMatch(/^retry: 2000\n\n/);
    expect(c.retries).toEqual([2000]);
  }, 60_000);

  it('evaluations, pushes and runs arrive as numbered events with pipeline, at and their fields', async () => {
    const { s } = await serve();
    const c = await events(s);
    const before = Date.now();
    expect(await post(s, '/api/pipelines/no-trigger/evaluate')).toBe(200);
    const decided = dataOf(await c.next((m) => m.event === 'evaluation.decided'));
    expect(decided).toMatchObject({ pipeline: 'no-trigger', outcome: 'READY', source: 'api', blocking: [] });
    expect(decided.at).toBeGreaterThanOrEqual(before - 1000);
    expect(typeof decided.decisionId).toBe('string');

    expect(await post(s, '/api/pipelines/fed/traits/a', { status: 'FAIL', reason: 'late' })).toBe(201);
    const pushed = dataOf(await c.next((m) => m.event === 'trait.pushed'));
    expect(pushed).toMatchObject({ pipeline: 'fed', trait: 'a', status: 'FAIL', source: 'push' });
    // A push is one event (trait.pushed), not also an evaluation.decided; it says what blocks.
    expect(pushed.outcome).toBe('NOT_READY');
    expect(pushed.blocking).toEqual([expect.objectContaining({ trait: 'a', state: 'FAIL', reason: 'late' })]);
    expect(c.messages.filter((m) => m.event === 'evaluation.decided')).toHaveLength(1);

    expect(await post(s, '/api/pipelines/p/run')).toBe(202);
    const created = dataOf(await c.next((m) => m.event === 'run.created'));
    expect(created).toMatchObject({ pipeline: 'p', status: 'PENDING' });
    const done = await c.next((m) => m.event === 'run.transitioned' && dataOf(m).status === 'COMPLETED');
    expect(dataOf(done)).toMatchObject({ pipeline: 'p', runId: created.runId });

    // ids: integers, strictly increasing, one per event; every data line is one JSON object with pipeline and at.
    const ids = c.messages.map((m) => Number(m.id));
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of c.messages)
      expect(dataOf(m)).toMatchObject({ pipeline: expect.any(String), at: expect.any(Number) });
  }, 60_000);

  it('?pipeline= filters (repeatable); a bad filter is a 400', async () => {
    const { s } = await serve();
    const onlyP = await events(s, '?pipeline=p');
    const both = await events(s, '?pipeline=p&pipeline=no-trigger');
    expect(await post(s, '/api/pipelines/no-trigger/evaluate')).toBe(200);
    expect(await post(s, '/api/pipelines/p/evaluate')).toBe(200);
    await both.next((m) => m.event === 'evaluation.decided' && dataOf(m).pipeline === 'p');
    await onlyP.next((m) => m.event === 'evaluation.decided' && dataOf(m).pipeline === 'p');
    expect(both.messages.map((m) => dataOf(m).pipeline)).toEqual(['no-trigger', 'p']);
    expect(onlyP.messages.map((m) => dataOf(m).pipeline)).toEqual(['p']);

    const tooMany = new URLSearchParams([...Array(101)].map((_, i): [string, string] => ['pipeline', `p${i}`]));
    const r = await fetch(`${s.url}/api/events?${tooMany}`, { headers: auth });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST');
  }, 60_000);

  it('Last-Event-ID replays what was missed; an id this process never gave (or garbage) gets a reset first', async () => {
    const { s } = await serve();
    const first = await events(s);
    for (let i = 0; i < 3; i++) expect(await post(s, '/api/pipelines/no-trigger/evaluate')).toBe(200);
    await expect.poll(() => first.messages.length).toBe(3);
    const [a, b, c] = first.messages;
    first.close();

    const resumed = await events(s, '', { 'last-event-id': String(a?.id) });
    await expect.poll(() => resumed.messages.length).toBe(2);
    expect(resumed.messages.map((m) => m.id)).toEqual([b?.id, c?.id]);
    expect(resumed.messages.map((m) => m.data)).toEqual([b?.data, c?.data]);

    const upToDate = await events(s, '', { 'last-event-id': String(c?.id) });
    expect(await post(s, '/api/pipelines/p/evaluate')).toBe(200);
    const next = await upToDate.next(() => true);
    expect(Number(next.id)).toBe(Number(c?.id) + 1);

    for (const id of ['99999', 'x', '-1']) {
      const reset = await events(s, '', { 'last-event-id': id });
      const m = await reset.next(() => true);
      expect(m.event).toBe('reset');
      expect(dataOf(m).reason).toEqual(expect.any(String));
      // The reset carries the newest id: reconnecting after it resumes from there, not from the gap.
      expect(m.id).toBe(next.id);
    }
  }, 60_000);

  it('a second process evaluating on the same SQLite store arrives as store.changed; this process’s own writes do not', async () => {
    const { s, root } = await serve();
    const c = await events(s);
    expect(await post(s, '/api/pipelines/p/evaluate')).toBe(200);
    await c.next((m) => m.event === 'evaluation.decided');
    const r = await cli(['evaluate', 'no-trigger'], { cwd: root, env: { INTERLOCK_API_TOKEN: '' } });
    expect(r.code, r.stderr).toBe(0);
    const changed = dataOf(await c.next((m) => m.event === 'store.changed'));
    expect(changed).toMatchObject({ pipeline: 'no-trigger', kind: 'evaluation', at: expect.any(Number) });
    // The API's own evaluation of p was announced as evaluation.decided only (the feed reports it too: deduplicated).
    expect(c.messages.filter((m) => m.event === 'store.changed').map((m) => dataOf(m).pipeline)).toEqual([
      'no-trigger',
    ]);
  }, 60_000);

  it('SIGTERM ends open streams cleanly and serve exits at once instead of waiting for them', async () => {
    const { s } = await serve();
    const open = await Promise.all([events(s), events(s, '?pipeline=p')]);
    await expect.poll(() => open.every((c) => c.retries.length === 1)).toBe(true);
    const t0 = Date.now();
    s.child.kill('SIGTERM');
    const exit = await s.exited;
    const ms = Date.now() - t0;
    expect(exit).toEqual({ code: 0, signal: null });
    for (const c of open) expect(await c.ended).toBe('closed');
    // Far below the 10 s shutdown budget it would spend waiting on connections that never end.
    expect(ms).toBeLessThan(5000);
    expect(s.stderr()).toMatch(/stopped/);
  }, 60_000);
});
