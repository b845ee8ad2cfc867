// Health and store outages through a real server: 503 {"status":"degraded"} while the store is unreachable, 503
// STORE_UNAVAILABLE (without driver detail) from the routes that need it, and recovery without a restart.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { makeProject } from '../support/api-project.js';
import { expectErrorShape, useServers } from '../support/api-server.js';
import { FakeClock } from '../support/fake-clock.js';
import { api } from '../support/http-request.js';
import { outageStore } from '../support/outage-store.js';
import { until } from '../support/poll.js';

const { dir, start } = useServers('interlock-api-health-');

async function flakyServer(clock?: FakeClock) {
  const root = makeProject(dir());
  const flaky = outageStore(new SqliteStore({ path: join(root, '.interlock', 'state.db') }));
  const s = await start(root, { store: flaky.store, ...(clock ? { clock } : {}) });
  return { s, flaky };
}

describe('health and store outages', () => {
  it('store down → health 503 degraded and routes 503 STORE_UNAVAILABLE; back up → 200 again by itself', async () => {
    const { s, flaky } = await flakyServer();
    expect((await api(s.url, 'GET', '/api/health')).body).toEqual({ status: 'ok' });

    flaky.down = true;
    const h = await api(s.url, 'GET', '/api/health');
    expect(h.status).toBe(503);
    expect(h.body).toEqual({ status: 'degraded' });
    for (const [method, path] of [
      ['GET', '/api/pipelines/p/runs'],
      ['GET', '/api/pipelines/p/readiness'],
      ['POST', '/api/pipelines/p/evaluate'],
      ['POST', '/api/pipelines/p/run'],
      ['GET', '/api/runs/01ABC'],
      ['GET', '/api/pipelines'],
    ] as const) {
      const r = await api(s.url, method, path);
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(503);
      expectErrorShape(r);
      expect(r.body.error).toEqual({ code: 'STORE_UNAVAILABLE', message: 'the store is unavailable' });
      expect(r.text).not.toContain('ECONNREFUSED'); // the driver detail goes to the log only
    }
    expect(s.logs.some((l) => l.includes('ECONNREFUSED'))).toBe(true);
    // A run refused for an outage leaves nothing behind and fires nothing.
    flaky.down = false;
    expect((await api(s.url, 'GET', '/api/health')).body).toEqual({ status: 'ok' });
    expect((await api(s.url, 'GET', '/api/pipelines/p/runs')).body).toEqual([]);
    expect((await api(s.url, 'POST', '/api/pipelines/p/evaluate')).status).toBe(200);
  });

  it('a store that does not answer: health says degraded within its 2 s timeout', async () => {
    const { s, flaky } = await flakyServer();
    flaky.hang = true;
    const t0 = Date.now();
    const h = await api(s.url, 'GET', '/api/health');
    expect(h.status).toBe(503);
    expect(h.body).toEqual({ status: 'degraded' });
    expect(Date.now() - t0).toBeLessThan(4000);
    flaky.hang = false;
    expect((await api(s.url, 'GET', '/api/health')).status).toBe(200);
  });

  it("the health check's 2 s timeout runs on the Context's clock: degraded when that clock passes 2 s, not before", async () => {
    const clock = new FakeClock();
    const { s, flaky } = await flakyServer(clock);
    flaky.hang = true;
    let status: number | undefined;
    const asked = api(s.url, 'GET', '/api/health').then((h) => {
      status = h.status;
      return h;
    });
    expect(await until(() => clock.pending > 0, 5000, 5)).toBe(true); // the request is waiting on our clock
    clock.advance(1999);
    await new Promise((r) => setTimeout(r, 100)); // real time for the (absent) answer to arrive
    expect(status).toBeUndefined();
    clock.advance(1);
    const h = await asked;
    expect(h.status).toBe(503);
    expect(h.body).toEqual({ status: 'degraded' });
    flaky.hang = false;
  });
});
