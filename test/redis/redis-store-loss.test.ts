// Redis data loss must never free a run's lock silently: servers that may evict keys are refused at connect (store,
// CLI and serve), and a callback for a run the store lost answers 404 naming the likely cause. Real redis-servers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/index.js';
import { api, makeProject, useServers, waitForRun } from '../api/support.js';
import { cli } from '../helpers/cli.js';
import { type RedisServer, requireRedis, startRedis } from '../helpers/redis.js';

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
    const c = await cli(['complete', runId, '--status', 'success'], { cwd: root });
    expect(c.stderr).toMatch(/the store lost it/);
  });
});
