// "Why hasn't it run?": blocking traits with since-when (from decision history), TTL left and what would unblock
// each, the current window and its deadline, the last attempts; on-demand pipelines get readiness only. Memory store,
// fake clock.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { copyFixtureEvaluators, writeFiles } from '../../test/support/files.js';
import { recordingLogger } from '../../test/support/recording-logger.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { ordersWatch, ordersWindow, traitResult } from '../../test/support/windows.js';
import { InterlockError } from '../core/errors.js';
import type { BlockingTrait, TraitResult } from '../core/types.js';
import { newRun } from '../engine/run-state.js';
import type { WindowRecord } from '../engine/window.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { type Context, openContext } from './context.js';
import { whyView } from './why.js';

const T = (s: string) => Date.parse(s);
const KEY = 'orders@daily@2026-06-01T03:00:00Z';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `orders` (scheduled): upstream-dependency is push-only, row-count has an evaluator. `adhoc`: same, on demand. */
async function setup(now: string, windows: WindowRecord[] = []) {
  const t = tempDir('interlock-why-');
  cleanups.push(t.cleanup);
  copyFixtureEvaluators(t.dir);
  const traits =
    'traits:\n  upstream-dependency:\n    evaluator: push\n    ttl: 1h\n  row-count:\n    evaluator: pass\n    ttl: 30m\n';
  writeFiles(t.dir, {
    'interlock.yaml': 'provider: memory\n',
    'archetypes/etl.yaml': 'name: etl\nrequiredTraits:\n  - type: upstream-dependency\n  - type: row-count\n',
    'pipelines/orders.yaml': `name: orders\narchetype: etl\n${traits}trigger:\n  type: command\n  command: "true"\n`,
    'pipelines/adhoc.yaml': `name: adhoc\narchetype: etl\n${traits}`,
  });
  const store = new MemoryStore();
  const clock = new FakeClock(T(now));
  const ctx: Context = await openContext({ cwd: t.dir, env: process.env, store, clock, log: recordingLogger() });
  cleanups.push(() => ctx.close());
  ctx.project.watch.set('orders', ordersWatch());
  for (const w of windows) expect((await store.createWindow(w)).ok).toBe(true);
  return { ctx, store, clock };
}

const fail = (trait: string, reason: string): BlockingTrait => ({
  trait,
  state: 'FAIL',
  reasonCode: trait === 'upstream-dependency' ? 'PUSHED_FAIL' : 'EVALUATOR_FAIL',
  reason,
});

/** One recorded evaluation at `at`: these results stored, a decision blocked by `blocking`. */
async function decide(
  store: MemoryStore,
  pipeline: string,
  at: string,
  blocking: BlockingTrait[],
  results: TraitResult[],
) {
  const rule = { type: 'all-required-pass' as const };
  const outcome = blocking.length ? ('NOT_READY' as const) : ('READY' as const);
  const decidedAt = T(at);
  await store.saveEvaluation({
    results,
    readiness: { pipeline, outcome, rule, traits: [], blocking, decidedAt },
    decision: { id: `d-${at}`, pipeline, source: 'watcher', rule, outcome, traits: [], blocking, decidedAt },
  });
}

const failing = (trait: string, at: string, expires: string, pipeline = 'orders', value?: Record<string, unknown>) => ({
  ...traitResult(trait, 'FAIL', T(at), T(expires), pipeline),
  reasonCode: trait === 'upstream-dependency' ? ('PUSHED_FAIL' as const) : ('EVALUATOR_FAIL' as const),
  reason: trait === 'upstream-dependency' ? 'marker data/upstream/_SUCCESS missing' : 'only 12 rows',
  ...(value ? { value } : {}),
});

describe('whyView', () => {
  it('names each blocking trait with since-when from the decision streak, TTL left and what would unblock it', async () => {
    const open = ordersWindow('2026-06-01T03:00:00Z', 'OPEN', {
      version: 3,
      lastDecision: {
        outcome: 'NOT_READY',
        blocking: [fail('upstream-dependency', 'marker missing'), fail('row-count', 'only 12 rows')],
        decisionId: 'd-2026-06-01T04:00:00Z',
        decidedAt: T('2026-06-01T04:00:00Z'),
      },
      nextEvaluationAt: T('2026-06-01T04:12:00Z'),
    });
    const { ctx, store } = await setup('2026-06-01T04:05:00Z', [open]);
    const upstream = fail('upstream-dependency', 'marker data/upstream/_SUCCESS missing');
    const rows = fail('row-count', 'only 12 rows');
    // 05:30 only row-count blocked; 05:35 nothing; 05:40, 05:50 upstream; from 05:50 both (local, UTC+2).
    await decide(store, 'orders', '2026-06-01T03:30:00Z', [rows], []);
    await decide(store, 'orders', '2026-06-01T03:35:00Z', [], []);
    await decide(
      store,
      'orders',
      '2026-06-01T03:40:00Z',
      [upstream],
      [failing('upstream-dependency', '2026-06-01T03:40:00Z', '2026-06-01T04:40:00Z')],
    );
    await decide(
      store,
      'orders',
      '2026-06-01T03:50:00Z',
      [upstream, rows],
      [failing('row-count', '2026-06-01T03:50:00Z', '2026-06-01T04:20:00Z', 'orders', { rows: 12 })],
    );
    await decide(store, 'orders', '2026-06-01T04:00:00Z', [upstream, rows], []);

    const v = await whyView(ctx, 'orders');
    expect(v.outcome).toBe('NOT_READY');
    expect(v.summary).toBe('NOT_READY: blocked by upstream-dependency (FAIL), row-count (FAIL)');
    expect(v.scheduled).toBe(true);
    expect(v.window?.key).toBe(KEY);
    expect(v.window?.deadline.local).toBe('2026-06-01T09:00:00+02:00');
    expect(v.deadlineInMs).toBe(T('2026-06-01T07:00:00Z') - T('2026-06-01T04:05:00Z'));
    expect(v.blocking.map((b) => [b.trait, b.blockingSince?.local, b.sinceFrom, b.ttlLeftMs, b.unblock])).toEqual([
      [
        'upstream-dependency',
        '2026-06-01T05:40:00+02:00',
        'decisions',
        35 * 60_000,
        'push PASS for upstream-dependency (interlock push orders upstream-dependency --status PASS)',
      ],
      [
        'row-count',
        '2026-06-01T05:50:00+02:00',
        'decisions',
        15 * 60_000,
        'evaluator re-runs at 06:12 (2026-06-01T06:12:00+02:00)',
      ],
    ]);
    expect(v.blocking[0]).toMatchObject({
      source: 'push-only',
      reasonCode: 'PUSHED_FAIL',
      reason: 'marker data/upstream/_SUCCESS missing',
      unblockBy: 'push-pass',
      sinceAtLeast: false,
    });
    expect(v.blocking[1]).toMatchObject({ source: 'evaluator', value: { rows: 12 }, unblockBy: 'next-evaluation' });
    expect(v.blocking[1]?.unblockAt?.utc).toBe('2026-06-01T04:12:00Z');
  });

  it('a result that expired after the last decision is STALE since its expiry; a due evaluation says "now"', async () => {
    const open = ordersWindow('2026-06-01T03:00:00Z', 'OPEN', { version: 3 });
    const { ctx, store, clock } = await setup('2026-06-01T03:50:00Z', [open]);
    await decide(
      store,
      'orders',
      '2026-06-01T03:40:00Z',
      [],
      [
        { ...traitResult('upstream-dependency', 'PASS', T('2026-06-01T03:40:00Z'), T('2026-06-01T04:40:00Z')) },
        { ...traitResult('row-count', 'PASS', T('2026-06-01T03:40:00Z'), T('2026-06-01T04:10:00Z')) },
      ],
    );
    expect((await whyView(ctx, 'orders')).summary).toBe('READY: every required trait passes; nothing blocks a run');
    clock.set(T('2026-06-01T04:15:00Z'));
    const v = await whyView(ctx, 'orders');
    expect(v.blocking).toHaveLength(1);
    expect(v.blocking[0]).toMatchObject({
      trait: 'row-count',
      state: 'STALE',
      sinceFrom: 'ttl',
      blockingSince: { local: '2026-06-01T06:10:00+02:00' },
      ttlLeftMs: null,
      unblockBy: 'evaluation-due',
      unblock: 'evaluator re-runs now (the watcher is due)',
    });
  });

  it('an on-demand pipeline gets the readiness part only; a never-evaluated trait has no since', async () => {
    const { ctx } = await setup('2026-06-01T04:00:00Z');
    const v = await whyView(ctx, 'adhoc');
    expect(v).toMatchObject({
      scheduled: false,
      window: null,
      nextWindow: null,
      deadlineInMs: null,
      outcome: 'NOT_READY',
    });
    expect(v.blocking.map((b) => [b.trait, b.state, b.blockingSince, b.unblockBy])).toEqual([
      ['upstream-dependency', 'STALE', null, 'push-pass'],
      ['row-count', 'STALE', null, 'evaluate-on-demand'],
    ]);
    expect(v.blocking[1]?.unblock).toBe(
      'evaluator re-runs on demand: interlock evaluate adhoc (or interlock run adhoc)',
    );
  });

  it("shows the window's attempts and the last runs with their outcomes; --window picks an ended window", async () => {
    const claimedAt = T('2026-05-31T03:31:00Z');
    const prev = 'orders@daily@2026-05-31T03:00:00Z';
    const missed = ordersWindow('2026-05-31T03:00:00Z', 'MISSED', {
      version: 6,
      attempts: [
        {
          attempt: 1,
          runId: 'r1',
          runKey: `${prev}#1`,
          claimedAt,
          finishedAt: claimedAt + 1000,
          result: 'FAILED',
          category: 'TRANSIENT',
          error: 'HTTP 503',
        },
      ],
      terminal: { at: T('2026-05-31T07:00:00Z'), reason: 'retries exhausted: trigger failed (HTTP 503)' },
    } as Partial<WindowRecord>);
    const { ctx, store } = await setup('2026-06-01T02:00:00Z', [missed]);
    const run = newRun({
      runId: 'r1',
      pipeline: 'orders',
      source: 'watcher',
      now: claimedAt,
      deadlineAt: claimedAt + 3600_000,
    });
    expect((await store.createRun({ ...run, runKey: `${prev}#1`, window: { key: prev, attempt: 1 } })).ok).toBe(true);
    const failed = { ...run, status: 'FAILED' as const, version: 2, updatedAt: claimedAt + 1000, reason: 'HTTP 503' };
    expect((await store.casRun(failed, 1)).ok).toBe(true);

    const now = await whyView(ctx, 'orders');
    // No live window: the next one to open is shown instead, and the last runs carry the failure.
    expect(now.window).toBeNull();
    expect(now.nextWindow?.key).toBe(KEY);
    expect(now.lastRuns.map((r) => [r.runId, r.status, r.reason])).toEqual([['r1', 'FAILED', 'HTTP 503']]);

    const v = await whyView(ctx, 'orders', { window: prev });
    expect(v.window?.key).toBe(prev);
    expect(v.summary).toBe('window MISSED: retries exhausted: trigger failed (HTTP 503)');
    expect(v.window?.attempts.map((a) => [a.attempt, a.result, a.error, a.run?.status])).toEqual([
      [1, 'FAILED', 'HTTP 503', 'FAILED'],
    ]);
  });

  it('refuses a window of another pipeline (INVALID_REQUEST) and an unknown one (NOT_FOUND)', async () => {
    const { ctx } = await setup('2026-06-01T04:00:00Z');
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof InterlockError ? e.code : String(e)),
      );
    expect(await code(whyView(ctx, 'adhoc', { window: KEY }))).toBe('INVALID_REQUEST');
    expect(await code(whyView(ctx, 'orders', { window: KEY }))).toBe('NOT_FOUND');
    expect(await code(whyView(ctx, 'orders', { window: 'nope' }))).toBe('INVALID_REQUEST');
    expect(await code(whyView(ctx, 'ghost'))).toBe('PIPELINE_NOT_FOUND');
  });
});
