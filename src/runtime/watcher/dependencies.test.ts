// Event-driven dependencies with the fake clock: `report` waits (builtin:pipeline, same-day) for `orders`. Once the
// watcher has backed off on report, orders' window completing wakes report at once — it is evaluated and fires
// without the clock moving (no timer of its own came due) — and a change written by another process does the same.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { openGateContext, writeGateProject } from '../../../test/support/runtime-context.js';
import { tempDirFor } from '../../../test/support/test-cleanups.js';
import type { PipelineWatchConfig } from '../../config/index.js';
import { DEFAULT_RETRY } from '../../engine/index.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import type { Context } from '../context.js';
import { evaluateWithAlerts } from '../evaluate.js';
import { DependencyWakes } from './dependencies.js';
import { Watcher } from './watcher.js';

// 2023-11-14T22:13:20Z; hourly windows (UTC): the 23:00 windows of both pipelines are dated 2023-11-14.
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const OPEN = Math.ceil(T0 / HOUR) * HOUR;

const open: Array<{ ctx: Context; watcher: Watcher }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.watcher.stop();
    await o.ctx.close();
  }
});

const watch = (): PipelineWatchConfig => ({
  schedules: [{ name: 'hourly', cron: '0 * * * *', timezone: 'UTC', catchup: 'skip' }],
  // Long enough that report's own re-evaluation never comes due in these tests.
  reevaluateMs: 30 * 60_000,
  retry: DEFAULT_RETRY,
  mode: 'live',
});

async function setup(root: string) {
  const fired = join(root, 'fired');
  const trigger = (name: string) =>
    ['trigger:', '  type: command', `  command: "echo ${name} $INTERLOCK_WINDOW_DATE >> '${fired}'"`].join('\n');
  writeGateProject(root, {
    config: 'provider: memory\n',
    trait: 'gate',
    files: {
      'evaluators/gate': `#!/bin/sh\nif [ -e '${join(root, 'gate')}' ]; then echo '{"status":"PASS"}'; else echo '{"status":"FAIL","reason":"gate shut"}'; fi\n`,
      'archetypes/dep.yaml': 'name: dep\nrequiredTraits:\n  - type: orders-loaded\n    evaluator: builtin:pipeline\n',
      'pipelines/orders.yaml': `name: orders\narchetype: gate\ntraits:\n  gate:\n    evaluator: gate\n    ttl: 600\n${trigger('orders')}\n`,
      'pipelines/report.yaml': `name: report\narchetype: dep\ntraits:\n  orders-loaded:\n    config: { pipeline: orders, window: same-day }\n    ttl: 600\n${trigger('report')}\n`,
    },
  });
  const store = new MemoryStore();
  const clock = new FakeClock(T0);
  const { ctx } = await openGateContext(root, { store, clock });
  expect([...ctx.project.pipelines.keys()].sort()).toEqual(['orders', 'report']);
  ctx.project.watch.set('orders', watch());
  ctx.project.watch.set('report', watch());
  const watcher = new Watcher(ctx, { holder: 'A', random: () => 0.5 });
  open.push({ ctx, watcher });
  const fires = () => (existsSync(fired) ? readFileSync(fired, 'utf8').trim().split('\n') : []);
  return { ctx, store, clock, watcher, fires };
}

async function settle(w: Watcher): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    await w.idle();
    await new Promise((r) => setImmediate(r));
    if (w.busy === 0) return;
  }
}

async function advanceTo(clock: FakeClock, t: number, w: Watcher): Promise<void> {
  await settle(w);
  while (clock.now() < t) {
    const next = clock.nextTimerAt();
    clock.advance((next !== undefined && next <= t ? Math.max(next, clock.now()) : t) - clock.now());
    await settle(w);
  }
}

/** Waits (real time: subprocesses) until `check` holds, letting the watcher work. */
async function until(w: Watcher, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await settle(w);
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not reached');
}

describe('watcher: pipeline dependencies', () => {
  it("the upstream's completion wakes the downstream at once: evaluated and fired with no timer of its own due", async (t) => {
    const root = tempDirFor(t);
    const s = await setup(root);
    await s.watcher.start();
    await advanceTo(s.clock, OPEN + 1000, s.watcher);
    const [report] = await s.store.listWindows('report');
    expect(report?.state).toBe('OPEN');
    expect(report?.lastDecision?.blocking.map((b) => b.trait)).toEqual(['orders-loaded']);
    const decisions = await s.store.listDecisions('report');
    expect(decisions[0]?.traits[0]?.reason).toContain('orders window 2023-11-14 is OPEN');
    // report backs off: its next look is minutes away, and the clock stays put from here on.
    const now = s.clock.now();
    expect(report?.nextEvaluationAt).toBeGreaterThan(now + 60_000);
    expect(s.watcher.nextWakeAt('report')).toBeGreaterThan(now + 60_000);
    const before = decisions.length;

    // orders' gate opens; its evaluation (by hand) makes it READY → the watcher fires it → its window COMPLETES.
    writeFileSync(join(root, 'gate'), '');
    await evaluateWithAlerts(s.ctx, 'orders', { source: 'cli' });
    await until(s.watcher, async () => s.fires().includes('report 2023-11-14'));
    expect(s.clock.now()).toBe(now);
    expect(s.fires()).toEqual(['orders 2023-11-14', 'report 2023-11-14']);
    const [orders] = await s.store.listWindows('orders');
    expect(orders?.state).toBe('COMPLETED');
    const after = await s.store.listDecisions('report');
    expect(after.length).toBeGreaterThan(before);
    expect(after[0]?.outcome).toBe('READY');
    expect(after.some((d) => d.traits[0]?.value?.windowKey === orders?.key)).toBe(true);
    await until(s.watcher, async () => (await s.store.listWindows('report'))[0]?.state === 'COMPLETED');
  });

  it('a completion written by another process (the store change feed only) wakes the downstream too', async (t) => {
    const root = tempDirFor(t);
    const s = await setup(root);
    await s.watcher.start();
    await advanceTo(s.clock, OPEN + 1000, s.watcher);
    const now = s.clock.now();
    const [orders] = await s.store.listWindows('orders');
    expect(orders?.state).toBe('OPEN');
    // Another replica/process completed orders' window: nothing on this process's bus, only the store's feed.
    const done = {
      ...(orders as NonNullable<typeof orders>),
      state: 'COMPLETED' as const,
      version: (orders?.version ?? 0) + 1,
      updatedAt: now,
      terminal: {
        at: now,
        reason: 'completed elsewhere',
        detail: { state: 'COMPLETED' as const, attempt: 1, runId: 'x' },
      },
    };
    expect((await s.store.casWindow(done, orders?.version ?? 0)).ok).toBe(true);
    await until(s.watcher, () => s.fires().includes('report 2023-11-14'));
    expect(s.clock.now()).toBe(now);
    expect(s.fires()).toEqual(['report 2023-11-14']);
  });

  it('wakes only the dependents, marks only their waiting traits, once', () => {
    const deps = new DependencyWakes();
    const spec = (name: string, upstream?: string) => ({
      name,
      archetype: 'x',
      source: 'test',
      readinessRule: { type: 'all-required-pass' as const },
      traits: upstream
        ? [{ type: 'up', required: true, builtin: 'pipeline', config: { pipeline: upstream }, timeoutSeconds: 5 }]
        : [],
    });
    deps.refresh([spec('a'), spec('b', 'a'), spec('c', 'a'), spec('d', 'b')]);
    expect(deps.completed('a').sort()).toEqual(['b', 'c']);
    expect(deps.completed('d')).toEqual([]);
    expect(deps.take('b')).toEqual(['up']);
    expect(deps.take('b')).toBeUndefined();
    expect(deps.take('d')).toBeUndefined();
  });
});
