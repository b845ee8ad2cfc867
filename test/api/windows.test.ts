// GET /api/pipelines/{id}/windows and GET /api/windows/{key} through a real listening server (issue 12, read side):
// views as the runtime builds them, filters, and every error status. Memory store written directly, fake clock.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { expectErrorShape, useServers } from '../support/api-server.js';
import { FakeClock } from '../support/fake-clock.js';
import { api } from '../support/http-request.js';
import { blockingFail, ordersWatch, ordersWindow, scheduledProject } from '../support/windows.js';

const { dir, start } = useServers('interlock-api-windows-');
const KEY = 'orders@daily@2026-06-01T03:00:00Z';

async function server() {
  const store = new MemoryStore();
  const s = await start(scheduledProject(dir()), { store, clock: new FakeClock(Date.parse('2026-06-01T03:40:00Z')) });
  s.ctx.project.watch.set('orders', ordersWatch());
  const missed = ordersWindow('2026-05-31T03:00:00Z', 'MISSED', {
    terminal: {
      at: Date.parse('2026-05-31T07:00:00Z'),
      reason: 'deadline passed while NOT_READY: blocked by row-count (FAIL: not yet)',
      detail: { state: 'MISSED', cause: 'blocked', blocking: [blockingFail('row-count')] },
    },
  });
  const open = ordersWindow('2026-06-01T03:00:00Z', 'OPEN', {
    lastDecision: {
      outcome: 'NOT_READY',
      blocking: [blockingFail('row-count')],
      decidedAt: Date.parse('2026-06-01T03:35:00Z'),
    },
    nextEvaluationAt: Date.parse('2026-06-01T04:35:00Z'),
  });
  for (const w of [missed, open]) expect((await store.createWindow(w)).ok).toBe(true);
  return s;
}

describe('GET /api/windows/{key}', () => {
  it('200: the window, by its URL-encoded key or the key as is', async () => {
    const s = await server();
    for (const path of [`/api/windows/${encodeURIComponent(KEY)}`, `/api/windows/${KEY}`]) {
      const r = await api(s.url, 'GET', path);
      expect(r.status, path).toBe(200);
      expect(r.body).toMatchObject({
        key: KEY,
        state: 'OPEN',
        open: { local: '2026-06-01T05:00:00+02:00' },
        lastDecision: { outcome: 'NOT_READY', blocking: [{ trait: 'row-count' }] },
        end: null,
      });
      // No results stored: the required traits are missing, so their evaluation is due now.
      expect(r.body.due).toEqual([{ kind: 'evaluate', key: KEY, what: 're-evaluate upstream-dependency, row-count' }]);
      expect(r.body.nextWake).toMatchObject({ reason: 'deadline of window daily 09:00', key: KEY });
    }
    const missed = await api(s.url, 'GET', `/api/windows/${encodeURIComponent('orders@daily@2026-05-31T03:00:00Z')}`);
    expect(missed.status).toBe(200);
    expect(missed.body).toMatchObject({ state: 'MISSED', terminal: true, nextWake: null });
    expect(missed.body.end.reason).toMatch(/blocked by row-count/);
  });

  it('400 INVALID_REQUEST for garbage, 404 NOT_FOUND for an unknown window, 404 PIPELINE_NOT_FOUND for its pipeline', async () => {
    const s = await server();
    for (const bad of [
      'garbage',
      encodeURIComponent('orders@daily@2026-06-01'),
      encodeURIComponent(`${KEY}@x`),
      '%E0%A4%A',
    ]) {
      const r = await api(s.url, 'GET', `/api/windows/${bad}`);
      expect(r.status, bad).toBe(400);
      expectErrorShape(r);
      expect(r.body.error.code).toBe('INVALID_REQUEST');
    }
    const unknown = await api(s.url, 'GET', `/api/windows/${encodeURIComponent('orders@daily@2026-06-02T03:00:00Z')}`);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
    expect(unknown.body.error.message).toMatch(/unknown window/);
    const nope = await api(s.url, 'GET', `/api/windows/${encodeURIComponent('nope@daily@2026-06-01T03:00:00Z')}`);
    expect([nope.status, nope.body.error.code]).toEqual([404, 'PIPELINE_NOT_FOUND']);
    const method = await api(s.url, 'DELETE', `/api/windows/${encodeURIComponent(KEY)}`, {});
    expect([method.status, method.headers.allow]).toEqual([405, 'GET, HEAD']);
  });
});

describe('GET /api/pipelines/{id}/windows', () => {
  it('200: newest first, with limit, before (ISO or epoch ms) and state', async () => {
    const s = await server();
    const all = await api(s.url, 'GET', '/api/pipelines/orders/windows');
    expect(all.status).toBe(200);
    expect(all.body.windows.map((w: { key: string }) => w.key)).toEqual([KEY, 'orders@daily@2026-05-31T03:00:00Z']);
    expect(all.body.schedules).toEqual([{ name: 'daily', timezone: 'Europe/Berlin' }]);
    expect(all.body.nextWake).toMatchObject({ reason: 'deadline of window daily 09:00' });
    const q = async (query: string) =>
      (await api(s.url, 'GET', `/api/pipelines/orders/windows?${query}`)).body.windows.map(
        (w: { state: string }) => w.state,
      );
    expect(await q('limit=1')).toEqual(['OPEN']);
    expect(await q('before=2026-06-01T03:00:00Z')).toEqual(['MISSED']);
    expect(await q(`before=${Date.parse('2026-06-01T03:00:00Z')}`)).toEqual(['MISSED']);
    expect(await q(`before=${Date.parse('2026-06-01T03:00:00Z') + 1}`)).toEqual(['OPEN', 'MISSED']);
    expect(await q('state=MISSED')).toEqual(['MISSED']);
    expect(await q('state=COMPLETED')).toEqual([]);
  });

  it('a pipeline without schedules: 200 with a note; 400 for bad limit, before or state; 404 for an unknown pipeline', async () => {
    const s = await server();
    const adhoc = await api(s.url, 'GET', '/api/pipelines/adhoc/windows');
    expect(adhoc.status).toBe(200);
    expect(adhoc.body).toMatchObject({ pipeline: 'adhoc', schedules: [], windows: [], nextWake: null });
    expect(adhoc.body.note).toMatch(/no schedules/);
    for (const query of ['limit=0', 'limit=1001', 'limit=x', 'before=yesterday', 'state=DONE', 'state=missed']) {
      const r = await api(s.url, 'GET', `/api/pipelines/orders/windows?${query}`);
      expect(r.status, query).toBe(400);
      expectErrorShape(r);
      expect(r.body.error.code).toBe('INVALID_REQUEST');
    }
    const ok = await api(s.url, 'GET', '/api/pipelines/orders/windows?limit=1000');
    expect(ok.status).toBe(200);
    const nope = await api(s.url, 'GET', '/api/pipelines/nope/windows');
    expect([nope.status, nope.body.error.code]).toEqual([404, 'PIPELINE_NOT_FOUND']);
  });

  it('GET …/readiness carries the scheduled block (null for an on-demand pipeline)', async () => {
    const s = await server();
    const r = await api(s.url, 'GET', '/api/pipelines/orders/readiness');
    expect(r.status).toBe(200);
    expect(r.body.scheduled.schedules[0]).toMatchObject({
      schedule: 'daily',
      current: { key: KEY, state: 'OPEN' },
      last: { state: 'MISSED' },
      deadlineInMs: Date.parse('2026-06-01T07:00:00Z') - Date.parse('2026-06-01T03:40:00Z'),
      next: { key: 'orders@daily@2026-06-02T03:00:00Z' },
    });
    expect((await api(s.url, 'GET', '/api/pipelines/adhoc/readiness')).body.scheduled).toBeNull();
  });
});
