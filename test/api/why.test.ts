// GET /api/pipelines/{id}/why through a real listening server: the same view `interlock why --json` prints (blocking
// traits with since-when from the decision history and what would unblock each, the live window), and its errors.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { expectErrorShape, useServers } from '../support/api-server.js';
import { FakeClock } from '../support/fake-clock.js';
import { api } from '../support/http-request.js';
import { blockingFail, ordersWatch, ordersWindow, scheduledProject } from '../support/windows.js';

const { dir, start } = useServers('interlock-api-why-');
const KEY = 'orders@daily@2026-06-01T03:00:00Z';
const T = (s: string) => Date.parse(s);

async function server() {
  const store = new MemoryStore();
  const s = await start(scheduledProject(dir()), { store, clock: new FakeClock(T('2026-06-01T04:00:00Z')) });
  s.ctx.project.watch.set('orders', ordersWatch());
  const blocking = [blockingFail('row-count', 'only 12 rows')];
  const open = ordersWindow('2026-06-01T03:00:00Z', 'OPEN', {
    lastDecision: { outcome: 'NOT_READY', blocking, decidedAt: T('2026-06-01T03:50:00Z') },
    nextEvaluationAt: T('2026-06-01T04:12:00Z'),
  });
  expect((await store.createWindow(open)).ok).toBe(true);
  const rule = { type: 'all-required-pass' as const };
  for (const at of ['2026-06-01T03:40:00Z', '2026-06-01T03:50:00Z']) {
    const decidedAt = T(at);
    await store.saveEvaluation({
      results: [
        { pipeline: 'orders', trait: 'upstream-dependency', status: 'PASS', durationMs: 1, evaluatedAt: decidedAt },
        {
          pipeline: 'orders',
          trait: 'row-count',
          status: 'FAIL',
          reasonCode: 'EVALUATOR_FAIL',
          reason: 'only 12 rows',
          value: { rows: 12 },
          durationMs: 1,
          evaluatedAt: decidedAt,
        },
      ],
      readiness: { pipeline: 'orders', outcome: 'NOT_READY', rule, traits: [], blocking, decidedAt },
      decision: {
        id: `d-${at}`,
        pipeline: 'orders',
        source: 'watcher',
        rule,
        outcome: 'NOT_READY',
        traits: [],
        blocking,
        decidedAt,
      },
    });
  }
  return s;
}

describe('GET /api/pipelines/{id}/why', () => {
  it('200: the live window, the blocking trait since 05:40 with its value, and "evaluator re-runs at 06:12"', async () => {
    const s = await server();
    const r = await api(s.url, 'GET', '/api/pipelines/orders/why');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      pipeline: 'orders',
      outcome: 'NOT_READY',
      summary: 'NOT_READY: blocked by row-count (FAIL)',
      scheduled: true,
      window: { key: KEY, state: 'OPEN', deadline: { local: '2026-06-01T09:00:00+02:00' } },
      deadlineInMs: 3 * 3600_000,
      activeRun: null,
      lastRuns: [],
    });
    expect(r.body.blocking).toEqual([
      expect.objectContaining({
        trait: 'row-count',
        state: 'FAIL',
        reason: 'only 12 rows',
        value: { rows: 12 },
        blockingSince: expect.objectContaining({ local: '2026-06-01T05:40:00+02:00' }),
        sinceFrom: 'decisions',
        unblock: 'evaluator re-runs at 06:12 (2026-06-01T06:12:00+02:00)',
      }),
    ]);
    // ?window= gives the same window; an on-demand pipeline gets readiness only.
    const same = await api(s.url, 'GET', `/api/pipelines/orders/why?window=${encodeURIComponent(KEY)}`);
    expect([same.status, same.body.window?.key]).toEqual([200, KEY]);
    const adhoc = await api(s.url, 'GET', '/api/pipelines/adhoc/why');
    expect(adhoc.status).toBe(200);
    expect(adhoc.body).toMatchObject({ scheduled: false, window: null, outcome: 'NOT_READY' });
  });

  it('400 for a window of another pipeline or garbage, 404 for an unknown window or pipeline', async () => {
    const s = await server();
    for (const [q, status, code] of [
      [`?window=${encodeURIComponent(KEY)}`, 400, 'INVALID_REQUEST', 'adhoc'],
      ['?window=garbage', 400, 'INVALID_REQUEST'],
      [`?window=${encodeURIComponent('orders@daily@2026-06-02T03:00:00Z')}`, 404, 'NOT_FOUND'],
    ] as const) {
      const id = q.includes(encodeURIComponent(KEY)) ? 'adhoc' : 'orders';
      const r = await api(s.url, 'GET', `/api/pipelines/${id}/why${q}`);
      expect([r.status, r.body.error?.code], q).toEqual([status, code]);
      expectErrorShape(r);
    }
    const nope = await api(s.url, 'GET', '/api/pipelines/nope/why');
    expect([nope.status, nope.body.error.code]).toEqual([404, 'PIPELINE_NOT_FOUND']);
  });
});
