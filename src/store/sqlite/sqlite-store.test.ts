import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decision, readiness, result, storeConformance } from '../../../test/store-conformance.js';
import { holdWriteLock } from '../../../test/support/sqlite-lock.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { InterlockError } from '../../core/errors.js';
import { newRun } from '../../engine/run-state.js';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'interlock-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let last = '';

storeConformance('sqlite', {
  // The change feed is polled every 200 ms: long enough for it to have delivered.
  feedSettleMs: 600,
  open: async () => {
    last = join(dir, `s${n++}`, 'state.db');
    return new SqliteStore({ path: last });
  },
  reopen: async () => new SqliteStore({ path: last }),
});

describe('sqlite specifics', () => {
  it('data survives close and reopen (a real file)', async () => {
    const path = join(dir, 'persist', 'state.db');
    const a = new SqliteStore({ path });
    await a.saveEvaluation({ results: [result('p', 'a')], readiness: readiness('p'), decision: decision('p', 'd1') });
    await a.close();
    const b = new SqliteStore({ path });
    expect((await b.listDecisions('p')).map((d) => d.id)).toEqual(['d1']);
    await b.close();
  });

  it('a file that is not a database is STORE_UNAVAILABLE, not a crash', () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, 'this is not sqlite at all, just text '.repeat(200));
    expect(() => new SqliteStore({ path })).toThrowError(InterlockError);
    try {
      new SqliteStore({ path });
    } catch (e) {
      expect((e as InterlockError).code).toBe('STORE_UNAVAILABLE');
      expect((e as Error).message).toContain(path);
    }
  });

  it('a failed saveEvaluation writes nothing (atomic)', async () => {
    const path = join(dir, 'atomic', 'state.db');
    const s = new SqliteStore({ path });
    await s.saveEvaluation({ results: [result('p', 'a')], readiness: readiness('p'), decision: decision('p', 'dup') });
    // Same decision id again violates UNIQUE after the trait row was written: the whole write must roll back.
    await expect(
      s.saveEvaluation({
        results: [result('p', 'a', { status: 'FAIL', evaluatedAt: 1 })],
        readiness: readiness('p', 5, 'NOT_READY'),
        decision: decision('p', 'dup'),
      }),
    ).rejects.toThrowError(InterlockError);
    expect((await s.getTraitResult('p', 'a'))?.status).toBe('PASS');
    expect((await s.getReadiness('p'))?.outcome).toBe('READY');
    await s.close();
  });

  it('corrupt stored JSON is STORE_CORRUPT', async () => {
    const path = join(dir, 'corrupt', 'state.db');
    const s = new SqliteStore({ path });
    await s.close();
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(path);
    raw
      .prepare("INSERT INTO readiness (pipeline, outcome, readiness, decided_at) VALUES ('p', 'READY', '{not json', 1)")
      .run();
    raw.close();
    const s2 = new SqliteStore({ path });
    await expect(s2.getReadiness('p')).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    await s2.close();
  });

  it('creates the database owner-only: state.db, -wal and -shm are 0600', async () => {
    const path = join(dir, 'modes', 'state.db');
    const old = process.umask(0o022);
    try {
      const s = new SqliteStore({ path });
      await s.saveEvaluation({ results: [result('p', 'a')], readiness: readiness('p'), decision: decision('p', 'm1') });
      for (const f of [path, `${path}-wal`, `${path}-shm`]) expect(statSync(f).mode & 0o777, f).toBe(0o600);
      await s.close();
    } finally {
      process.umask(old);
    }
  });

  it('run-state writes commit with synchronous=FULL; evaluations stay NORMAL', async () => {
    const path = join(dir, 'sync', 'state.db');
    const s = new SqliteStore({ path });
    const db = (s as unknown as { db: { pragma: (q: string, o?: object) => unknown } }).db;
    const seen: unknown[] = [];
    const real = db.pragma.bind(db);
    db.pragma = (q: string, o?: object) => {
      if (/^synchronous = FULL$/.test(q)) seen.push(real('synchronous', { simple: true }));
      const r = real(q, o);
      if (/^synchronous = FULL$/.test(q)) seen.push(real('synchronous', { simple: true }));
      return r;
    };
    await s.saveEvaluation({ results: [result('p', 'a')], readiness: readiness('p'), decision: decision('p', 's1') });
    expect(seen).toEqual([]);
    const run = newRun({ runId: 'r1', pipeline: 'p', source: 'test', now: 1, deadlineAt: 10 });
    await s.createRun(run);
    await s.casRun({ ...run, status: 'TRIGGERING', version: 2 }, 1);
    // 1 = NORMAL before each switch, 2 = FULL during the run transaction; NORMAL again afterwards.
    expect(seen).toEqual([1, 2, 1, 2]);
    expect(real('synchronous', { simple: true })).toBe(1);
    await s.close();
  });

  it('another process holding BEGIN IMMEDIATE: writes wait asynchronously (the event loop keeps running), then succeed', async () => {
    const path = join(dir, 'busy', 'state.db');
    const s = new SqliteStore({ path });
    await s.ping();
    const holder = await holdWriteLock(path, 1500);
    // A ticker measures the longest stall of this event loop while the write waits for the lock.
    let last = performance.now();
    let worst = 0;
    const ticker = setInterval(() => {
      const t = performance.now();
      worst = Math.max(worst, t - last);
      last = t;
    }, 10);
    const t0 = performance.now();
    try {
      await s.saveEvaluation({ results: [result('p', 'a')], readiness: readiness('p'), decision: decision('p', 'b1') });
    } finally {
      clearInterval(ticker);
    }
    const waited = performance.now() - t0;
    await holder.released;
    expect(waited).toBeGreaterThan(1000); // it really waited for the other process
    expect(worst).toBeLessThan(150); // … without freezing this one (old code: one ~1.5 s stall)
    expect((await s.listDecisions('p')).map((d) => d.id)).toEqual(['b1']);
    await s.close();
  });

  it('gives up after busyTimeoutMs with STORE_UNAVAILABLE, sleeping through the injected timer', async () => {
    const path = join(dir, 'busy-timeout', 'state.db');
    const sleeps: number[] = [];
    const s = new SqliteStore({
      path,
      busyTimeoutMs: 300,
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise((r) => setTimeout(r, ms));
      },
    });
    const holder = await holdWriteLock(path, 20_000);
    try {
      const err = await s
        .saveEvaluation({ results: [result('p', 'a')], readiness: readiness('p'), decision: decision('p', 'x') })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect((err as Error).message).toMatch(/database is locked.*held the lock for over 300 ms/);
      expect(sleeps.length).toBeGreaterThan(3);
      await expect(s.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      // Reads do not need the write lock (WAL): they still answer.
      expect(await s.listDecisions('p')).toEqual([]);
    } finally {
      holder.kill();
      await holder.released;
    }
    await s.ping();
    await s.close();
  });

  it('sleeps between tries on its clock', async () => {
    const path = join(dir, 'busy-clock', 'state.db');
    const delays: number[] = [];
    const clock: Clock = {
      ...systemClock,
      setTimeout: (fn, ms) => {
        delays.push(ms);
        return systemClock.setTimeout(fn, ms);
      },
    };
    const s = new SqliteStore({ path, busyTimeoutMs: 200, clock });
    const holder = await holdWriteLock(path, 20_000);
    try {
      const err = await s
        .saveEvaluation({ results: [result('p', 'a')], readiness: readiness('p'), decision: decision('p', 'x') })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(delays.length).toBeGreaterThan(3);
      expect(delays[0]).toBe(2); // the backoff starts at 2 ms and doubles
      expect(delays[1]).toBe(4);
    } finally {
      holder.kill();
      await holder.released;
    }
    await s.close();
  });
});
