// Issue 11 item 3: every run transition publishes exactly one run.transitioned event (and a new run one
// run.created), and alerting subscribes to those events: memory store, fake clock.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../test/support/fake-clock.js';
import type { recordingLogger } from '../../test/support/recording-logger.js';
import { gatePipeline, openGateContext, recordAlerts, writeGateProject } from '../../test/support/runtime-context.js';
import type { Alert, PipelineSpec, RunEvent, TriggerSpec } from '../core/types.js';
import { newRun } from '../engine/run-state.js';
import type { MemoryStore } from '../store/memory/memory-store.js';
import { cancelRun } from './cancel.js';
import { completeRun } from './complete.js';
import type { Context } from './context.js';
import { evaluateWithAlerts } from './evaluate.js';
import { runPipeline } from './run.js';
import { getRunState } from './runs.js';
import { moveRun } from './touch.js';

const T0 = 1_700_000_000_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Recorded {
  ctx: Context;
  root: string;
  store: MemoryStore;
  clock: FakeClock;
  transitions: Array<{ runId: string; from: string; to: string; version: number }>;
  created: string[];
  raised: Alert[];
  sent: Alert[];
}

/** A project whose evaluator passes while `gate` exists, and a context recording what the bus carried. */
async function context(): Promise<Recorded> {
  const root = mkdtempSync(join(tmpdir(), 'interlock-run-events-'));
  dirs.push(root);
  writeGateProject(root, {
    files: {
      'evaluators/gate': `#!/bin/sh\nif [ -e '${join(root, 'gate')}' ]; then echo '{"status":"PASS"}'; else echo '{"status":"FAIL","reason":"shut"}'; fi\n`,
    },
  });
  const { ctx, store, clock } = await openGateContext(root, { start: T0 });
  const r: Recorded = {
    ctx,
    root,
    store,
    clock,
    transitions: [],
    created: [],
    raised: [],
    sent: recordAlerts(ctx),
  };
  ctx.events.subscribe('run.transitioned', (e) => {
    expect(e.from).toBe(e.before.status);
    expect(e.run.version).toBe(e.before.version + 1);
    r.transitions.push({ runId: e.run.runId, from: e.from, to: e.run.status, version: e.run.version });
  });
  ctx.events.subscribe('run.created', (e) => {
    r.created.push(e.run.runId);
  });
  ctx.events.subscribe('alert.raised', (e) => {
    r.raised.push(e.alert);
  });
  return r;
}

function spec(root: string, trigger: TriggerSpec): PipelineSpec {
  return gatePipeline(root, trigger);
}

const key = (e: { runId: string; version: number }) => `${e.runId}#${String(e.version).padStart(4, '0')}`;

/** The store's own transition log (written atomically with each compare-and-swap) must match the bus one for one. */
async function expectOneEventPerTransition(r: Recorded): Promise<void> {
  const stored: RunEvent[] = await r.store.listRunEvents('p', { limit: 1000 });
  // A status change is a transition; the store also logs annotations (same status: the command's process recorded).
  const moves = stored.filter((e) => e.from !== null && e.from !== e.to);
  const byKey = (a: { runId: string; version: number }, b: { runId: string; version: number }) =>
    key(a).localeCompare(key(b));
  expect([...r.transitions].sort(byKey)).toEqual(
    moves.map((e) => ({ runId: e.runId, from: e.from, to: e.to, version: e.version })).sort(byKey),
  );
  expect(new Set(r.transitions.map(key)).size).toBe(r.transitions.length);
}

describe('run.transitioned', () => {
  it('is published once for every transition of every kind of run, and run.created once per new run', async () => {
    const r = await context();
    const { ctx, root, store, clock } = r;
    await store.putPipeline(spec(root, { type: 'command', command: 'true' }));

    // NOT_READY: PENDING → BLOCKED; a PIPELINE_BLOCKED and a TRAIT_FAILED alert, sent after the run.
    expect((await runPipeline(ctx, 'p', { source: 'test' })).kind).toBe('blocked');
    // READY: PENDING → TRIGGERING → COMPLETED; PIPELINE_READY again.
    writeFileSync(join(root, 'gate'), '');
    clock.advance(1000);
    expect((await runPipeline(ctx, 'p', { source: 'test' })).kind).toBe('triggered');
    // A failing trigger: PENDING → TRIGGERING → FAILED with TRIGGER_FAILED.
    await store.putPipeline(spec(root, { type: 'command', command: 'exit 3' }));
    clock.advance(1000);
    expect((await runPipeline(ctx, 'p', { source: 'test' })).kind).toBe('trigger-failed');

    // A run made elsewhere (another process): TRIGGERING, then a failed completion callback → RUN_FAILED.
    clock.advance(1000);
    const other = newRun({
      runId: 'r-callback',
      pipeline: 'p',
      source: 'test',
      now: clock.now(),
      deadlineAt: clock.now() + 60_000,
    });
    expect((await store.createRun(other)).ok).toBe(true);
    const triggering = await moveRun(ctx, other, 'TRIGGERING', {
      triggerType: 'http',
      deadlineAt: clock.now() + 60_000,
    });
    expect(triggering?.status).toBe('TRIGGERING');
    expect((await completeRun(ctx, 'r-callback', 'failed', { why: 'x' })).run.status).toBe('FAILED');
    // The same callback again is a no-op: no transition, no event.
    expect((await completeRun(ctx, 'r-callback', 'failed')).changed).toBe(false);

    // Cancelled: PENDING → CANCELLED.
    const cancelled = newRun({
      runId: 'r-cancel',
      pipeline: 'p',
      source: 'test',
      now: clock.now(),
      deadlineAt: clock.now() + 60_000,
    });
    expect((await store.createRun(cancelled)).ok).toBe(true);
    expect((await cancelRun(ctx, 'r-cancel')).run.status).toBe('CANCELLED');

    // Timed out on the next touch: PENDING → TIMED_OUT with RUN_TIMED_OUT.
    const overdue = newRun({
      runId: 'r-late',
      pipeline: 'p',
      source: 'test',
      now: clock.now(),
      deadlineAt: clock.now() + 60_000,
    });
    expect((await store.createRun(overdue)).ok).toBe(true);
    clock.advance(120_000);
    expect((await getRunState(ctx, 'r-late')).status).toBe('TIMED_OUT');

    await expectOneEventPerTransition(r);
    expect(r.transitions.map((t) => `${t.from}>${t.to}`)).toEqual([
      'PENDING>BLOCKED',
      'PENDING>TRIGGERING',
      'TRIGGERING>COMPLETED',
      'PENDING>TRIGGERING',
      'TRIGGERING>FAILED',
      'PENDING>TRIGGERING',
      'TRIGGERING>FAILED',
      'PENDING>CANCELLED',
      'PENDING>TIMED_OUT',
    ]);
    // run.created: the three runs runPipeline made (the others were created straight in the store).
    const stored = await store.listRunEvents('p', { limit: 1000 });
    const made = stored.filter((e) => e.from === null && !e.runId.startsWith('r-')).map((e) => e.runId);
    expect([...r.created].sort()).toEqual(made.sort());
    expect(r.created).toHaveLength(3);

    // Alerting subscribes: what it raised is what was sent, each once, in order.
    expect(r.raised.map((a) => a.kind)).toEqual([
      'TRAIT_FAILED',
      'PIPELINE_BLOCKED',
      'PIPELINE_READY',
      'TRIGGER_FAILED',
      'RUN_FAILED',
      'RUN_TIMED_OUT',
    ]);
    expect(r.sent).toEqual(r.raised);
    expect(r.raised.find((a) => a.kind === 'RUN_TIMED_OUT')).toMatchObject({
      runId: 'r-late',
      details: { previousStatus: 'PENDING', ageSeconds: 120 },
    });
    await ctx.close();
  });

  it('an evaluation publishes evaluation.decided once; a failing subscriber changes no outcome', async () => {
    const r = await context();
    const { ctx, root, store } = r;
    await store.putPipeline(spec(root, { type: 'command', command: 'true' }));
    const decided: string[] = [];
    ctx.events.subscribe('evaluation.decided', (e) => {
      decided.push(`${e.evaluation.readiness.outcome}${e.runId ? ` ${e.runId}` : ''}`);
      throw new Error('a broken subscriber');
    });
    writeFileSync(join(root, 'gate'), '');
    expect((await evaluateWithAlerts(ctx, 'p', { source: 'test' })).readiness.outcome).toBe('READY');
    const run = await runPipeline(ctx, 'p', { source: 'test' });
    expect(run.kind).toBe('triggered');
    expect(decided).toEqual(['READY', `READY ${run.kind === 'triggered' ? run.run.runId : ''}`]);
    const log = (ctx.log as ReturnType<typeof recordingLogger>).messages('error');
    expect(log).toEqual([
      'a subscriber of evaluation.decided failed: a broken subscriber',
      'a subscriber of evaluation.decided failed: a broken subscriber',
    ]);
    await ctx.close();
  });

  it('alerts raised by concurrent use-cases are sent with their own use-case, never mixed', async () => {
    const r = await context();
    const { ctx, root, store } = r;
    await store.putPipeline(spec(root, { type: 'command', command: 'true' }));
    await store.putPipeline({ ...spec(root, { type: 'command', command: 'true' }), name: 'q' });
    const batches: string[][] = [];
    const dispatch = ctx.alerts.dispatch;
    ctx.alerts.dispatch = async (alerts) => {
      batches.push(alerts.map((a) => `${a.pipeline}:${a.kind}`));
      return dispatch(alerts);
    };
    await Promise.all([
      evaluateWithAlerts(ctx, 'p', { source: 'test' }),
      evaluateWithAlerts(ctx, 'q', { source: 'test' }),
    ]);
    expect(batches.map((b) => b.join(' ')).sort()).toEqual([
      'p:TRAIT_FAILED p:PIPELINE_BLOCKED',
      'q:TRAIT_FAILED q:PIPELINE_BLOCKED',
    ]);
    await ctx.close();
  });
});
