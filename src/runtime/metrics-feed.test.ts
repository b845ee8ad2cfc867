// Each metric's update from the bus, the state gauges from the store at scrape time, and the store timings: memory
// store, fake clock, a real evaluator script and a real command trigger.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { recordingLogger } from '../../test/support/recording-logger.js';
import { newWindow } from '../engine/window.js';
import { Metrics } from '../observability/metrics.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { type Context, openContext } from './context.js';
import { evaluateWithAlerts } from './evaluate.js';
import { instrumentStore, metricsState, subscribeMetrics } from './metrics-feed.js';
import { pushTraitResult } from './push.js';
import { runPipeline } from './run.js';

const T0 = 1_700_000_000_000;
const dirs: string[] = [];
const contexts: Context[] = [];
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Pipeline `p`: required trait `a` (PASS while the file `gate` exists, ttl 600 s) and optional `b` (always PASS, no
 * ttl), a command trigger `true`; pipeline `q` without a trigger. Metrics fed from the bus, state from the store.
 */
async function setup(extraConfig = '') {
  const root = mkdtempSync(join(tmpdir(), 'interlock-metrics-'));
  dirs.push(root);
  for (const d of ['evaluators', 'archetypes', 'pipelines']) mkdirSync(join(root, d));
  writeFileSync(join(root, 'interlock.yaml'), `provider: memory\n${extraConfig}`);
  writeFileSync(
    join(root, 'archetypes', 'gate.yaml'),
    'name: gate\nrequiredTraits:\n  - type: a\noptionalTraits:\n  - type: b\n',
  );
  writeFileSync(
    join(root, 'evaluators', 'gate'),
    `#!/bin/sh\nif [ -e '${join(root, 'gate')}' ]; then echo '{"status":"PASS"}'; else echo '{"status":"FAIL","reason":"shut"}'; fi\n`,
    { mode: 0o755 },
  );
  writeFileSync(join(root, 'evaluators', 'ok'), `#!/bin/sh\necho '{"status":"PASS"}'\n`, { mode: 0o755 });
  const traits = 'traits:\n  a:\n    evaluator: gate\n    ttl: 600\n  b:\n    evaluator: ok\n';
  writeFileSync(
    join(root, 'pipelines', 'p.yaml'),
    `name: p\narchetype: gate\n${traits}trigger:\n  type: command\n  command: "true"\n`,
  );
  writeFileSync(join(root, 'pipelines', 'q.yaml'), `name: q\narchetype: gate\n${traits}`);
  const clock = new FakeClock(T0);
  const memory = new MemoryStore();
  const ctx = await openContext({ cwd: root, env: process.env, store: memory, clock, log: recordingLogger() });
  contexts.push(ctx);
  const m = new Metrics({ version: '9.9.9-test', defaultMetrics: false });
  // A store clock that moves 3 ms per reading: every operation takes 3 ms.
  let fakeNow = 0;
  ctx.store = instrumentStore(ctx.store, m, () => (fakeNow += 3));
  subscribeMetrics(ctx, m);
  m.setStateSource(metricsState(ctx));
  return { root, ctx, clock, m, open: () => writeFileSync(join(root, 'gate'), '') };
}

/** The value of one sample of the exposition (`name{labels}` exactly as printed), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe('metrics fed from the bus', () => {
  it('an evaluation counts by pipeline, source and outcome and times each evaluator', async () => {
    const { ctx, m, open } = await setup();
    await evaluateWithAlerts(ctx, 'p', { source: 'cli' });
    open();
    await evaluateWithAlerts(ctx, 'p', { source: 'api' });
    const text = await m.render();
    expect(sample(text, 'interlock_evaluations_total{pipeline="p",source="cli",outcome="NOT_READY"}')).toBe(1);
    expect(sample(text, 'interlock_evaluations_total{pipeline="p",source="api",outcome="READY"}')).toBe(1);
    expect(sample(text, 'interlock_evaluator_duration_seconds_count{pipeline="p",trait="a",status="FAIL"}')).toBe(1);
    expect(sample(text, 'interlock_evaluator_duration_seconds_count{pipeline="p",trait="a",status="PASS"}')).toBe(1);
    expect(sample(text, 'interlock_evaluator_duration_seconds_count{pipeline="p",trait="b",status="PASS"}')).toBe(2);
    expect(text).toContain('interlock_build_info{version="9.9.9-test"} 1');
  });

  it('state gauges are read from the store at scrape time: ready, trait state, TTL counting down, then STALE', async () => {
    const { ctx, clock, m, open } = await setup();
    let text = await m.render();
    // Never evaluated: every trait STALE, not ready; no TTL series without a result.
    expect(sample(text, 'interlock_pipeline_ready{pipeline="p"}')).toBe(0);
    expect(sample(text, 'interlock_trait_state{pipeline="p",trait="a",state="STALE"}')).toBe(1);
    expect(sample(text, 'interlock_trait_ttl_remaining_seconds{pipeline="p",trait="a"}')).toBeUndefined();

    open();
    await evaluateWithAlerts(ctx, 'p', { source: 'cli' });
    clock.advance(100_000);
    text = await m.render();
    expect(sample(text, 'interlock_pipeline_ready{pipeline="p"}')).toBe(1);
    expect(sample(text, 'interlock_pipeline_ready{pipeline="q"}')).toBe(0);
    expect(sample(text, 'interlock_trait_state{pipeline="p",trait="a",state="PASS"}')).toBe(1);
    expect(sample(text, 'interlock_trait_state{pipeline="p",trait="a",state="FAIL"}')).toBe(0);
    expect(sample(text, 'interlock_trait_state{pipeline="p",trait="a",state="STALE"}')).toBe(0);
    expect(sample(text, 'interlock_trait_ttl_remaining_seconds{pipeline="p",trait="a"}')).toBe(500);
    // b has no TTL: no series (it never expires).
    expect(sample(text, 'interlock_trait_ttl_remaining_seconds{pipeline="p",trait="b"}')).toBeUndefined();
    expect(sample(text, 'interlock_runs_active{pipeline="p"}')).toBe(0);

    // Past the TTL, without any event: STALE, not ready, 0 s left.
    clock.advance(600_000);
    text = await m.render();
    expect(sample(text, 'interlock_pipeline_ready{pipeline="p"}')).toBe(0);
    expect(sample(text, 'interlock_trait_state{pipeline="p",trait="a",state="STALE"}')).toBe(1);
    expect(sample(text, 'interlock_trait_ttl_remaining_seconds{pipeline="p",trait="a"}')).toBe(0);
  });

  it('an INVALID pipeline is not ready and has no trait series; a pipeline gone from the project has no series', async () => {
    const { root, ctx, m } = await setup();
    expect(sample(await m.render(), 'interlock_pipeline_ready{pipeline="q"}')).toBe(0);
    writeFileSync(join(root, 'pipelines', 'q.yaml'), 'name: q\narchetype: nope\n');
    const { reloadProject } = await import('./reload.js');
    await reloadProject(ctx, { reason: 'test' });
    const text = await m.render();
    expect(sample(text, 'interlock_pipeline_ready{pipeline="q"}')).toBe(0);
    expect(text).not.toMatch(/interlock_trait_state\{pipeline="q"/);
    rmSync(join(root, 'pipelines', 'q.yaml'));
    await reloadProject(ctx, { reason: 'test' });
    expect(await m.render()).not.toContain('pipeline="q"');
  });

  it('a run: the trigger counted by type and result, its duration by final status, the lock shown while held', async () => {
    const { ctx, clock, m, open } = await setup();
    open();
    const r = await runPipeline(ctx, 'p', {
      source: 'cli',
      onTriggering: () => {
        clock.advance(4_000);
      },
    });
    expect(r.kind === 'triggered' && r.run.status).toBe('COMPLETED');
    const text = await m.render();
    expect(sample(text, 'interlock_triggers_total{pipeline="p",type="command",result="accepted"}')).toBe(1);
    expect(sample(text, 'interlock_run_duration_seconds_count{pipeline="p",status="COMPLETED"}')).toBe(1);
    expect(sample(text, 'interlock_run_duration_seconds_sum{pipeline="p",status="COMPLETED"}')).toBe(4);
    expect(sample(text, 'interlock_runs_active{pipeline="p"}')).toBe(0);

    // A run refused (not ready): BLOCKED, no trigger counted.
    rmSync(join(ctx.project.root, 'gate'));
    await runPipeline(ctx, 'p', { source: 'cli' });
    const after = await m.render();
    expect(sample(after, 'interlock_run_duration_seconds_count{pipeline="p",status="BLOCKED"}')).toBe(1);
    expect(sample(after, 'interlock_triggers_total{pipeline="p",type="command",result="accepted"}')).toBe(1);
  });

  it('runs_active is 1 while a run holds the lock', async () => {
    const { ctx, m, open } = await setup();
    open();
    let during = '';
    await runPipeline(ctx, 'p', {
      source: 'cli',
      onTriggering: () => {
        void m.render().then((t) => {
          during = t;
        });
      },
    });
    expect(sample(during, 'interlock_runs_active{pipeline="p"}')).toBe(1);
  });

  it('alert deliveries count by kind, sink and result (a file sink that works, a webhook that refuses)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interlock-metrics-alerts-'));
    dirs.push(dir);
    const hook = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(400).end());
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
      const file = join(dir, 'alerts.jsonl');
      const { ctx, m } = await setup(
        `alerts:\n  - type: file\n    path: ${file}\n  - type: webhook\n    url: ${url}/hook\n    retries: 0\n`,
      );
      // The first evaluation fails a required trait: alerts raised, sent to both sinks once the use-case ends.
      await evaluateWithAlerts(ctx, 'p', { source: 'cli' });
      const text = await m.render();
      const kinds = [
        ...text.matchAll(/^interlock_alerts_total\{kind="([A-Z_]+)",sink="file [^"]+",result="sent"\} 1$/gm),
      ];
      expect(kinds.length).toBeGreaterThan(0);
      for (const [, kind] of kinds) {
        expect(sample(text, `interlock_alerts_total{kind="${kind}",sink="webhook ${url}",result="failed"}`)).toBe(1);
      }
    } finally {
      await new Promise<void>((r) => hook.close(() => r()));
    }
  });

  it('window writes count by pipeline and the state entered; a push that made it ready is timed to the trigger', async () => {
    const { ctx, clock, m, open } = await setup();
    const times = { openAt: T0, triggerAfter: T0, deadlineAt: T0 + 3_600_000, scheduledFor: T0, schedule: 'hourly' };
    const w0 = newWindow({ key: 'p@hourly@x', pipeline: 'p', times: times as never, mode: 'live', now: T0 });
    await ctx.events.publish('window.transitioned', { window: w0 });
    const opened = { ...w0, state: 'OPEN' as const, version: 2 };
    await ctx.events.publish('window.transitioned', { from: 'PENDING', window: opened });
    // A re-decision that leaves the state as it was is not a new window state.
    await ctx.events.publish('window.transitioned', { from: 'OPEN', window: { ...opened, version: 3 } });
    open();
    await pushTraitResult(ctx, 'p', 'a', { status: 'PASS' });
    clock.advance(1_500);
    await ctx.events.publish('window.transitioned', {
      from: 'OPEN',
      window: { ...opened, state: 'TRIGGERING', version: 4, updatedAt: clock.now() },
    });
    const text = await m.render();
    expect(sample(text, 'interlock_windows_total{pipeline="p",state="PENDING"}')).toBe(1);
    expect(sample(text, 'interlock_windows_total{pipeline="p",state="OPEN"}')).toBe(1);
    expect(sample(text, 'interlock_windows_total{pipeline="p",state="TRIGGERING"}')).toBe(1);
    expect(sample(text, 'interlock_push_to_trigger_seconds_count')).toBe(1);
    expect(sample(text, 'interlock_push_to_trigger_seconds_sum')).toBe(1.5);
    expect(sample(text, 'interlock_evaluations_total{pipeline="p",source="push",outcome="READY"}')).toBe(1);
    // The pushed result took no evaluator time.
    expect(text).not.toMatch(/interlock_evaluator_duration_seconds_count\{pipeline="p",trait="a"/);
  });

  it('every store operation is timed by its name', async () => {
    const { ctx, m } = await setup();
    await evaluateWithAlerts(ctx, 'p', { source: 'cli' });
    const text = await m.render();
    // The fake store clock: 3 ms an operation.
    expect(sample(text, 'interlock_store_operation_duration_seconds_count{op="saveEvaluation"}')).toBe(1);
    expect(sample(text, 'interlock_store_operation_duration_seconds_sum{op="saveEvaluation"}')).toBeCloseTo(0.003);
    // The scrape itself read the results and the lock of each pipeline.
    expect(sample(text, 'interlock_store_operation_duration_seconds_count{op="getActiveRun"}')).toBeGreaterThan(0);
  });

  it('the timed store passes the change feed through, called on the store itself', async () => {
    const { ctx } = await setup();
    const seen: string[] = [];
    const off = ctx.store.watchChanges((c) => seen.push(c.kind));
    await evaluateWithAlerts(ctx, 'p', { source: 'cli' });
    off();
    expect(seen.length).toBeGreaterThan(0);
  });

  it('no series carries a run id or any other unbounded value', async () => {
    const { ctx, m, open } = await setup();
    open();
    const r = await runPipeline(ctx, 'p', { source: 'cli' });
    const text = await m.render();
    expect(r.kind).toBe('triggered');
    expect(text).not.toContain('runId');
    if (r.kind === 'triggered') expect(text).not.toContain(r.run.runId);
    const labels = new Set([...text.matchAll(/[{,]([a-z_]+)="/g)].map((x) => x[1]));
    const bounded = ['kind', 'le', 'op', 'outcome', 'pipeline', 'result', 'sink', 'source', 'state', 'status'];
    for (const l of labels) expect([...bounded, 'trait', 'type', 'version']).toContain(l);
  });
});
