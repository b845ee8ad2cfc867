// `serve` on SQLite stays responsive while another process holds the write lock: health answers 503 within its
// own 2 s timeout, and an evaluator timeout fires on time. A real `interlock serve`, a real second process.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { useServers } from '../support/api-server.js';
import { api } from '../support/http-request.js';
import { serveProcess } from '../support/server-process.js';
import { holdWriteLock } from '../support/sqlite-lock.js';

const { dir, cleanup } = useServers('interlock-sqlite-busy-');

describe('another process holds BEGIN IMMEDIATE on the SQLite file', () => {
  it('health 503 within ~2 s and an evaluator timeout fires on time while it holds; all well after', async () => {
    const root = makeProject(dir(), {
      files: {
        // p: one evaluator that hangs 30 s, timeout 1 s.
        'pipelines/p.yaml': 'name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: slow\n    timeout: 1\n',
      },
    });
    const s = await serveProcess(root, ['--addr', '127.0.0.1:0']);
    cleanup(async () => {
      s.child.kill('SIGKILL');
      await s.exited;
    });
    expect((await api(s.url, 'GET', '/api/health')).status).toBe(200);

    const HOLD_MS = 8000;
    const holder = await holdWriteLock(join(root, '.interlock', 'state.db'), HOLD_MS);
    cleanup(() => holder.kill());
    const locked = performance.now();
    // A write that must wait for the lock (old code: a synchronous 10 s busy wait froze the whole server) …
    const quick = api(s.url, 'POST', '/api/pipelines/no-trigger/evaluate');
    // … an evaluation whose evaluator must be timed out after 1 s …
    const slow = api(s.url, 'POST', '/api/pipelines/p/evaluate');
    await new Promise((r) => setTimeout(r, 300));
    // … and a health check.
    const h0 = performance.now();
    const health = await api(s.url, 'GET', '/api/health');
    const healthMs = performance.now() - h0;
    expect(health.status, health.text).toBe(503);
    expect(healthMs).toBeLessThan(2600);
    expect(performance.now() - locked).toBeLessThan(HOLD_MS - 2000); // answered while the lock was still held

    const [q, p] = await Promise.all([quick, slow]);
    await holder.released;
    // Both saved once the lock was gone; the timeout fired on time (durationMs ≈ 1 s, not ≈ the hold).
    expect(q.status, q.text).toBe(200);
    expect(p.status, p.text).toBe(200);
    const a = p.body.readiness.traits.find((t: { trait: string }) => t.trait === 'a');
    expect(a.result.reasonCode).toBe('EVALUATOR_TIMEOUT');
    expect(a.result.durationMs).toBeLessThan(2000);
    expect((await api(s.url, 'GET', '/api/health')).status).toBe(200);
  }, 40_000);
});
