// The watcher on the memory store with the fake clock: windows open, block, fire once when evidence changes, end
// MISSED with the blocking trait named, retry per policy, stay SHADOW in shadow mode, and hand over between
// replicas through the lease without ever firing a window twice. Real evaluator and trigger subprocesses.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { sleep, until } from '../../../test/support/poll.js';
import type { RecordingLogger } from '../../../test/support/recording-logger.js';
import { openGateContext, writeGateProject } from '../../../test/support/runtime-context.js';
import type { PipelineWatchConfig } from '../../config/index.js';
import { InterlockError } from '../../core/errors.js';
import { DEFAULT_RETRY, newRun, windowKey } from '../../engine/index.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import type { Context } from '../context.js';
import { evaluateWithAlerts } from '../evaluate.js';
import { Watcher } from './watcher.js';

// 2023-11-14T22:13:20Z; windows every hour on the hour (UTC).
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
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

interface Setup {
  root: string;
  store: MemoryStore;
  clock: FakeClock;
  fires: () => string[];
  unblock: () => void;
}

/**
 * A project: pipeline `p` with one required trait `gate` (PASS while the file `gate` exists) and a command trigger
 * that appends its run key to `fired` and exits with `exit` (0 unless the file `exit-code` says otherwise).
 */
function project(
  opts: {
    mode?: 'live' | 'shadow';
    retry?: Partial<PipelineWatchConfig['retry']>;
    catchup?: 'skip' | 'latest' | 'all';
  } = {},
) {
  const root = mkdtempSync(join(tmpdir(), 'interlock-watcher-'));
  dirs.push(root);
  writeGateProject(root, {
    config: 'provider: memory\n',
    trait: 'gate',
    files: {
      'evaluators/gate': `#!/bin/sh\nif [ -e '${join(root, 'gate')}' ]; then echo '{"status":"PASS"}'; else echo '{"status":"FAIL","reason":"gate shut"}'; fi\n`,
      'pipelines/p.yaml': [
        'name: p',
        'archetype: gate',
        'traits:',
        '  gate:',
        '    evaluator: gate',
        '    ttl: 600',
        'trigger:',
        '  type: command',
        `  command: "echo $INTERLOCK_RUN_KEY >> '${join(root, 'fired')}'; exit $(cat '${join(root, 'exit-code')}' 2>/dev/null || echo 0)"`,
        '',
      ].join('\n'),
    },
  });
  const watch: PipelineWatchConfig = {
    // 'skip' by default: the window already open when the watcher starts (22:00, it is 22:13) is SKIPPED, so each
    // test starts with the next one. The catch-up test asks for 'latest'.
    schedules: [{ name: 'hourly', cron: '0 * * * *', timezone: 'UTC', catchup: opts.catchup ?? 'skip' }],
    reevaluateMs: 60_000,
    retry: { ...DEFAULT_RETRY, ...opts.retry },
    mode: opts.mode ?? 'live',
  };
  return { root, watch };
}

async function replica(root: string, watch: PipelineWatchConfig, store: MemoryStore, clock: FakeClock, holder: string) {
  const { ctx } = await openGateContext(root, { store, clock });
  ctx.project.watch.set('p', watch);
  const watcher = new Watcher(ctx, { holder, random: () => 0.5 });
  open.push({ ctx, watcher });
  return { ctx, watcher };
}

async function setup(opts: Parameters<typeof project>[0] = {}) {
  const { root, watch } = project(opts);
  const store = new MemoryStore();
  const clock = new FakeClock(T0);
  const one = await replica(root, watch, store, clock, 'A');
  const s: Setup & typeof one & { watch: PipelineWatchConfig } = {
    ...one,
    root,
    store,
    clock,
    watch,
    fires: () => (existsSync(join(root, 'fired')) ? readFileSync(join(root, 'fired'), 'utf8').trim().split('\n') : []),
    unblock: () => writeFileSync(join(root, 'gate'), ''),
  };
  return s;
}

/** Lets every watcher finish what the last clock step made due (subprocesses run in real time). */
async function settle(...ws: Watcher[]): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    await Promise.all(ws.map((w) => w.idle()));
    await new Promise((r) => setImmediate(r));
    if (ws.every((w) => w.busy === 0)) return;
  }
}

/** Moves the fake clock to `t` timer by timer, letting the watchers act at each wake-up on the way. */
async function advanceTo(clock: FakeClock, t: number, ...ws: Watcher[]): Promise<void> {
  await settle(...ws);
  while (clock.now() < t) {
    const next = clock.nextTimerAt();
    clock.advance((next !== undefined && next <= t ? Math.max(next, clock.now()) : t) - clock.now());
    await settle(...ws);
  }
}

describe('watcher', () => {
  it('opens a window, blocks on a FAIL trait, fires once as soon as evidence changes, ends COMPLETED', async () => {
    const s = await setup();
    await s.watcher.start();
    await settle(s.watcher);
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 + 1, s.watcher);
    const [w] = await s.store.listWindows('p');
    expect(w?.state).toBe('OPEN');
    expect(w?.lastDecision?.outcome).toBe('NOT_READY');
    expect(w?.lastDecision?.blocking.map((b) => b.trait)).toEqual(['gate']);
    expect(s.fires()).toEqual([]);

    // Evidence changes (another process evaluates: the bus / change feed wakes the watcher): it fires at once.
    s.unblock();
    await evaluateWithAlerts(s.ctx, 'p', { source: 'cli' });
    await settle(s.watcher);
    const done = await s.store.getWindow(w?.key ?? '');
    expect(done?.state).toBe('COMPLETED');
    expect(done?.attempts).toHaveLength(1);
    expect(s.fires()).toEqual([`${w?.key}#1`]);
    const run = await s.store.getRunByKey(`${w?.key}#1`);
    expect(run?.status).toBe('COMPLETED');
    expect(run?.window).toEqual({ key: w?.key, attempt: 1 });

    // Nothing fires again for that window, however long we wait; the next window opens on time.
    await advanceTo(s.clock, open1 + HOUR + 1, s.watcher);
    expect(s.fires()).toHaveLength(2); // the next window is READY at once (gate open, result fresh)
    expect(new Set(s.fires()).size).toBe(2);
  });

  it('publishes window.transitioned for every window it records or moves, as stored', async () => {
    const s = await setup();
    const seen: Array<{ key: string; from?: string; to: string; version: number }> = [];
    s.ctx.events.subscribe('window.transitioned', async ({ from, window }) => {
      // Published after the write: the store already holds this version.
      expect((await s.store.getWindow(window.key))?.version).toBeGreaterThanOrEqual(window.version);
      seen.push({
        key: window.key,
        ...(from !== undefined ? { from } : {}),
        to: window.state,
        version: window.version,
      });
    });
    await s.watcher.start();
    await settle(s.watcher);
    await advanceTo(s.clock, nextHour(T0) + 1, s.watcher);
    s.unblock();
    await evaluateWithAlerts(s.ctx, 'p', { source: 'cli' });
    await settle(s.watcher);
    const windows = await s.store.listWindows('p');
    const skipped = windows.find((w) => w.state === 'SKIPPED');
    const done = windows.find((w) => w.state === 'COMPLETED');
    // The window open at start is recorded SKIPPED (created, no `from`); the next one walks to COMPLETED.
    expect(seen.filter((e) => e.key === skipped?.key)).toEqual([{ key: skipped?.key, to: 'SKIPPED', version: 1 }]);
    const path = seen.filter((e) => e.key === done?.key && e.from !== e.to).map((e) => e.to);
    expect(path[0]).toBe('PENDING');
    expect(path).toContain('TRIGGERING');
    expect(path.at(-1)).toBe('COMPLETED');
    expect(seen.filter((e) => e.key === done?.key).at(-1)?.version).toBe(done?.version);
  });

  it("catch-up 'latest': the window that opened before the watcher started (still before its deadline) opens", async () => {
    const s = await setup({ catchup: 'latest' });
    s.unblock();
    await s.watcher.start();
    await settle(s.watcher);
    const [w] = await s.store.listWindows('p');
    expect(w?.key).toBe('p@hourly@2023-11-14T22:00:00Z');
    expect(w?.state).toBe('COMPLETED');
    expect(s.fires()).toEqual(['p@hourly@2023-11-14T22:00:00Z#1']);
  });

  it("catch-up 'skip': that window is recorded SKIPPED, never evaluated", async () => {
    const s = await setup();
    s.unblock();
    await s.watcher.start();
    await settle(s.watcher);
    const [w] = await s.store.listWindows('p');
    expect(w?.state).toBe('SKIPPED');
    expect(w?.terminal?.reason).toContain("catch-up policy 'skip'");
    expect(s.fires()).toEqual([]);
    expect(await s.store.listDecisions('p')).toEqual([]);
  });

  it('a window nobody unblocks ends MISSED at its deadline, naming the blocking trait', async () => {
    const s = await setup();
    await s.watcher.start();
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 + HOUR - 1, s.watcher);
    const key = (await s.store.listWindows('p', { limit: 1 }))[0]?.key ?? '';
    // Re-evaluated on the backoff (60 s, then doubling), never more often.
    const decisions = (await s.store.listDecisions('p')).filter((d) => d.source === 'watcher');
    expect(decisions.length).toBeGreaterThanOrEqual(5);
    expect(decisions.length).toBeLessThanOrEqual(61);
    await advanceTo(s.clock, open1 + HOUR + 1, s.watcher);
    const w = await s.store.getWindow(key);
    expect(w?.state).toBe('MISSED');
    expect(w?.terminal?.detail).toMatchObject({ state: 'MISSED', cause: 'blocked' });
    expect(w?.terminal?.reason).toContain('gate');
    expect(s.fires()).toEqual([]);
  });

  it('a failing trigger is retried per policy (exit 75 is TRANSIENT) and the window ends COMPLETED', async () => {
    const s = await setup({ retry: { maxAttempts: 3, backoffMs: 30_000, on: ['TRANSIENT'] } });
    s.unblock();
    writeFileSync(join(s.root, 'exit-code'), '75');
    await s.watcher.start();
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 + 1, s.watcher);
    const key = (await s.store.listWindows('p', { limit: 1 }))[0]?.key ?? '';
    let w = await s.store.getWindow(key);
    expect(w?.state).toBe('RETRY_WAIT');
    expect(w?.attempts[0]).toMatchObject({ attempt: 1, result: 'FAILED', category: 'TRANSIENT' });
    // Backoff 30 s (±20 % jitter; random 0.5 = none): not before.
    await advanceTo(s.clock, open1 + 29_000, s.watcher);
    expect(s.fires()).toHaveLength(1);
    writeFileSync(join(s.root, 'exit-code'), '0');
    await advanceTo(s.clock, open1 + 31_000, s.watcher);
    w = await s.store.getWindow(key);
    expect(w?.state).toBe('COMPLETED');
    expect(s.fires()).toEqual([`${key}#1`, `${key}#2`]);
  });

  it('a PERMANENT failure (exit 1) is not retried: the window ends FAILED', async () => {
    const s = await setup({ retry: { maxAttempts: 3, backoffMs: 30_000, on: ['TRANSIENT'] } });
    s.unblock();
    writeFileSync(join(s.root, 'exit-code'), '1');
    await s.watcher.start();
    await advanceTo(s.clock, nextHour(T0) + 60_000, s.watcher);
    const [w] = await s.store.listWindows('p', { limit: 1 });
    expect(w?.state).toBe('FAILED');
    expect(w?.terminal?.detail).toMatchObject({ state: 'FAILED', category: 'PERMANENT' });
    expect(s.fires()).toHaveLength(1);
  });

  it('shadow mode records SHADOW at the moment it would fire, and never fires', async () => {
    const s = await setup({ mode: 'shadow' });
    s.unblock();
    await s.watcher.start();
    await advanceTo(s.clock, nextHour(T0) + 1, s.watcher);
    const [w] = await s.store.listWindows('p', { limit: 1 });
    expect(w?.state).toBe('SHADOW');
    expect(w?.terminal?.detail).toMatchObject({ state: 'SHADOW' });
    expect(w?.terminal?.at).toBeGreaterThanOrEqual(nextHour(T0));
    expect(s.fires()).toEqual([]);
    expect(await s.store.listRuns('p')).toEqual([]);
  });

  it('two replicas: one leads; when it dies the other takes over within the lease; no window fires twice', async () => {
    const s = await setup();
    s.unblock();
    const b = await replica(s.root, s.watch, s.store, s.clock, 'B');
    await s.watcher.start();
    await b.watcher.start();
    expect(s.watcher.status().leading).toBe(true);
    expect(b.watcher.status().leading).toBe(false);
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 + 1000, s.watcher, b.watcher);
    expect(s.fires()).toHaveLength(1);
    // A dies without giving the lease up: B takes over once it expires (15 s), and carries on.
    crash(s.watcher);
    await advanceTo(s.clock, open1 + HOUR + 20_000, b.watcher);
    expect(b.watcher.status().leading).toBe(true);
    expect(b.watcher.status().epoch).toBeGreaterThan(1);
    const fires = s.fires();
    expect(fires).toHaveLength(2);
    expect(new Set(fires).size).toBe(2);
    const windows = await s.store.listWindows('p');
    expect(windows.map((w) => w.state)).toEqual(['COMPLETED', 'COMPLETED', 'SKIPPED']);
  });

  it('a follower takes the lease the moment the dead leader’s runs out, not at its next renewal tick', async () => {
    const s = await setup();
    await s.watcher.start();
    // B starts 1 s after A: its renewal ticks (every 5 s) fall 1 s after A's.
    await advanceTo(s.clock, T0 + 1000, s.watcher);
    const b = await replica(s.root, s.watch, s.store, s.clock, 'B');
    await b.watcher.start();
    expect(b.watcher.status().leading).toBe(false);
    // A renews at +10 s (its lease now runs to +25 s), then dies; B's ticks fall at +21 s and +26 s.
    await advanceTo(s.clock, T0 + 10_001, s.watcher, b.watcher);
    const crashedAt = s.clock.now();
    const expiresAt = (await s.store.getLease('watcher'))?.expiresAt as number;
    expect(expiresAt).toBe(T0 + 25_000);
    crash(s.watcher);
    await advanceTo(s.clock, expiresAt + 100, b.watcher);
    expect(b.watcher.status()).toMatchObject({ leading: true, epoch: 2 });
    const taken = await s.store.getLease('watcher');
    expect(taken?.holder).toBe('B');
    // B took it right at A's expiry, about the lease time (15 s) after the crash — not at its next renewal tick
    // (+26 s, 16 s after the crash; up to 20 s in general).
    const takenAt = (taken?.expiresAt as number) - 15_000;
    expect(takenAt).toBeGreaterThanOrEqual(expiresAt);
    expect(takenAt).toBeLessThanOrEqual(expiresAt + 50);
    expect(takenAt - crashedAt).toBeLessThan(15_050);
  });

  it('a window whose claimer died before its run reached TRIGGERING does not stall the pipeline’s other windows', async () => {
    const s = await setup();
    s.unblock();
    // The state a leader SIGKILLed between claiming window 23:00 and moving its run to TRIGGERING leaves: the window
    // TRIGGERING, its run-deadline (claim + maxRunSeconds) passed; the run still PENDING, holding the lock, with the
    // longer pending deadline (here past the next window's deadline).
    const open1 = nextHour(T0);
    const key = windowKey('p', 'hourly', open1);
    const run = {
      ...newRun({
        runId: '01JCLAIMEDPENDING000000000',
        pipeline: 'p',
        source: 'watcher',
        now: open1,
        deadlineAt: open1 + 2 * HOUR + 60_000,
      }),
      runKey: `${key}#1`,
      window: { key, attempt: 1 },
    };
    expect((await s.store.createRun(run)).ok).toBe(true);
    const created = await s.store.createWindow({
      key,
      pipeline: 'p',
      schedule: 'hourly',
      openAt: open1,
      afterAt: open1,
      deadlineAt: open1 + HOUR,
      date: '2023-11-14',
      mode: 'live',
      state: 'TRIGGERING',
      version: 3,
      createdAt: open1,
      updatedAt: open1,
      attempts: [{ attempt: 1, runId: run.runId, runKey: run.runKey, claimedAt: open1, runDeadlineAt: open1 + 4000 }],
      unchanged: 0,
    });
    expect(created.ok).toBe(true);
    s.clock.set(open1 + 5000);
    await s.watcher.start();
    // Timer by timer (the lease renews every 5 s), at most 5000 steps: a watcher that re-reads at once, forever,
    // never lets the clock move on.
    await settle(s.watcher);
    for (let i = 0; i < 5000 && s.clock.now() < open1 + 2 * HOUR + 1000; i++) {
      const next = s.clock.nextTimerAt();
      s.clock.advance(Math.min(next ?? Number.POSITIVE_INFINITY, open1 + 2 * HOUR + 1000) - s.clock.now());
      await settle(s.watcher);
    }
    expect(s.clock.now()).toBe(open1 + 2 * HOUR + 1000);
    const windows = await s.store.listWindows('p');
    // The next window (00:00) could not fire (the lock is held) and ended MISSED at its deadline; the claimed one
    // waits for its run's own deadline; nothing fired.
    expect(windows.map((w) => [w.openAt, w.state])).toEqual([
      [open1 + 2 * HOUR, 'OPEN'],
      [open1 + HOUR, 'MISSED'],
      [open1, 'TRIGGERING'],
    ]);
    expect(s.fires()).toEqual([]);
  });

  it('pipelines on the same schedule share one parsed cron (croner holds ~80 KB per pattern); each keeps its own windows', async () => {
    const { root, watch } = project();
    const pipeline = readFileSync(join(root, 'pipelines', 'p.yaml'), 'utf8');
    for (const q of ['q', 'r'])
      writeFileSync(join(root, 'pipelines', `${q}.yaml`), pipeline.replace('name: p', `name: ${q}`));
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    const { ctx, watcher } = await replica(root, watch, store, clock, 'A');
    const [hourly] = watch.schedules;
    // q: the same schedule under another name; r: the same cron in another timezone (a different schedule).
    ctx.project.watch.set('q', {
      ...watch,
      schedules: [{ ...(hourly as (typeof watch.schedules)[0]), name: 'other' }],
    });
    ctx.project.watch.set('r', {
      ...watch,
      schedules: [{ ...(hourly as (typeof watch.schedules)[0]), timezone: 'Asia/Kolkata' }],
    });
    await watcher.start();
    await settle(watcher);
    const cronOf = (p: string) =>
      (
        watcher as unknown as { watched: Map<string, { schedules: Array<{ cron?: unknown; spec: { name: string } }> }> }
      ).watched.get(p)?.schedules[0];
    expect(cronOf('p')?.cron).toBeDefined();
    expect(cronOf('q')?.cron).toBe(cronOf('p')?.cron);
    expect(cronOf('q')?.spec.name).toBe('other');
    expect(cronOf('r')?.cron).not.toBe(cronOf('p')?.cron);
    // Each pipeline's window is its own, under its own schedule name and timezone (Kolkata is UTC+5:30).
    expect((await store.listWindows('p'))[0]?.key).toBe('p@hourly@2023-11-14T22:00:00Z');
    expect((await store.listWindows('q'))[0]?.key).toBe('q@other@2023-11-14T22:00:00Z');
    expect((await store.listWindows('r'))[0]?.key).toBe('r@hourly@2023-11-14T21:30:00Z');
  });

  it('a replica that lost its lease cannot write: its window writes are fenced out', async () => {
    const s = await setup();
    await s.watcher.start();
    const b = await replica(s.root, s.watch, s.store, s.clock, 'B');
    // B takes the lease after A's expired (A was paused and did not renew).
    crash(s.watcher);
    s.clock.set(T0 + 16_000);
    await b.watcher.start();
    expect(b.watcher.status().leading).toBe(true);
    const lease = await s.store.getLease('watcher');
    expect(lease?.holder).toBe('B');
    const stale = await s.store.createWindow(
      {
        key: 'p@hourly@2023-11-15T00:00:00.000Z',
        pipeline: 'p',
        schedule: 'hourly',
        openAt: Date.parse('2023-11-15T00:00:00Z'),
        afterAt: Date.parse('2023-11-15T00:00:00Z'),
        deadlineAt: Date.parse('2023-11-15T01:00:00Z'),
        date: '2023-11-15',
        mode: 'live',
        state: 'PENDING',
        version: 1,
        createdAt: T0,
        updatedAt: T0,
        attempts: [],
        unchanged: 0,
      },
      { name: 'watcher', epoch: 1 },
    );
    expect(stale).toMatchObject({ ok: false, fenced: true });
  });
});

/** Simulates a replica dying: its timers stop and it never renews or releases its lease. */
function crash(w: Watcher): void {
  const inner = w as unknown as {
    stopped: boolean;
    leadership: { stopped: boolean; o: { clock: FakeClock }; timer: unknown };
    queue: { clear(): void };
    unsubscribe: Array<() => void>;
    sweepTimer: unknown;
    ctx: Context;
  };
  inner.stopped = true;
  inner.leadership.stopped = true;
  inner.ctx.clock.clearTimeout(inner.leadership.timer as never);
  inner.ctx.clock.clearTimeout(inner.sweepTimer as never);
  inner.queue.clear();
  for (const u of inner.unsubscribe.splice(0)) u();
  // Its lease is left in the store, as a dead process would leave it; stop() must not release it now.
  (inner.leadership as unknown as { current: unknown }).current = undefined;
}

/** advanceTo, but at most `steps` timer firings: a watcher that re-wakes itself at `now` in a loop cannot hang it. */
async function advanceBounded(clock: FakeClock, t: number, steps: number, ...ws: Watcher[]): Promise<number> {
  await settle(...ws);
  let n = 0;
  while (clock.now() < t && n < steps) {
    const next = clock.nextTimerAt();
    clock.advance((next !== undefined && next <= t ? Math.max(next, clock.now()) : t) - clock.now());
    await settle(...ws);
    n++;
  }
  return n;
}

describe('watcher: adversarial review', () => {
  it('a manual run left PENDING by a dead process is timed out at its deadline; the window fires, not MISSED', async () => {
    const s = await setup();
    s.unblock();
    await s.watcher.start();
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 - 60_000, s.watcher);
    // A CLI `run` that died while PENDING: it holds the lock until its deadline (2 minutes from now).
    const now = s.clock.now();
    const dead = newRun({ runId: '01DEADRUN', pipeline: 'p', source: 'cli', now, deadlineAt: now + 120_000 });
    expect((await s.store.createRun(dead)).ok).toBe(true);
    await advanceTo(s.clock, open1 + 10 * 60_000, s.watcher);
    expect((await s.store.getRun('01DEADRUN'))?.status).toBe('TIMED_OUT');
    const [w] = await s.store.listWindows('p', { limit: 1 });
    expect(w?.state).toBe('COMPLETED');
    expect(s.fires()).toEqual([`${w?.key}#1`]);
  });

  it('a manual run holding the lock past the deadline: the window ends MISSED at its deadline, READY but not triggered', async () => {
    const s = await setup();
    s.unblock();
    await s.watcher.start();
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 - 60_000, s.watcher);
    const now = s.clock.now();
    const manual = newRun({ runId: '01MANUAL', pipeline: 'p', source: 'cli', now, deadlineAt: now + 3 * HOUR });
    expect((await s.store.createRun(manual)).ok).toBe(true);
    await advanceTo(s.clock, open1 + HOUR + 1000, s.watcher);
    const w = await s.store.getWindow('p@hourly@2023-11-14T23:00:00Z');
    expect(w?.state).toBe('MISSED');
    expect(w?.terminal?.at).toBe(open1 + HOUR);
    expect(w?.terminal?.detail).toMatchObject({ state: 'MISSED', cause: 'ready-not-triggered' });
    expect((await s.store.getRun('01MANUAL'))?.status).toBe('PENDING');
    expect(s.fires()).toEqual([]);
  });

  it('a lock kept by an ended run (its command may still run elsewhere) is waited for, not spun on', async () => {
    const s = await setup();
    s.unblock();
    await s.watcher.start();
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 - 60_000, s.watcher);
    const now = s.clock.now();
    const run = newRun({ runId: '01HELDRUN', pipeline: 'p', source: 'cli', now, deadlineAt: now + 600_000 });
    expect((await s.store.createRun(run)).ok).toBe(true);
    const held = {
      ...run,
      status: 'TIMED_OUT' as const,
      version: 2,
      updatedAt: now,
      lockHeldUntil: now + 30 * 60_000,
      job: { pgid: 4242, host: 'another-host', startedAt: now },
    };
    expect((await s.store.casRun(held, 1)).ok).toBe(true);
    const steps = await advanceBounded(s.clock, open1 + 60_000, 200, s.watcher);
    expect(s.clock.now()).toBe(open1 + 60_000); // not stuck re-waking at the same instant
    expect(steps).toBeLessThan(50);
    expect(s.fires()).toEqual([]);
    expect(s.watcher.status().triggers).toBe(0); // nothing fired, nothing counted
    const decisions = (await s.store.listDecisions('p')).filter((d) => d.source === 'watcher');
    expect(decisions.length).toBeLessThan(10);
    // Once the hold is over (nothing here says the command is alive), the window fires.
    await advanceTo(s.clock, open1 + 32 * 60_000, s.watcher);
    const [w] = await s.store.listWindows('p', { limit: 1 });
    expect(w?.state).toBe('COMPLETED');
    expect(s.fires()).toEqual([`${w?.key}#1`]);
  });

  it('a store error after the claim leaves the attempt PENDING: it is timed out at its own deadline and retried', async () => {
    const s = await setup();
    s.unblock();
    const casRun = s.store.casRun.bind(s.store);
    let failed = 0;
    s.store.casRun = async (next, expected, o) => {
      if (next.status === 'TRIGGERING' && failed++ === 0) {
        throw new InterlockError('STORE_UNAVAILABLE', 'injected: connection reset');
      }
      return casRun(next, expected, o);
    };
    await s.watcher.start();
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 + 1000, s.watcher);
    const key = (await s.store.listWindows('p', { limit: 1 }))[0]?.key ?? '';
    expect((await s.store.getWindow(key))?.state).toBe('TRIGGERING');
    expect(s.fires()).toEqual([]);
    // The run's own deadline (its evaluators' time + slack) is minutes, not maxRunSeconds (24 h).
    await advanceTo(s.clock, open1 + 15 * 60_000, s.watcher);
    const w = await s.store.getWindow(key);
    expect(w?.state).toBe('COMPLETED');
    expect(w?.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(s.fires()).toEqual([`${key}#2`]);
  });

  it('a store error while claiming the window ends the run FAILED (its lock freed) at once, never fired', async () => {
    const s = await setup();
    s.unblock();
    const casWindow = s.store.casWindow.bind(s.store);
    let failed = 0;
    s.store.casWindow = async (next, expected, fence) => {
      if (next.state === 'TRIGGERING' && failed++ === 0) {
        throw new InterlockError('STORE_UNAVAILABLE', 'injected: connection reset');
      }
      return casWindow(next, expected, fence);
    };
    await s.watcher.start();
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 + 1000, s.watcher);
    const key = 'p@hourly@2023-11-14T23:00:00Z';
    const first = await s.store.getRunByKey(`${key}#1`);
    expect(first?.status).toBe('FAILED');
    expect(first?.reason).toContain('injected');
    expect(await s.store.getActiveRun('p')).toBeUndefined();
    expect(s.fires()).toEqual([]);
    await advanceTo(s.clock, open1 + 5 * 60_000, s.watcher);
    expect((await s.store.getWindow(key))?.state).toBe('COMPLETED');
    expect(s.fires()).toEqual([`${key}#2`]);
  });

  it('an accepted async job that reports failure (completion callback) fails its window as PERMANENT, not UNKNOWN', async () => {
    const s = await setup({ retry: { maxAttempts: 3, on: ['TRANSIENT'] } });
    // The window in progress (22:00) was triggered; its async job was accepted, then called back "failed".
    const key = 'p@hourly@2023-11-14T22:00:00Z';
    const openAt = Date.parse('2023-11-14T22:00:00Z');
    const run = {
      ...newRun({ runId: '01ASYNCJOB', pipeline: 'p', source: 'watcher', now: T0, deadlineAt: T0 + HOUR }),
      runKey: `${key}#1`,
      window: { key, attempt: 1 },
    };
    expect((await s.store.createRun(run)).ok).toBe(true);
    const trigger = { type: 'http', ok: true, async: true, durationMs: 5 } as unknown as NonNullable<
      typeof run.trigger
    >;
    const failed = {
      ...run,
      status: 'FAILED' as const,
      version: 2,
      updatedAt: T0,
      triggerType: 'http' as const,
      trigger,
      reason: 'completion callback: failed',
    };
    expect((await s.store.casRun(failed, 1)).ok).toBe(true);
    const attempt = { attempt: 1, runId: run.runId, runKey: `${key}#1`, claimedAt: T0 };
    const window = {
      key,
      pipeline: 'p',
      schedule: 'hourly',
      openAt,
      afterAt: openAt,
      deadlineAt: openAt + HOUR,
      date: '2023-11-14',
      mode: 'live' as const,
      state: 'RUNNING' as const,
      version: 4,
      createdAt: openAt,
      updatedAt: T0,
      attempts: [attempt],
      unchanged: 0,
    };
    expect((await s.store.createWindow(window)).ok).toBe(true);
    await s.watcher.start();
    await settle(s.watcher);
    const w = await s.store.getWindow(key);
    expect(w?.state).toBe('FAILED');
    expect(w?.terminal?.detail).toMatchObject({ state: 'FAILED', category: 'PERMANENT', cause: 'not-retryable' });
    expect(w?.terminal?.reason).toContain('completion callback: failed');
  });

  it('a pipeline whose pass throws every time is retried with backoff, and says so once, not every 5 s', async () => {
    const s = await setup();
    await s.watcher.start();
    await settle(s.watcher);
    const log = s.ctx.log as RecordingLogger;
    s.store.getTraitResults = async () => {
      throw new InterlockError('STORE_CORRUPT', 'stored trait result is not valid JSON');
    };
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 + 30 * 60_000, s.watcher);
    const warns = log.messages('warn').filter((m) => m.includes('not valid JSON'));
    expect(warns.length).toBeGreaterThanOrEqual(1);
    expect(warns.length).toBeLessThanOrEqual(3);
    expect(s.fires()).toEqual([]);
    // It still looks again (fail closed, not given up): once the store is sound, the window carries on.
    delete (s.store as { getTraitResults?: unknown }).getTraitResults;
    s.unblock();
    await advanceTo(s.clock, open1 + 40 * 60_000, s.watcher);
    const [w] = await s.store.listWindows('p', { limit: 1 });
    expect(w?.state).toBe('COMPLETED');
  });
});

/**
 * The process stalls for `ms` (event loop blocked, SIGSTOP, a VM paused) or the host clock steps forward: time jumps
 * and every timer that fell due meanwhile fires late, at the new time (FakeClock.set alone would fire them back in
 * the past).
 */
function stall(clock: FakeClock, ms: number): void {
  const inner = clock as unknown as { t: number; timers: Array<{ at: number }> };
  inner.t += ms;
  for (const timer of inner.timers) timer.at = Math.max(timer.at, inner.t);
}

describe('watcher: clock steps and stalls', () => {
  it('a leader that stalls (or whose clock steps forward) past its lease re-takes it without treating the window that opened meanwhile as downtime', async () => {
    const s = await setup(); // catch-up 'skip': a window taken for downtime would be SKIPPED
    s.unblock();
    await s.watcher.start();
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 - 5000, s.watcher);
    // The host clock steps 25 s forward (NTP step, a VM resumed, an event loop blocked): the lease (15 s) has run
    // out when the leader next renews; nobody else took it.
    stall(s.clock, 25_000);
    await advanceTo(s.clock, open1 + 60_000, s.watcher);
    expect(s.watcher.status().leading).toBe(true);
    const w = await s.store.getWindow('p@hourly@2023-11-14T23:00:00Z');
    expect(w?.state).toBe('COMPLETED');
    expect(s.fires()).toEqual(['p@hourly@2023-11-14T23:00:00Z#1']);
  });

  it('after a long stall (hours) the catch-up policy still applies', async () => {
    const s = await setup();
    s.unblock();
    await s.watcher.start();
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 - 5000, s.watcher);
    stall(s.clock, 3 * HOUR + 25_000);
    await advanceTo(s.clock, open1 + 3 * HOUR + 60_000, s.watcher);
    const states = (await s.store.listWindows('p')).map((w) => w.state);
    expect(states).toEqual(['SKIPPED', 'MISSED', 'MISSED', 'MISSED', 'SKIPPED']);
    expect(s.fires()).toEqual([]);
  });
});

describe('watcher: config reload between decision and fire', () => {
  it('a reload that adds a required trait after the READY decision is not fired on the old evidence', async () => {
    const s = await setup();
    s.unblock();
    await s.watcher.start();
    await settle(s.watcher);
    const createRun = s.store.createRun.bind(s.store);
    let reloaded = false;
    s.store.createRun = async (run) => {
      if (run.runKey !== undefined && !reloaded) {
        // The project is reloaded just as the watcher takes the lock: `p` now also needs a pushed trait it lacks.
        reloaded = true;
        const spec = s.ctx.project.pipelines.get('p');
        const gate = spec?.traits[0];
        if (!spec || !gate) throw new Error('test setup: no pipeline p');
        const pipelines = new Map(s.ctx.project.pipelines);
        pipelines.set('p', { ...spec, traits: [...spec.traits, { ...gate, type: 'signoff', push: true }] });
        (s.ctx as { project: unknown }).project = { ...s.ctx.project, pipelines };
      }
      return createRun(run);
    };
    await advanceTo(s.clock, nextHour(T0) + 60_000, s.watcher);
    expect(reloaded).toBe(true);
    expect(s.fires()).toEqual([]);
    const [w] = await s.store.listWindows('p', { limit: 1 });
    expect(w?.state).toBe('OPEN');
    expect(w?.lastDecision?.blocking.map((b) => b.trait)).toEqual(['signoff']);
  });
});

describe('watcher: a schedule that arrives with a reload', () => {
  it('starts from the reload, not from when the watcher started: no MISSED records for windows before it existed', async () => {
    const s = await setup({ catchup: 'latest' });
    s.ctx.project.watch.delete('p');
    await s.watcher.start();
    await advanceTo(s.clock, T0 + 5 * HOUR, s.watcher);
    // A reload brings p's schedule (a new pipeline, or a schedule added or renamed).
    const watch = new Map(s.ctx.project.watch);
    watch.set('p', s.watch);
    (s.ctx as { project: unknown }).project = { ...s.ctx.project, watch };
    s.watcher.reload();
    await settle(s.watcher);
    const windows = await s.store.listWindows('p');
    expect(windows.filter((w) => w.state === 'MISSED')).toEqual([]);
    expect(windows.length).toBeLessThanOrEqual(1);
  });
});

describe('watcher: a long trigger does not hold up the other pipelines', () => {
  it('while one pipeline’s command trigger runs, another pipeline’s window still opens and fires', async () => {
    const { root, watch } = project();
    const out = join(root, 'order');
    const qFired = join(root, 'q-fired');
    const pStarted = join(root, 'p-started');
    const pipeline = (name: string, command: string) =>
      [
        `name: ${name}`,
        'archetype: gate',
        'traits:',
        '  gate:',
        '    evaluator: gate',
        '    ttl: 600',
        'trigger:',
        '  type: command',
        `  command: ${JSON.stringify(command)}`,
        '',
      ].join('\n');
    // p's command runs until q's trigger has fired (at most ~5 s); q's fires at once.
    writeFileSync(
      join(root, 'pipelines', 'p.yaml'),
      pipeline(
        'p',
        `touch '${pStarted}'; i=0; while [ ! -e '${qFired}' ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; echo p >> '${out}'`,
      ),
    );
    writeFileSync(join(root, 'pipelines', 'q.yaml'), pipeline('q', `echo q >> '${out}'; touch '${qFired}'`));
    writeFileSync(join(root, 'gate'), '');
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    const { ctx } = await openGateContext(root, { store, clock });
    ctx.project.watch.set('p', watch);
    // q's window opens a minute after p's.
    ctx.project.watch.set('q', { ...watch, schedules: [{ ...watch.schedules[0], cron: '1 * * * *' }] } as typeof watch);
    const watcher = new Watcher(ctx, { holder: 'A', random: () => 0.5, concurrency: 1 });
    open.push({ ctx, watcher });
    await watcher.start();
    await settle(watcher);
    const open1 = nextHour(T0);
    await advanceTo(clock, open1 - 1000, watcher);
    clock.advance(1000);
    expect(await until(() => existsSync(pStarted), 5000)).toBe(true);
    // A minute on, in steps (the lease renews on the way; no settle: p's trigger is still running).
    for (let i = 0; i < 12; i++) {
      clock.advance(5000);
      await sleep(20);
    }
    await until(() => existsSync(out) && readFileSync(out, 'utf8').trim().split('\n').length === 2, 8000);
    await settle(watcher);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual(['q', 'p']);
    expect((await store.listWindows('p', { limit: 1 }))[0]?.state).toBe('COMPLETED');
    expect((await store.listWindows('q', { limit: 1 }))[0]?.state).toBe('COMPLETED');
  });
});

describe('watcher: windows of a pipeline no longer watched', () => {
  it('a pipeline that became INVALID with a window open: never triggered, and the window still ends MISSED at its deadline', async () => {
    const s = await setup();
    await s.watcher.start();
    const open1 = nextHour(T0);
    await advanceTo(s.clock, open1 + 1000, s.watcher);
    const [w] = await s.store.listWindows('p', { limit: 1 });
    expect(w?.state).toBe('OPEN');
    // A reload makes p INVALID (fail closed): not watched any more; then its evidence turns READY.
    const pipelines = new Map(s.ctx.project.pipelines);
    pipelines.delete('p');
    const invalid = new Map(s.ctx.project.invalid);
    invalid.set('p', {
      name: 'p',
      status: 'INVALID',
      source: 'pipelines/p.yaml',
      problems: [{ path: '', message: 'broken' }],
    });
    (s.ctx as { project: unknown }).project = { ...s.ctx.project, pipelines, invalid };
    s.watcher.reload();
    s.unblock();
    await advanceTo(s.clock, open1 + HOUR + 1000, s.watcher);
    const ended = await s.store.getWindow(w?.key ?? '');
    expect(ended?.state).toBe('MISSED');
    expect(s.fires()).toEqual([]);
    // No new windows for a pipeline nobody watches.
    expect((await s.store.listWindows('p')).filter((x) => x.openAt > open1)).toEqual([]);
  });
});
