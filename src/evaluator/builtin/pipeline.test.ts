// builtin:pipeline through the evaluator runner against a real (memory) store: same-day finds the upstream window
// of the downstream window's date and PASSes only when it is COMPLETED; latest takes the newest completion within
// maxAge; an upstream run in progress, a store that fails, and an evaluation without a window all FAIL.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { ordersWindow } from '../../../test/support/windows.js';
import type { ResolvedTrait } from '../../core/types.js';
import { newRun, transition } from '../../engine/run-state.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import { type EvalContext, evaluateTrait } from '../runner.js';

// 2026-06-02 08:00Z; the `orders` daily window of 2026-06-02 opens 03:00Z (05:00 Berlin).
const NOW = Date.parse('2026-06-02T08:00:00Z');
const DOWN = {
  key: 'report@daily@2026-06-02T04:00:00.000Z',
  schedule: 'daily',
  openAt: NOW - 4 * 3600e3,
  date: '2026-06-02',
};

function trait(config: Record<string, unknown>): ResolvedTrait {
  return {
    type: 'orders-loaded',
    required: true,
    builtin: 'pipeline',
    evaluatorRef: 'builtin:pipeline',
    config,
    timeoutSeconds: 5,
  };
}

function ctx(store: MemoryStore, over: Partial<EvalContext> = {}): EvalContext {
  return {
    projectDir: '/',
    pipeline: 'report',
    clock: new FakeClock(NOW),
    env: {},
    upstream: store,
    window: DOWN,
    ...over,
  };
}

const completed = (openIso: string, endIso: string) =>
  ordersWindow(openIso, 'COMPLETED', {
    terminal: {
      at: Date.parse(endIso),
      reason: 'attempt 1 completed',
      detail: { state: 'COMPLETED', attempt: 1, runId: 'r1' },
    },
  });

async function completedRun(store: MemoryStore, runId: string, at: number) {
  const run = newRun({ runId, pipeline: 'orders', source: 'cli', now: at - 60_000, deadlineAt: at + 3600e3 });
  await store.createRun(run);
  let cur = run;
  for (const to of ['TRIGGERING', 'RUNNING', 'COMPLETED'] as const) {
    const r = transition(cur, to, at);
    if (!r.ok) throw new Error(r.reason);
    expect((await store.casRun(r.run, cur.version)).ok).toBe(true);
    cur = r.run;
  }
}

describe('builtin:pipeline', () => {
  it('same-day: PASSes when the upstream window of the same date is COMPLETED and names it', async () => {
    const store = new MemoryStore();
    await store.createWindow(completed('2026-06-01T03:00:00Z', '2026-06-01T04:00:00Z'));
    await store.createWindow(completed('2026-06-02T03:00:00Z', '2026-06-02T04:10:00Z'));
    const r = await evaluateTrait(trait({ pipeline: 'orders', window: 'same-day' }), ctx(store));
    expect(r.status).toBe('PASS');
    expect(r.value).toMatchObject({
      pipeline: 'orders',
      windowKey: 'orders@daily@2026-06-02T03:00:00Z',
      state: 'COMPLETED',
      date: '2026-06-02',
    });
  });

  it('same-day: FAILs naming the state when the window of that date is not COMPLETED, or is missing', async () => {
    const store = new MemoryStore();
    // Yesterday's COMPLETED window does not count for today.
    await store.createWindow(completed('2026-06-01T03:00:00Z', '2026-06-01T04:00:00Z'));
    let r = await evaluateTrait(trait({ pipeline: 'orders' }), ctx(store));
    expect(r.status).toBe('FAIL');
    expect(r.reason).toContain('orders has no window dated 2026-06-02');
    expect(r.reason).toContain('orders@daily@2026-06-01T03:00:00Z, COMPLETED');
    await store.createWindow(
      ordersWindow('2026-06-02T03:00:00Z', 'OPEN', {
        lastDecision: {
          outcome: 'NOT_READY',
          blocking: [{ trait: 'row-count', state: 'FAIL', reasonCode: 'EVALUATOR_FAIL', reason: 'no rows' }],
          decidedAt: NOW,
        },
      }),
    );
    r = await evaluateTrait(trait({ pipeline: 'orders' }), ctx(store));
    expect(r.status).toBe('FAIL');
    expect(r.reasonCode).toBe('CHECK_FAILED');
    expect(r.reason).toContain(
      'orders window 2026-06-02 is OPEN (last decision NOT_READY: blocked by row-count FAIL), not COMPLETED',
    );
    expect(r.value).toMatchObject({ windowKey: 'orders@daily@2026-06-02T03:00:00Z', state: 'OPEN' });
  });

  it('same-day: a MISSED or FAILED window FAILs with its terminal reason', async () => {
    const store = new MemoryStore();
    await store.createWindow(
      ordersWindow('2026-06-02T03:00:00Z', 'MISSED', {
        terminal: {
          at: NOW - 1000,
          reason: 'deadline passed: blocked by row-count',
          detail: { state: 'MISSED', cause: 'never-evaluated' },
        },
      }),
    );
    const r = await evaluateTrait(trait({ pipeline: 'orders' }), ctx(store));
    expect(r.status).toBe('FAIL');
    expect(r.reason).toContain('is MISSED (deadline passed: blocked by row-count), not COMPLETED');
  });

  it('same-day: outside a schedule window (a manual evaluation) it FAILs and says why', async () => {
    const store = new MemoryStore();
    await store.createWindow(completed('2026-06-02T03:00:00Z', '2026-06-02T04:10:00Z'));
    const { window: _w, ...noWindow } = ctx(store);
    const r = await evaluateTrait(trait({ pipeline: 'orders' }), noWindow);
    expect(r.status).toBe('FAIL');
    expect(r.reason).toContain("not a schedule window's");
  });

  it('an upstream run started after the completion and still going FAILs (its output is being rewritten)', async () => {
    const store = new MemoryStore();
    await store.createWindow(completed('2026-06-02T03:00:00Z', '2026-06-02T04:10:00Z'));
    const run = newRun({
      runId: 'rerun',
      pipeline: 'orders',
      source: 'cli',
      now: NOW - 60_000,
      deadlineAt: NOW + 3600e3,
    });
    expect((await store.createRun(run)).ok).toBe(true);
    const r = await evaluateTrait(trait({ pipeline: 'orders' }), ctx(store));
    expect(r.status).toBe('FAIL');
    expect(r.reason).toContain('its run rerun started since is PENDING');
  });

  it('latest: the newest COMPLETED window or run within maxAge PASSes; an older one FAILs with its age', async () => {
    const store = new MemoryStore();
    await store.createWindow(completed('2026-06-01T03:00:00Z', '2026-06-01T04:00:00Z'));
    let r = await evaluateTrait(
      trait({ pipeline: 'orders', window: 'latest', maxAge: '6h' }),
      ctx(store, { window: undefined }),
    );
    expect(r.status).toBe('FAIL');
    expect(r.reason).toContain('orders last completed 100800s ago');
    expect(r.reason).toContain('more than maxAge 21600s');
    // A manual run that completed an hour ago is newer: it counts.
    await completedRun(store, 'manual-1', NOW - 3600e3);
    r = await evaluateTrait(
      trait({ pipeline: 'orders', window: 'latest', maxAge: '6h' }),
      ctx(store, { window: undefined }),
    );
    expect(r.status).toBe('PASS');
    expect(r.value).toMatchObject({ runId: 'manual-1', state: 'COMPLETED', ageSeconds: 3600 });
  });

  it('latest: an upstream that never completed FAILs', async () => {
    const r = await evaluateTrait(trait({ pipeline: 'orders', window: 'latest', maxAge: 60 }), ctx(new MemoryStore()));
    expect(r.status).toBe('FAIL');
    expect(r.reason).toContain('orders has no COMPLETED window or run');
  });

  it('a store that fails, a missing store and a self-reference FAIL (never PASS)', async () => {
    const broken = new MemoryStore();
    broken.listWindows = async () => {
      throw new Error('connection reset');
    };
    let r = await evaluateTrait(trait({ pipeline: 'orders' }), ctx(broken));
    expect(r.status).toBe('FAIL');
    expect(r.reasonCode).toBe('EVALUATOR_ERROR');
    expect(r.reason).toContain('connection reset');
    r = await evaluateTrait(trait({ pipeline: 'orders' }), ctx(new MemoryStore(), { upstream: undefined }));
    expect(r.status).toBe('FAIL');
    r = await evaluateTrait(trait({ pipeline: 'report' }), ctx(new MemoryStore()));
    expect(r.status).toBe('FAIL');
    expect(r.reason).toContain('cannot wait for itself');
  });

  it('refuses a bad config: latest without maxAge, an unknown window mode', async () => {
    let r = await evaluateTrait(trait({ pipeline: 'orders', window: 'latest' }), ctx(new MemoryStore()));
    expect(r.status).toBe('FAIL');
    expect(r.reason).toContain('window: latest needs maxAge');
    r = await evaluateTrait(trait({ pipeline: 'orders', window: 'yesterday' }), ctx(new MemoryStore()));
    expect(r.status).toBe('FAIL');
    expect(r.reason).toContain("expected 'same-day' or 'latest'");
  });
});
