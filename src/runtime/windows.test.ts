// Reading schedule windows (issue 12, the read side): one window, a pipeline's windows with filters, and the status of a
// scheduled pipeline, with the next wake-up and why from the pure engine. Memory store, fake clock.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { recordingLogger } from '../../test/support/recording-logger.js';
import { tempDir } from '../../test/support/temp-dir.js';
import {
  blockingFail,
  ordersWatch,
  ordersWindow,
  scheduledProject,
  storeResults,
  traitResult,
} from '../../test/support/windows.js';
import { InterlockError } from '../core/errors.js';
import { newRun } from '../engine/run-state.js';
import { applyWindowEvent, type WindowRecord } from '../engine/window.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { type Context, openContext } from './context.js';
import { pipelineStatus, statusView } from './status.js';
import { getWindowView, listWindowsView, localIso, scheduledStatus } from './windows.js';

const T = (s: string) => Date.parse(s);
const KEY = 'orders@daily@2026-06-01T03:00:00Z';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(now: string, windows: WindowRecord[] = []) {
  const t = tempDir('interlock-windows-');
  cleanups.push(t.cleanup);
  scheduledProject(t.dir);
  const store = new MemoryStore();
  const clock = new FakeClock(T(now));
  const ctx: Context = await openContext({ cwd: t.dir, env: process.env, store, clock, log: recordingLogger() });
  cleanups.push(() => ctx.close());
  ctx.project.watch.set('orders', ordersWatch());
  for (const w of windows) expect((await store.createWindow(w)).ok).toBe(true);
  return { ctx, store, clock };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof InterlockError) return e.code;
    throw e;
  }
  throw new Error('expected an InterlockError');
}

/** The 06-01 window OPEN after a NOT_READY decision at 05:35 blocked by row-count; re-evaluation backed off to 06:35. */
function openBlocked(): WindowRecord {
  return ordersWindow('2026-06-01T03:00:00Z', 'OPEN', {
    version: 3,
    lastDecision: {
      outcome: 'NOT_READY',
      blocking: [blockingFail('row-count', 'only 12 rows')],
      decisionId: 'd1',
      decidedAt: T('2026-06-01T03:35:00Z'),
    },
    nextEvaluationAt: T('2026-06-01T04:35:00Z'),
  });
}

describe('getWindowView', () => {
  it('a PENDING window: instants in UTC and in Europe/Berlin, next wake "may trigger from 05:30"', async () => {
    const { ctx } = await setup('2026-06-01T03:10:00Z', [ordersWindow('2026-06-01T03:00:00Z')]);
    const v = await getWindowView(ctx, KEY);
    expect(v).toMatchObject({
      key: KEY,
      pipeline: 'orders',
      schedule: 'daily',
      timezone: 'Europe/Berlin',
      state: 'PENDING',
      terminal: false,
      date: '2026-06-01',
      open: { at: T('2026-06-01T03:00:00Z'), utc: '2026-06-01T03:00:00Z', local: '2026-06-01T05:00:00+02:00' },
      after: { utc: '2026-06-01T03:30:00Z', local: '2026-06-01T05:30:00+02:00' },
      deadline: { utc: '2026-06-01T07:00:00Z', local: '2026-06-01T09:00:00+02:00' },
      attempts: [],
      lastDecision: null,
      end: null,
      due: [],
    });
    expect(v.nextWake).toEqual({
      at: T('2026-06-01T03:30:00Z'),
      utc: '2026-06-01T03:30:00Z',
      local: '2026-06-01T05:30:00+02:00',
      reason: 'window daily may trigger from 05:30',
      key: KEY,
    });
  });

  it('an OPEN NOT_READY window names the blocking trait, and wakes when the passing one expires (06:10)', async () => {
    const { ctx, store } = await setup('2026-06-01T03:40:00Z', [openBlocked()]);
    await storeResults(
      store,
      [
        traitResult('upstream-dependency', 'PASS', T('2026-06-01T03:35:00Z'), T('2026-06-01T04:10:00Z')),
        traitResult('row-count', 'FAIL', T('2026-06-01T03:35:00Z')),
      ],
      T('2026-06-01T03:35:00Z'),
    );
    const v = await getWindowView(ctx, KEY);
    expect(v.state).toBe('OPEN');
    expect(v.lastDecision).toMatchObject({
      outcome: 'NOT_READY',
      blocking: [{ trait: 'row-count', state: 'FAIL', reason: 'only 12 rows' }],
      decidedAt: { local: '2026-06-01T05:35:00+02:00' },
    });
    expect(v.nextEvaluationAt?.local).toBe('2026-06-01T06:35:00+02:00');
    expect(v.nextWake).toMatchObject({ reason: 'upstream-dependency expires 06:10', utc: '2026-06-01T04:10:00Z' });
    expect(v.due).toEqual([]);

    // Past the expiry the passing trait is STALE: evidence changed, so a re-evaluation is due now (and says which).
    (ctx.clock as FakeClock).set(T('2026-06-01T04:11:00Z'));
    const later = await getWindowView(ctx, KEY);
    expect(later.due).toEqual([{ kind: 'evaluate', key: KEY, what: 're-evaluate upstream-dependency, row-count' }]);
    expect(later.nextWake?.reason).toBe('deadline of window daily 09:00');
  });

  it('a MISSED window shows its terminal reason (the blocking trait) and has no wake-up', async () => {
    const r = applyWindowEvent(openBlocked(), { type: 'deadline' }, T('2026-06-01T07:00:00Z'));
    if (r.kind !== 'apply') throw new Error(r.reason);
    const { ctx } = await setup('2026-06-01T08:00:00Z', [r.window]);
    const v = await getWindowView(ctx, KEY);
    expect(v.state).toBe('MISSED');
    expect(v.terminal).toBe(true);
    expect(v.nextWake).toBeNull();
    expect(v.end).toMatchObject({
      reason: 'deadline passed while NOT_READY: blocked by row-count (FAIL: only 12 rows)',
      detail: { state: 'MISSED', cause: 'blocked', blocking: [{ trait: 'row-count' }] },
      at: { local: '2026-06-01T09:00:00+02:00' },
    });
  });

  it('attempts show their runs as stored now (status, trigger outcome, reason); a lost run is null', async () => {
    const claimedAt = T('2026-06-01T03:31:00Z');
    const w = ordersWindow('2026-06-01T03:00:00Z', 'RUNNING', {
      version: 5,
      attempts: [
        {
          attempt: 1,
          runId: 'r1',
          runKey: `${KEY}#1`,
          claimedAt,
          finishedAt: claimedAt + 1000,
          result: 'FAILED',
          category: 'TRANSIENT',
          error: 'HTTP 503',
        },
        {
          attempt: 2,
          runId: 'r2',
          runKey: `${KEY}#2`,
          claimedAt: claimedAt + 60_000,
          runDeadlineAt: T('2026-06-01T05:00:00Z'),
        },
      ],
    });
    const { ctx, store } = await setup('2026-06-01T03:40:00Z', [w]);
    const run = newRun({
      runId: 'r2',
      pipeline: 'orders',
      source: 'watcher',
      now: claimedAt + 60_000,
      deadlineAt: T('2026-06-01T05:00:00Z'),
    });
    expect((await store.createRun({ ...run, runKey: `${KEY}#2`, window: { key: KEY, attempt: 2 } })).ok).toBe(true);
    const running = {
      ...run,
      status: 'RUNNING' as const,
      version: 2,
      updatedAt: claimedAt + 61_000,
      trigger: { type: 'http' as const, ok: true, async: true, durationMs: 40, httpStatus: 200, stdoutTail: 'x' },
    };
    expect((await store.casRun(running, 1)).ok).toBe(true);
    const v = await getWindowView(ctx, KEY);
    expect(v.attempts.map((a) => [a.attempt, a.result ?? null, a.error ?? null, a.run])).toEqual([
      [1, 'FAILED', 'HTTP 503', null],
      [
        2,
        null,
        null,
        { runId: 'r2', status: 'RUNNING', trigger: { type: 'http', ok: true, async: true, httpStatus: 200 } },
      ],
    ]);
    expect(v.attempts[1].runDeadlineAt?.local).toBe('2026-06-01T07:00:00+02:00');
    expect(v.nextWake).toMatchObject({ reason: 'run r2 (attempt 2) times out 07:00' });
  });

  it('a malformed key is INVALID_REQUEST before the store is asked; unknown window NOT_FOUND; unknown pipeline PIPELINE_NOT_FOUND', async () => {
    const { ctx, store } = await setup('2026-06-01T03:10:00Z', [ordersWindow('2026-06-01T03:00:00Z')]);
    let asked = 0;
    const get = store.getWindow.bind(store);
    store.getWindow = async (k) => {
      asked++;
      return get(k);
    };
    for (const bad of [
      'garbage',
      'orders@daily',
      'orders@daily@2026-06-01T03:00:00.000Z',
      'orders@daily@2026-06-01',
      'Orders@daily@2026-06-01T03:00:00Z',
      `${KEY}@x`,
      '',
    ]) {
      expect(await code(getWindowView(ctx, bad)), bad).toBe('INVALID_REQUEST');
    }
    expect(asked).toBe(0);
    expect(await code(getWindowView(ctx, 'orders@daily@2026-06-02T03:00:00Z'))).toBe('NOT_FOUND');
    expect(await code(getWindowView(ctx, 'nope@daily@2026-06-01T03:00:00Z'))).toBe('PIPELINE_NOT_FOUND');
  });

  it('a window of a schedule no longer configured: no trigger, the wake is its deadline, a note says why', async () => {
    const { ctx } = await setup('2026-06-01T03:40:00Z', [ordersWindow('2026-06-01T03:00:00Z', 'OPEN')]);
    ctx.project.watch.set('orders', ordersWatch({ schedules: [{ ...ordersWatch().schedules[0], name: 'renamed' }] }));
    const v = await getWindowView(ctx, KEY);
    expect(v.timezone).toBe('UTC');
    expect(v.note).toMatch(/schedule 'daily' is no longer configured/);
    expect(v.due).toEqual([]);
    expect(v.nextWake?.reason).toBe('deadline of window daily (schedule no longer configured) 07:00');
  });
});

describe('listWindowsView', () => {
  /** 25 days of windows, 05-08 … 06-01; MISSED on even days, COMPLETED on odd ones, the newest PENDING. */
  function days(): WindowRecord[] {
    const out: WindowRecord[] = [];
    for (let d = 0; d < 25; d++) {
      const open = new Date(T('2026-05-08T03:00:00Z') + d * 86_400_000).toISOString().replace('.000Z', 'Z');
      const state = d === 24 ? 'PENDING' : d % 2 === 0 ? 'MISSED' : 'COMPLETED';
      out.push(ordersWindow(open, state));
    }
    return out;
  }

  it('newest first, default 20; limit, before (exclusive) and state filter; the pipeline wake-up', async () => {
    const { ctx } = await setup('2026-06-01T03:10:00Z', days());
    const all = await listWindowsView(ctx, 'orders');
    expect(all.windows).toHaveLength(20);
    expect(all.windows[0].key).toBe(KEY);
    expect(all.windows[19].open.utc).toBe('2026-05-13T03:00:00Z');
    expect(all.schedules).toEqual([{ name: 'daily', timezone: 'Europe/Berlin' }]);
    expect(all.nextWake).toMatchObject({ reason: 'window daily may trigger from 05:30', key: KEY });
    expect(all.note).toBeUndefined();

    expect((await listWindowsView(ctx, 'orders', { limit: 2 })).windows.map((w) => w.date)).toEqual([
      '2026-06-01',
      '2026-05-31',
    ]);
    const before = await listWindowsView(ctx, 'orders', { before: T('2026-06-01T03:00:00Z'), limit: 1000 });
    expect(before.windows.map((w) => w.date)[0]).toBe('2026-05-31');
    expect(before.windows).toHaveLength(24);
    const missed = await listWindowsView(ctx, 'orders', { state: 'MISSED', limit: 1000 });
    expect(missed.windows).toHaveLength(12);
    expect(missed.windows.every((w) => w.state === 'MISSED' && w.nextWake === null)).toBe(true);
    expect((await listWindowsView(ctx, 'orders', { state: 'PENDING' })).windows.map((w) => w.key)).toEqual([KEY]);
  });

  it('refuses a limit outside 1–1000 and an unknown state (INVALID_REQUEST); unknown pipeline PIPELINE_NOT_FOUND', async () => {
    const { ctx } = await setup('2026-06-01T03:10:00Z');
    for (const limit of [0, -1, 1001, 1.5, Number.NaN]) {
      expect(await code(listWindowsView(ctx, 'orders', { limit })), String(limit)).toBe('INVALID_REQUEST');
    }
    expect((await listWindowsView(ctx, 'orders', { limit: 1000 })).windows).toEqual([]);
    expect(await code(listWindowsView(ctx, 'orders', { state: 'DONE' as never }))).toBe('INVALID_REQUEST');
    expect(await code(listWindowsView(ctx, 'nope'))).toBe('PIPELINE_NOT_FOUND');
  });

  it('a pipeline without schedules: an empty list and a note, not an error', async () => {
    const { ctx } = await setup('2026-06-01T03:10:00Z');
    const v = await listWindowsView(ctx, 'adhoc');
    expect(v).toEqual({
      pipeline: 'adhoc',
      schedules: [],
      windows: [],
      nextWake: null,
      note: "pipeline 'adhoc' has no schedules: it runs on demand only (windows listed are from schedules since removed)",
    });
  });
});

describe('scheduledStatus', () => {
  it('the current window, time to its deadline, the last ended window, the next opening, and the next wake-up', async () => {
    const done = ordersWindow('2026-05-31T03:00:00Z', 'COMPLETED', {
      terminal: {
        at: T('2026-05-31T03:45:00Z'),
        reason: 'attempt 1 succeeded (run r0)',
        detail: { state: 'COMPLETED', attempt: 1, runId: 'r0' },
      },
    });
    const { ctx } = await setup('2026-06-01T03:40:00Z', [done, openBlocked()]);
    const s = await scheduledStatus(ctx, ctx.project.pipelines.get('orders') as never);
    expect(s).toBeDefined();
    const daily = s?.schedules[0];
    expect(daily?.current?.key).toBe(KEY);
    expect(daily?.current?.state).toBe('OPEN');
    expect(daily?.deadlineInMs).toBe(T('2026-06-01T07:00:00Z') - T('2026-06-01T03:40:00Z'));
    expect(daily?.last).toMatchObject({ state: 'COMPLETED', reason: 'attempt 1 succeeded (run r0)' });
    expect(daily?.next).toMatchObject({
      key: 'orders@daily@2026-06-02T03:00:00Z',
      open: { local: '2026-06-02T05:00:00+02:00' },
      deadline: { local: '2026-06-02T09:00:00+02:00' },
    });
    // No results stored: the required traits are missing, so evaluating them is due now (the watcher's job).
    expect(s?.due.map((d) => d.kind)).toEqual(['evaluate']);
    expect(s?.nextWake?.reason).toBe('deadline of window daily 09:00');
    expect(await scheduledStatus(ctx, ctx.project.pipelines.get('adhoc') as never)).toBeUndefined();
  });

  it('status (and GET …/readiness) carry it as `scheduled`; null for an on-demand pipeline', async () => {
    const { ctx } = await setup('2026-06-01T03:10:00Z', [ordersWindow('2026-06-01T03:00:00Z')]);
    const views = (await pipelineStatus(ctx)).map(statusView);
    const orders = views.find((v) => v.pipeline === 'orders');
    expect(orders?.scheduled?.schedules[0].current?.state).toBe('PENDING');
    expect(orders?.scheduled?.nextWake?.reason).toBe('window daily may trigger from 05:30');
    expect(orders?.outcome).toBe('NOT_READY'); // the fields that were there are still there
    expect(views.find((v) => v.pipeline === 'adhoc')?.scheduled).toBeNull();
  });
});

describe('localIso', () => {
  it('the wall clock with its offset, across a DST change and west of Greenwich', () => {
    expect(localIso(T('2026-03-29T00:59:59Z'), 'Europe/Berlin')).toBe('2026-03-29T01:59:59+01:00');
    expect(localIso(T('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toBe('2026-03-29T03:00:00+02:00');
    expect(localIso(T('2026-01-15T12:00:00Z'), 'America/New_York')).toBe('2026-01-15T07:00:00-05:00');
    expect(localIso(T('2026-01-15T12:00:00Z'), 'Asia/Kolkata')).toBe('2026-01-15T17:30:00+05:30');
    expect(localIso(T('2026-01-15T12:00:00Z'), 'UTC')).toBe('2026-01-15T12:00:00+00:00');
  });
});
