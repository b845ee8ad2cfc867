// Redis data loss must never free a run's lock silently: servers that may evict keys are refused at connect (store,
// CLI and serve), and a callback for a run the store lost answers 404 naming the likely cause. Real redis-servers.
import { existsSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRun, transition } from '../../src/engine/run-state.js';
import { identityFile } from '../../src/store/redis/identity.js';
import { RedisStore } from '../../src/store/redis/index.js';
import { makeProject } from '../support/api-project.js';
import { useServers, waitForRun } from '../support/api-server.js';
import { api } from '../support/http-request.js';
import { type RedisServer, requireRedis, startRedis } from '../support/redis.js';
import { cli } from '../support/run-cli.js';
import { tempDir } from '../support/temp-dir.js';

const { dir, start, cleanup } = useServers('interlock-store-loss-');
let lru: RedisServer;
let lruNoConfig: RedisServer;
let safeNoConfig: RedisServer;
let safe: RedisServer;

beforeAll(async () => {
  requireRedis();
  [lru, lruNoConfig, safeNoConfig, safe] = await Promise.all([
    startRedis({ extraArgs: ['--maxmemory-policy', 'allkeys-lru'] }),
    startRedis({ extraArgs: ['--maxmemory-policy', 'allkeys-lru', '--rename-command', 'CONFIG', '""'] }),
    startRedis({ extraArgs: ['--rename-command', 'CONFIG', '""'] }),
    startRedis(),
  ]);
}, 30_000);
afterAll(async () => {
  await Promise.all([lru, lruNoConfig, safeNoConfig, safe].map((r) => r?.destroy()));
});

const prefix = () => `loss${Math.random().toString(36).slice(2)}:`;
const config = (r: RedisServer, extra = '') =>
  `provider: redis\nredis:\n  addr: ${r.addr}\n  keyPrefix: "${prefix()}"\n  connectTimeout: 2\n${extra}`;

describe('maxmemory-policy other than noeviction is refused unless redis.allowEviction', () => {
  it('the store refuses allkeys-lru (read by CONFIG GET, or by INFO when CONFIG is renamed away)', async () => {
    for (const r of [lru, lruNoConfig]) {
      const err = await RedisStore.connect({ addr: r.addr, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
      expect(err, r.addr).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect((err as Error).message).toContain(`refusing redis at ${r.addr}: its maxmemory-policy is 'allkeys-lru'`);
      expect((err as Error).message).toMatch(/evicted run lock lets a second run fire/);
      expect((err as Error).message).toContain('redis.allowEviction: true');
      const allowed = await RedisStore.connect({ addr: r.addr, connectTimeoutMs: 2000, allowEviction: true });
      await allowed.ping();
      await allowed.close();
    }
    for (const r of [safe, safeNoConfig]) {
      const s = await RedisStore.connect({ addr: r.addr, connectTimeoutMs: 2000 });
      await s.ping();
      await s.close();
    }
  });

  it('the CLI exits 3 with the reason; serve exits 3 before listening; allowEviction: true lets both work', async () => {
    for (const r of [lru, lruNoConfig]) {
      const root = makeProject(dir(), { config: config(r) });
      const st = await cli(['evaluate', 'p'], { cwd: root });
      expect(st.code, st.stderr).toBe(3);
      expect(st.stderr).toContain("maxmemory-policy is 'allkeys-lru'");
      expect(st.stderr).toContain('redis.allowEviction: true');
      expect(st.stdout).not.toMatch(/^READY/m);
      const run = await cli(['run', 'p'], { cwd: root });
      expect(run.code, run.stderr).toBe(3);
      const sv = await cli(['serve', '--addr', '127.0.0.1:0'], { cwd: root });
      expect(sv.code, sv.stderr).toBe(3);
      expect(sv.stderr).toContain("maxmemory-policy is 'allkeys-lru'");

      const ok = makeProject(dir(), { config: config(r, '  allowEviction: true\n') });
      const ev = await cli(['evaluate', 'p'], { cwd: ok });
      expect(ev.code, ev.stderr).toBe(0);
    }
  });
});

describe('a callback for a run the store lost', () => {
  it('FLUSHALL while the run is RUNNING: complete answers 404 RUN_NOT_FOUND naming the possible cause', async () => {
    const hits: string[] = [];
    const orch: Server = createServer((req, res) => {
      hits.push(String(req.headers['x-interlock-run-id']));
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((r) => orch.listen(0, '127.0.0.1', r));
    cleanup(() => new Promise<void>((r) => orch.close(() => r())));
    const url = `http://127.0.0.1:${(orch.address() as AddressInfo).port}`;
    const root = makeProject(dir(), {
      config: config(safe),
      trigger: `trigger:\n  type: http\n  url: ${url}/go\n  async: true\n`,
    });
    const s = await start(root);
    const r = await api(s.url, 'POST', '/api/pipelines/p/run');
    expect(r.status, r.text).toBe(202);
    const runId: string = r.body.run.runId;
    await waitForRun(s.url, runId, ['RUNNING']);
    await (s.ctx.store as RedisStore).redis.flushall();
    const done = await api(s.url, 'POST', `/api/runs/${runId}/complete`, { status: 'success' });
    expect(done.status, done.text).toBe(404);
    expect(done.body.error.code).toBe('RUN_NOT_FOUND');
    expect(done.body.error.message).toContain(`unknown run '${runId}'`);
    expect(done.body.error.message).toMatch(
      /the store lost it: Redis flushed, evicting keys or restarted without persistence/,
    );
    // A new process of this project (which saw the store's id) refuses the emptied store outright.
    const c = await cli(['complete', runId, '--status', 'success'], { cwd: root });
    expect(c.code, c.stderr).toBe(3);
    expect(c.stderr).toMatch(/it lost its data/);
  });
});

describe("lost keys never free a running job's lock", () => {
  it('the active key evicted/deleted while the newest run is RUNNING: createRun takes the lock back and refuses', async () => {
    const s = await RedisStore.connect({ addr: safe.addr, keyPrefix: prefix() });
    try {
      const now = Date.now();
      const r1 = newRun({ runId: 'r1', pipeline: 'p', source: 'test', now, deadlineAt: now + 600_000 });
      expect(await s.createRun(r1)).toEqual({ ok: true });
      const t1 = transition(r1, 'TRIGGERING', now + 1);
      if (!t1.ok) throw new Error(t1.reason);
      const t2 = transition(t1.run, 'RUNNING', now + 2);
      if (!t2.ok) throw new Error(t2.reason);
      await s.casRun(t1.run, 1);
      await s.casRun(t2.run, 2);
      await s.redis.del(s.keys.pipeline('p').active);
      const r2 = newRun({ runId: 'r2', pipeline: 'p', source: 'test', now: now + 3, deadlineAt: now + 600_000 });
      expect(await s.createRun(r2)).toEqual({ ok: false, active: t2.run });
      expect(await s.redis.get(s.keys.pipeline('p').active)).toBe('r1');
      expect(await s.getRun('r2')).toBeUndefined();
      // Once r1 ends, the next run goes ahead.
      const t3 = transition(t2.run, 'COMPLETED', now + 4);
      if (!t3.ok) throw new Error(t3.reason);
      expect(await s.casRun(t3.run, 3)).toEqual({ ok: true });
      expect(await s.createRun(r2)).toEqual({ ok: true });
    } finally {
      await s.close();
    }
  });

  it('the active key lost while an ended run still holds the lock for its command: taken back, the create refused', async () => {
    const s = await RedisStore.connect({ addr: safe.addr, keyPrefix: prefix() });
    try {
      const now = Date.now();
      const r1 = newRun({ runId: 'r1', pipeline: 'p', source: 'test', now, deadlineAt: now + 600_000 });
      expect(await s.createRun(r1)).toEqual({ ok: true });
      const t1 = transition(r1, 'TRIGGERING', now + 1);
      if (!t1.ok) throw new Error(t1.reason);
      await s.casRun(t1.run, 1);
      // Cancelled from a host that could not signal the command: CANCELLED, but the lock is held until the deadline.
      const t2 = transition(t1.run, 'CANCELLED', now + 2, { reason: 'cancelled', lockHeldUntil: now + 600_000 });
      if (!t2.ok) throw new Error(t2.reason);
      expect(await s.casRun(t2.run, 2)).toEqual({ ok: true });
      expect(await s.redis.get(s.keys.pipeline('p').active)).toBe('r1');
      await s.redis.del(s.keys.pipeline('p').active);
      const r2 = newRun({ runId: 'r2', pipeline: 'p', source: 'test', now: now + 3, deadlineAt: now + 600_000 });
      expect(await s.createRun(r2)).toEqual({ ok: false, active: t2.run });
      expect(await s.redis.get(s.keys.pipeline('p').active)).toBe('r1');
      expect(await s.getRun('r2')).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('the active key lost while a run is RUNNING: deletePipeline takes the lock back and refuses (the run keeps its pipeline)', async () => {
    const s = await RedisStore.connect({ addr: safe.addr, keyPrefix: prefix() });
    try {
      const now = Date.now();
      await s.putPipeline({
        name: 'p',
        archetype: 'a',
        traits: [],
        readinessRule: { type: 'all-required-pass' },
        source: 'api',
      });
      const r1 = newRun({ runId: 'r1', pipeline: 'p', source: 'test', now, deadlineAt: now + 600_000 });
      expect(await s.createRun(r1)).toEqual({ ok: true });
      const t1 = transition(r1, 'TRIGGERING', now + 1);
      if (!t1.ok) throw new Error(t1.reason);
      await s.casRun(t1.run, 1);
      await s.redis.del(s.keys.pipeline('p').active);
      expect(await s.deletePipeline('p')).toEqual({ ok: false, active: t1.run });
      expect(await s.redis.get(s.keys.pipeline('p').active)).toBe('r1');
      expect(await s.getPipeline('p')).toBeDefined();
    } finally {
      await s.close();
    }
  });

  it('FLUSHALL (or a restart without persistence): a project that saw the store refuses it until told to accept it', async () => {
    const t = tempDir('interlock-identity-');
    cleanup(t.cleanup);
    const keyPrefix = prefix();
    const open = () => RedisStore.connect({ addr: safe.addr, keyPrefix, stateDir: t.dir, connectTimeoutMs: 2000 });
    const file = identityFile(t.dir, safe.addr, keyPrefix);
    await (await open()).close();
    expect(existsSync(file)).toBe(true);
    await (await open()).close(); // same id: fine
    const other = await RedisStore.connect({ addr: safe.addr, keyPrefix });
    await other.redis.flushall();
    await other.close();
    const err = await open().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect((err as Error).message).toMatch(
      /it lost its data .* is gone \(FLUSHALL, eviction, or a restart without persistence\)/,
    );
    expect((err as Error).message).toContain(file);
    rmSync(file);
    await (await open()).close();
    expect(existsSync(file)).toBe(true);
  });
});
