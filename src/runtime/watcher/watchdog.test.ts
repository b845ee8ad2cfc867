// The watchdog and the drift monitor with the fake clock on the memory store: an async run nobody calls back is
// RUN_STUCK once at its expected duration and TIMED_OUT at its deadline by timer (on-demand run, nothing touches the
// pipeline); a pushed required trait of an open window raises TRAIT_STALE at its TTL instant, once; after COMPLETED
// the monitored trait drifting raises DRIFT_DETECTED once per episode, and onDrift rerun fires `#rerun-1` once the
// evidence holds again, never a second time past maxReruns, and never twice across two replicas.
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { openGateContext, recordAlerts, writeGateProject } from '../../../test/support/runtime-context.js';
import type { PipelineWatchConfig } from '../../config/index.js';
import type { Alert } from '../../core/types.js';
import { DEFAULT_RETRY, newRun } from '../../engine/index.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import type { Context } from '../context.js';
import { pushTraitResult } from '../push.js';
import { moveRun } from '../touch.js';
import { whyView } from '../why.js';
import { Watcher } from './watcher.js';

const T0 = 1_700_000_000_000; // 22:13:20Z
const HOUR = 3_600_000;
const MIN = 60_000;
const nextHour = (t: number) => Math.ceil(t / HOUR) * HOUR;

const dirs: string[] = [];
const open: Array<{ ctx: Context; watcher: Watcher }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.watcher.stop();
    await o.ctx.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function settle(...ws: Watcher[]): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    await Promise.all(ws.map((w) => w.idle()));
    await new Promise((r) => setImmediate(r));
    if (ws.every((w) => w.busy === 0)) return;
  }
}

async function advanceTo(clock: FakeClock, t: number, ...ws: Watcher[]): Promise<void> {
  await settle(...ws);
  while (clock.now() < t) {
    const next = clock.nextTimerAt();
    clock.advance((next !== undefined && next <= t ? Math.max(next, clock.now()) : t) - clock.now());
    await settle(...ws);
  }
}

/**
 * Pipeline p: required `gate` (PASS while the file `gate` exists, ttl 600 s) and, with `push`, a required pushed
 * `feed` (ttl 60 s); a command trigger appending its run key to `fired`. Hourly windows, catch-up skip.
 */
function project(opts: { push?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'interlock-watchdog-'));
  dirs.push(root);
  writeGateProject(root, {
    config: 'provider: memory\n',
    trait: 'gate',
    files: {
      'archetypes/gate.yaml': `name: gate\nrequiredTraits:\n  - type: gate\n${opts.push ? '  - type: feed\n' : ''}`,
      'evaluators/gate': `#!/bin/sh\nif [ -e '${join(root, 'gate')}' ]; then echo '{"status":"PASS"}'; else echo '{"status":"FAIL","reason":"gate shut"}'; fi\n`,
      'pipelines/p.yaml': [
        'name: p',
        'archetype: gate',
        'traits:',
        '  gate:',
        '    evaluator: gate',
        '    ttl: 600',
        ...(opts.push ? ['  feed:', '    evaluator: push', '    ttl: 60'] : []),
        'trigger:',
        '  type: command',
        `  command: "echo $INTERLOCK_RUN_KEY >> '${join(root, 'fired')}'"`,
        '',
      ].join('\n'),
    },
  });
  return root;
}

function watchConfig(extra: Partial<PipelineWatchConfig> = {}): PipelineWatchConfig {
  return {
    schedules: [{ name: 'hourly', cron: '0 * * * *', timezone: 'UTC', catchup: 'skip' }],
    reevaluateMs: MIN,
    retry: DEFAULT_RETRY,
    mode: 'live',
    ...extra,
  };
}

async function replica(
  root: string,
  store: MemoryStore,
  clock: FakeClock,
  holder: string,
  watch?: PipelineWatchConfig,
) {
  const { ctx } = await openGateContext(root, { store, clock });
  if (watch) ctx.project.watch.set('p', watch);
  const alerts = recordAlerts(ctx);
  const watcher = new Watcher(ctx, { holder, random: () => 0.5 });
  open.push({ ctx, watcher });
  return { ctx, watcher, alerts };
}

const kinds = (alerts: Alert[], kind: string) => alerts.filter((a) => a.kind === kind);
const fired = (root: string) =>
  existsSync(join(root, 'fired')) ? readFileSync(join(root, 'fired'), 'utf8').trim().split('\n') : [];

/** An on-demand async run of p, RUNNING (accepted, waiting for its callback) with a deadline `maxMs` from now. */
async function asyncRun(ctx: Context, clock: FakeClock, maxMs: number) {
  const created = await ctx.store.createRun(
    newRun({ runId: 'r1', pipeline: 'p', source: 'cli', now: clock.now(), deadlineAt: clock.now() + maxMs }),
  );
  expect(created.ok).toBe(true);
  const pending = await ctx.store.getRun('r1');
  const triggering = await moveRun(ctx, pending!, 'TRIGGERING', { triggerType: 'http' });
  return moveRun(ctx, triggering!, 'RUNNING', { trigger: { ok: true, async: true } as never });
}

describe('watchdog (fake clock)', () => {
  it('an on-demand async run without a callback: RUN_STUCK once at expectedDuration, TIMED_OUT at its deadline by timer', async () => {
    const root = project();
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    const watch = watchConfig({ sla: { expectedDurationMs: 10 * MIN } });
    const a = await replica(root, store, clock, 'A', watch);
    const b = await replica(root, store, clock, 'B', watch);
    await a.watcher.start();
    await b.watcher.start();
    await settle(a.watcher, b.watcher);
    // Started by "interlock run" in another process: no watcher event on A's bus; A learns of it from the change feed.
    const other = await replica(root, store, clock, 'C');
    await asyncRun(other.ctx, clock, 30 * MIN);
    await settle(a.watcher, b.watcher);
    const startedAt = clock.now();
    expect(a.watcher.status().leading).toBe(true);

    await advanceTo(clock, startedAt + 10 * MIN - 1, a.watcher, b.watcher);
    expect(kinds([...a.alerts, ...b.alerts], 'RUN_STUCK')).toHaveLength(0);
    await advanceTo(clock, startedAt + 10 * MIN, a.watcher, b.watcher);
    const stuck = kinds([...a.alerts, ...b.alerts], 'RUN_STUCK');
    expect(stuck).toHaveLength(1);
    expect(stuck[0]?.timestamp).toBe(startedAt + 10 * MIN);
    expect(stuck[0]?.message).toContain('RUNNING 10m, waiting for a callback (none received), times out at 22:43');
    expect((await store.getRun('r1'))?.status).toBe('RUNNING');
    // why says what it waits for.
    const why = await whyView(a.ctx, 'p');
    expect(why.summary).toContain('waiting for a callback (none received)');

    // A restart of the leader between stuck and timeout: still once.
    await a.watcher.stop();
    await advanceTo(clock, startedAt + 30 * MIN - 1, b.watcher);
    await b.watcher.tickLease();
    await settle(b.watcher);
    expect((await store.getRun('r1'))?.status).toBe('RUNNING');
    await advanceTo(clock, startedAt + 30 * MIN, b.watcher);
    const run = await store.getRun('r1');
    expect(run?.status).toBe('TIMED_OUT');
    expect(run?.finishedAt).toBe(startedAt + 30 * MIN);
    expect(kinds([...a.alerts, ...b.alerts], 'RUN_STUCK')).toHaveLength(1);
    expect(kinds(b.alerts, 'RUN_TIMED_OUT')).toHaveLength(1);
  });

  it('without a leader nothing times the run out by timer (behaviour as before)', async () => {
    const root = project();
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    const other = await replica(root, store, clock, 'C');
    await asyncRun(other.ctx, clock, 60_000);
    clock.advance(120_000);
    expect((await store.getRun('r1'))?.status).toBe('RUNNING');
  });

  it('TRAIT_STALE at the TTL instant of a pushed required trait of an open window, once per expired result', async () => {
    const root = project({ push: true });
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    const a = await replica(root, store, clock, 'A', watchConfig());
    await a.watcher.start();
    const open1 = nextHour(T0);
    await advanceTo(clock, open1 + 1000, a.watcher);
    expect((await store.listWindows('p'))[0]?.state).toBe('OPEN');
    await pushTraitResult(a.ctx, 'p', 'feed', { status: 'PASS' });
    const pushedAt = clock.now();
    await settle(a.watcher);
    await advanceTo(clock, pushedAt + 60_000 - 1, a.watcher);
    expect(kinds(a.alerts, 'TRAIT_STALE')).toHaveLength(0);
    await advanceTo(clock, pushedAt + 60_000, a.watcher);
    const stale = kinds(a.alerts, 'TRAIT_STALE');
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ trait: 'feed', timestamp: pushedAt + 60_000 });
    expect(stale[0]?.window).toContain('p@hourly@');
    await advanceTo(clock, pushedAt + 10 * MIN, a.watcher);
    expect(kinds(a.alerts, 'TRAIT_STALE')).toHaveLength(1);
    // A new push that expires again: a second alert (another expired result).
    await pushTraitResult(a.ctx, 'p', 'feed', { status: 'PASS' });
    const again = clock.now();
    await advanceTo(clock, again + 60_000, a.watcher);
    expect(kinds(a.alerts, 'TRAIT_STALE')).toHaveLength(2);
  });

  it('drift after COMPLETED: DRIFT_DETECTED once per episode naming the trait; onDrift alert never reruns', async () => {
    const root = project();
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    const monitor = { durationMs: 2 * HOUR, onDrift: 'alert' as const, maxReruns: 1, traits: ['gate'] };
    const a = await replica(root, store, clock, 'A', watchConfig({ monitor }));
    await a.watcher.start();
    writeFileSync(join(root, 'gate'), '');
    const open1 = nextHour(T0);
    await advanceTo(clock, open1 + 1000, a.watcher);
    expect((await store.listWindows('p'))[0]?.state).toBe('COMPLETED');
    const evaluatedAt = (await store.getTraitResult('p', 'gate'))?.evaluatedAt ?? 0;
    unlinkSync(join(root, 'gate'));
    await advanceTo(clock, evaluatedAt + 600_000 - 1, a.watcher);
    expect(kinds(a.alerts, 'DRIFT_DETECTED')).toHaveLength(0);
    await advanceTo(clock, evaluatedAt + 600_000, a.watcher);
    const drift = kinds(a.alerts, 'DRIFT_DETECTED');
    expect(drift).toHaveLength(1);
    expect(drift[0]?.timestamp).toBe(evaluatedAt + 600_000);
    expect(drift[0]?.message).toContain('gate FAIL: gate shut');
    // Still drifted: no second alert.
    await advanceTo(clock, evaluatedAt + 30 * MIN, a.watcher);
    expect(kinds(a.alerts, 'DRIFT_DETECTED')).toHaveLength(1);
    // Holds again, then drifts again: a new episode, a new alert; never a rerun.
    writeFileSync(join(root, 'gate'), '');
    await advanceTo(clock, evaluatedAt + 32 * MIN, a.watcher);
    unlinkSync(join(root, 'gate'));
    await advanceTo(clock, evaluatedAt + 45 * MIN, a.watcher);
    expect(kinds(a.alerts, 'DRIFT_DETECTED')).toHaveLength(2);
    expect(fired(root)).toHaveLength(1);
  });

  it('onDrift rerun: `#rerun-1` fires once the evidence holds again, once across two replicas, capped at maxReruns', async () => {
    const root = project();
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    const monitor = { durationMs: 2 * HOUR, onDrift: 'rerun' as const, maxReruns: 1 };
    const watch = watchConfig({ monitor });
    const a = await replica(root, store, clock, 'A', watch);
    const b = await replica(root, store, clock, 'B', watch);
    await a.watcher.start();
    await b.watcher.start();
    writeFileSync(join(root, 'gate'), '');
    const open1 = nextHour(T0);
    await advanceTo(clock, open1 + 1000, a.watcher, b.watcher);
    const [w] = await store.listWindows('p');
    expect(w?.state).toBe('COMPLETED');
    expect(fired(root)).toEqual([`${w?.key}#1`]);
    const evaluatedAt = (await store.getTraitResult('p', 'gate'))?.evaluatedAt ?? 0;
    unlinkSync(join(root, 'gate'));
    await advanceTo(clock, evaluatedAt + 600_000, a.watcher, b.watcher);
    expect(kinds([...a.alerts, ...b.alerts], 'DRIFT_DETECTED')).toHaveLength(1);
    expect(fired(root)).toHaveLength(1); // NOT_READY: never fires on drift itself
    // The lease moves to B in the middle (A stops); B carries the wanted rerun.
    await a.watcher.stop();
    clock.advance(20_000);
    await b.watcher.tickLease();
    await settle(b.watcher);
    writeFileSync(join(root, 'gate'), '');
    await advanceTo(clock, evaluatedAt + 20 * MIN, b.watcher);
    expect(fired(root)).toEqual([`${w?.key}#1`, `${w?.key}#rerun-1`]);
    const after = await store.getWindow(w?.key ?? '');
    expect(after?.state).toBe('COMPLETED');
    expect(after?.attempts.map((x) => x.runKey)).toEqual([`${w?.key}#1`, `${w?.key}#rerun-1`]);
    expect(after?.drift?.reruns).toBe(1);
    // Drifts again: alerted (a new episode after the rerun's completion), but no second rerun (maxReruns 1).
    const second = (await store.getTraitResult('p', 'gate'))?.evaluatedAt ?? 0;
    unlinkSync(join(root, 'gate'));
    await advanceTo(clock, second + 600_000, b.watcher);
    const drifts = kinds([...a.alerts, ...b.alerts], 'DRIFT_DETECTED');
    expect(drifts).toHaveLength(2);
    expect(drifts[1]?.message).toContain('no rerun: 1 rerun(s) used');
    writeFileSync(join(root, 'gate'), '');
    await advanceTo(clock, second + 40 * MIN, b.watcher);
    expect(fired(root)).toHaveLength(2);
  });
});
