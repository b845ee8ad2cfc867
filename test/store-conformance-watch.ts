// The store conformance suite, watcher part: window records, run-key claims, leases and the change feed. Called by
// storeConformance (test/store-conformance.ts) for every backend.
import { expect, it } from 'vitest';
import type { RunState } from '../src/core/types.js';
import { newRun } from '../src/engine/run-state.js';
import { applyWindowEvent, newWindow, type WindowRecord } from '../src/engine/window.js';
import { windowKey } from '../src/engine/window-key.js';
import type { Store, StoreChange } from '../src/store/types.js';
import { waitFor } from './support/poll.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

export interface WatchConformanceOptions {
  store: () => Store;
  reopen?: () => Promise<Store>;
  /** The backend reckons lease expiry on its own clock (Redis TIME): lease tests use real time. */
  ownClock?: boolean;
  /** How long this backend's change feed may take to deliver (0/undefined: the next event-loop turn). */
  feedSettleMs?: number;
}

export function window(pipeline: string, openAt: number, schedule = 'daily', extra: Partial<WindowRecord> = {}) {
  const w = newWindow({
    key: windowKey(pipeline, schedule, openAt),
    pipeline,
    times: {
      schedule,
      openAt,
      afterAt: openAt,
      deadlineAt: openAt + HOUR,
      date: new Date(openAt).toISOString().slice(0, 10),
    },
    mode: 'live',
    now: openAt,
  });
  return { ...w, ...extra };
}

function run(pipeline: string, id: string, runKey?: string): RunState {
  const r = newRun({ runId: id, pipeline, source: 'watcher', now: T0, deadlineAt: T0 + 60_000 });
  return runKey === undefined ? r : { ...r, runKey, window: { key: runKey.split('#')[0] ?? '', attempt: 1 } };
}

/** Moves a window on one event (must apply). */
function advance(w: WindowRecord, now: number): WindowRecord {
  const r = applyWindowEvent(w, { type: 'after-reached' }, now);
  if (r.kind !== 'apply') throw new Error(`expected the event to apply: ${r.reason}`);
  return r.window;
}

export function watchConformance(o: WatchConformanceOptions): void {
  const s = () => o.store();

  it('windows: created once by key; a second create is refused with the stored record', async () => {
    const w = window('p', T0);
    expect(await s().createWindow(w)).toEqual({ ok: true });
    const again = await s().createWindow({ ...w, mode: 'shadow' });
    expect(again.ok).toBe(false);
    expect(again.ok === false && again.current).toEqual(w);
    expect(await s().getWindow(w.key)).toEqual(w);
    expect(await s().getWindow('nope@x@2020-01-01T00:00:00.000Z')).toBeUndefined();
  });

  it('windows: compare-and-swap on version; a stale writer loses and sees the stored record', async () => {
    const w = window('p', T0);
    await s().createWindow(w);
    const open = advance(w, T0 + 1);
    expect(open.version).toBe(2);
    expect(await s().casWindow(open, 1)).toEqual({ ok: true });
    const lost = await s().casWindow(open, 1);
    expect(lost.ok).toBe(false);
    expect(lost.ok === false && lost.current).toEqual(open);
    // next.version must be expected + 1.
    expect((await s().casWindow({ ...open, version: 5 }, 2)).ok).toBe(false);
    // A window that was never created cannot be swapped in.
    expect((await s().casWindow(window('q', T0), 0)).ok).toBe(false);
    expect(await s().getWindow(w.key)).toEqual(open);
  });

  it('windows: exactly one of many concurrent creates and CASes wins', async () => {
    const w = window('race', T0);
    const creates = await Promise.all(Array.from({ length: 12 }, () => s().createWindow(w)));
    expect(creates.filter((r) => r.ok)).toHaveLength(1);
    const open = advance(w, T0 + 1);
    const cases = await Promise.all(Array.from({ length: 12 }, () => s().casWindow(open, 1)));
    expect(cases.filter((r) => r.ok)).toHaveLength(1);
  });

  it('windows: listed newest first with limit, before, state and schedule filters; heads', async () => {
    const a1 = window('p', T0);
    const a2 = window('p', T0 + HOUR);
    const a3 = window('p', T0 + 2 * HOUR);
    const h1 = window('p', T0 + 30 * 60_000, 'hourly');
    const other = window('q', T0);
    for (const w of [a2, a1, a3, h1, other]) await s().createWindow(w);
    // a1 ends MISSED; a2 stays PENDING.
    const missed = applyWindowEvent(a1, { type: 'deadline' }, a1.deadlineAt);
    if (missed.kind !== 'apply') throw new Error('expected MISSED');
    await s().casWindow(missed.window, 1);
    const keys = (ws: WindowRecord[]) => ws.map((w) => w.key);
    expect(keys(await s().listWindows('p'))).toEqual(keys([a3, a2, h1, a1]));
    expect(keys(await s().listWindows('p', { limit: 2 }))).toEqual(keys([a3, a2]));
    expect(keys(await s().listWindows('p', { before: a3.openAt }))).toEqual(keys([a2, h1, a1]));
    expect(keys(await s().listWindows('p', { state: 'MISSED' }))).toEqual(keys([a1]));
    expect(keys(await s().listWindows('p', { schedule: 'hourly' }))).toEqual(keys([h1]));
    expect(await s().listWindows('nobody')).toEqual([]);
    // Heads: non-terminal ones (a2, a3, h1, other) and the newest per schedule (a3, h1, other); never the ended a1.
    const sorted = (ws: WindowRecord[]) => keys(ws).sort();
    expect(sorted(await s().windowHeads('p'))).toEqual(sorted([a2, a3, h1]));
    expect(sorted(await s().windowHeads())).toEqual(sorted([a2, a3, h1, other]));
    // A terminal window that is its schedule's newest is still a head (the watcher must know where it left off).
    const b = window('r', T0);
    await s().createWindow(b);
    const bEnd = applyWindowEvent(b, { type: 'deadline' }, b.deadlineAt);
    if (bEnd.kind !== 'apply') throw new Error('expected MISSED');
    await s().casWindow(bEnd.window, 1);
    expect(keys(await s().windowHeads('r'))).toEqual([b.key]);
  });

  it('run keys: a second run with the same key is refused with the first, even after the first ended', async () => {
    const key = `${windowKey('p', 'daily', T0)}#1`;
    const first = run('p', '01A', key);
    expect(await s().createRun(first)).toEqual({ ok: true });
    expect(await s().getRunByKey(key)).toEqual(first);
    // While the first still holds the lock, the claim is what refuses the second (not the lock): the caller must
    // learn that this occurrence is taken, not merely that the pipeline is busy.
    const dup = await s().createRun(run('p', '01B', key));
    expect(dup.ok === false && dup.claimed?.runId).toBe('01A');
    expect(dup.ok === false && dup.active).toBeUndefined();
    // End the first run (lock released): the key stays claimed.
    const ended: RunState = { ...first, status: 'BLOCKED', version: 2, updatedAt: T0 + 1, finishedAt: T0 + 1 };
    expect(await s().casRun(ended, 1)).toEqual({ ok: true });
    const later = await s().createRun(run('p', '01C', key));
    expect(later.ok === false && later.claimed?.runId).toBe('01A');
    expect(await s().getRun('01C')).toBeUndefined();
    // Another key (the next attempt) is free, and so is a run without a key.
    expect(await s().createRun(run('p', '01D', `${windowKey('p', 'daily', T0)}#2`))).toEqual({ ok: true });
    expect(await s().getRunByKey('nope#1')).toBeUndefined();
  });

  it('run keys: of many concurrent creates under one key, exactly one wins; once it ended, none does', async () => {
    // A run key names its pipeline (`<pipeline>@…#<attempt>`), and a window's attempts are claimed under that
    // pipeline only, so the races that matter are on one pipeline: first with its lock free, then with the lock
    // released again by the winner's end, where only the key can refuse them.
    const key = `${windowKey('p', 'daily', T0)}#1`;
    const id = (round: string, i: number) => `01${round}${String(i).padStart(2, '0')}`;
    const first = await Promise.all(Array.from({ length: 12 }, (_, i) => s().createRun(run('p', id('R', i), key))));
    const winners = first.flatMap((r, i) => (r.ok ? [id('R', i)] : []));
    expect(winners).toHaveLength(1);
    const [winner] = winners;
    // The claim is checked before the lock: every loser learns the occurrence is taken.
    expect(first.filter((r) => !r.ok).map((r) => !r.ok && r.claimed?.runId)).toEqual(Array(11).fill(winner));
    expect((await s().getRunByKey(key))?.runId).toBe(winner);
    const won = (await s().getRun(winner)) as RunState;
    const ended: RunState = { ...won, status: 'BLOCKED', version: 2, updatedAt: T0 + 1, finishedAt: T0 + 1 };
    expect(await s().casRun(ended, 1)).toEqual({ ok: true });
    expect(await s().getActiveRun('p')).toBeUndefined();
    const again = await Promise.all(Array.from({ length: 12 }, (_, i) => s().createRun(run('p', id('S', i), key))));
    expect(again.filter((r) => r.ok)).toHaveLength(0);
    expect(again.map((r) => !r.ok && r.claimed?.runId)).toEqual(Array(12).fill(winner));
    expect(await s().getActiveRun('p')).toBeUndefined();
    expect((await s().listRuns('p')).map((r) => r.runId)).toEqual([winner]);
  });

  it('leases: granted when free, refused to another holder while live, renewed with the same epoch', async () => {
    const now = o.ownClock ? Date.now() : T0;
    const a = await s().acquireLease('watcher', 'A', 60_000, now);
    expect(a.ok).toBe(true);
    expect(a.lease).toMatchObject({ name: 'watcher', holder: 'A' });
    const epoch = a.lease.epoch;
    expect(epoch).toBeGreaterThanOrEqual(1);
    const b = await s().acquireLease('watcher', 'B', 60_000, now + 1000);
    expect(b).toEqual({ ok: false, lease: a.lease });
    const renewed = await s().acquireLease('watcher', 'A', 60_000, now + 2000);
    expect(renewed.ok && renewed.lease.epoch).toBe(epoch);
    expect(renewed.lease.expiresAt).toBeGreaterThanOrEqual(a.lease.expiresAt);
    expect(await s().getLease('watcher')).toEqual(renewed.lease);
    // Leases are independent by name.
    expect((await s().acquireLease('other', 'B', 60_000, now)).ok).toBe(true);
    expect(await s().getLease('none')).toBeUndefined();
  });

  it('leases: after expiry or release a new holder gets a higher epoch, and the old epoch is fenced out', async () => {
    const ttl = o.ownClock ? 300 : 10_000;
    const now = o.ownClock ? Date.now() : T0;
    const a = await s().acquireLease('watcher', 'A', ttl, now);
    expect(a.ok).toBe(true);
    const fenceA = { name: 'watcher', epoch: a.lease.epoch };
    const w = window('p', T0);
    expect(await s().createWindow(w, fenceA)).toEqual({ ok: true });
    const later = now + ttl + 1;
    if (o.ownClock) {
      await waitFor(
        'the lease to expire',
        5000,
        async () => (await s().acquireLease('watcher', 'B', 60_000, Date.now())).ok,
      );
    } else {
      expect((await s().acquireLease('watcher', 'B', 60_000, later)).ok).toBe(true);
    }
    const b = await s().getLease('watcher');
    expect(b?.holder).toBe('B');
    expect(b?.epoch).toBeGreaterThan(a.lease.epoch);
    // A still thinks it leads: its writes are refused, B's go through.
    const stale = await s().casWindow(advance(w, T0 + 1), 1, fenceA);
    expect(stale.ok === false && stale.fenced).toBe(true);
    const staleCreate = await s().createWindow(window('p', T0 + HOUR), fenceA);
    expect(staleCreate.ok === false && staleCreate.fenced).toBe(true);
    expect(await s().getWindow(window('p', T0 + HOUR).key)).toBeUndefined();
    expect(await s().casWindow(advance(w, T0 + 1), 1, { name: 'watcher', epoch: b?.epoch ?? -1 })).toEqual({
      ok: true,
    });
    // Release: only by the holder at its epoch; afterwards anyone may take it, with a higher epoch.
    expect(await s().releaseLease('watcher', 'A', a.lease.epoch)).toBe(false);
    expect(await s().releaseLease('watcher', 'B', b?.epoch ?? -1)).toBe(true);
    const c = await s().acquireLease('watcher', 'C', 60_000, o.ownClock ? Date.now() : later + 1);
    expect(c.ok && c.lease.epoch).toBeGreaterThan(b?.epoch ?? 0);
  });

  it('change feed: notifies writes to results, runs, windows and pipelines with the pipeline', async () => {
    const seen: StoreChange[] = [];
    const writer = o.reopen ? await o.reopen() : s();
    const stop = s().watchChanges((c) => seen.push(c));
    // A feed over a connection of its own (Redis pub/sub) is live once its subscription is answered; what is
    // written before may be lost (the port allows it: subscribers reconcile). Memory: at once.
    if (o.feedSettleMs) await new Promise((r) => setTimeout(r, o.feedSettleMs));
    try {
      await writer.createWindow(window('feed-w', T0));
      await writer.createRun(run('feed-r', '01F'));
      await writer.saveEvaluation({
        results: [{ pipeline: 'feed-e', trait: 't', status: 'PASS', durationMs: 1, evaluatedAt: T0 }],
        readiness: {
          pipeline: 'feed-e',
          outcome: 'READY',
          rule: { type: 'all-required-pass' },
          traits: [],
          blocking: [],
          decidedAt: T0,
        },
        decision: {
          id: '01E',
          pipeline: 'feed-e',
          source: 'test',
          rule: { type: 'all-required-pass' },
          outcome: 'READY',
          traits: [],
          blocking: [],
          decidedAt: T0,
        },
      });
      const want = ['feed-w', 'feed-r', 'feed-e'];
      await waitFor(`change notifications for ${want.join(', ')}`, 3000, async () =>
        want.every((p) => seen.some((c) => c.pipeline === p)),
      );
      expect(seen.find((c) => c.pipeline === 'feed-w')?.kind).toBe('window');
      expect(seen.find((c) => c.pipeline === 'feed-r')?.kind).toBe('run');
      expect(seen.find((c) => c.pipeline === 'feed-e')?.kind).toBe('evaluation');
      // After unsubscribing, nothing more arrives.
      stop();
      const count = seen.length;
      await writer.createWindow(window('feed-after', T0));
      // Long enough for this backend's feed to deliver (memory: the next turn of the event loop).
      await new Promise((r) => (o.feedSettleMs ? setTimeout(r, o.feedSettleMs) : setImmediate(r)));
      expect(seen.filter((c) => c.pipeline === 'feed-after')).toHaveLength(0);
      expect(seen.length).toBe(count);
    } finally {
      stop();
      if (writer !== s()) await writer.close();
    }
  });
}
