// The PostgreSQL store against the machine's real server (127.0.0.1:5432, database test): the conformance suite
// unchanged, then what is specific to PostgreSQL: migrations under an advisory lock, the pool, the server's clock,
// lease epochs from a sequence, NOTIFY only on commit, and the change feed's reconnect sweep after
// pg_terminate_backend. Every store opened here lives in its own schema `il_test_<random>`, dropped after each test.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunState } from '../../src/core/types.js';
import { newRun } from '../../src/engine/run-state.js';
import { createStore } from '../../src/store/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import type { StoreChange } from '../../src/store/types.js';
import { decision, readiness, result, spec, storeConformance } from '../store-conformance.js';
import { window } from '../store-conformance-watch.js';
import { sleep, waitFor } from '../support/poll.js';
import { dropSchemas, freshSchemaName, PG_URL, pgAdmin } from '../support/postgres.js';

const created = new Set<string>();
afterEach(async () => {
  await dropSchemas(created);
  created.clear();
});

/** A schema of this test (dropped after it). */
function schemaName(): string {
  const s = freshSchemaName();
  created.add(s);
  return s;
}
const connect = (schema: string, extra: Partial<Parameters<typeof PostgresStore.connect>[0]> = {}) =>
  PostgresStore.connect({ url: PG_URL, schema, connectTimeoutMs: 3000, ...extra });

let last = '';
storeConformance('postgres', {
  open: async () => connect((last = schemaName())),
  reopen: async () => connect(last),
  // Leases and deadlines are reckoned on the server's clock; the feed is a LISTEN on a connection of its own.
  ownClock: true,
  feedSettleMs: 300,
});

const T0 = 1_700_000_000_000;
const run = (pipeline: string, runId: string, now = T0, deadlineAt = now + 60_000): RunState =>
  newRun({ runId, pipeline, source: 'test', now, deadlineAt });

async function withStore<T>(fn: (s: PostgresStore) => Promise<T>, schema = schemaName()): Promise<T> {
  const s = await connect(schema);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

describe('postgres specifics', () => {
  it('N stores starting at once on a new schema migrate it once (advisory lock); a later start applies nothing', async () => {
    const schema = schemaName();
    const stores = await Promise.all(Array.from({ length: 6 }, () => connect(schema)));
    const admin = await pgAdmin();
    try {
      const rows = (
        await admin.query(`SELECT version, name, applied_at FROM "${schema}".schema_migrations ORDER BY version`)
      ).rows as Array<{ version: number; name: string; applied_at: Date }>;
      expect(rows.map((r) => [r.version, r.name])).toEqual([[1, '0001_init.sql']]);
      // Every store works on the one schema.
      await stores[0]?.putPipeline(spec('p'));
      for (const s of stores) expect((await s.listPipelines()).map((p) => p.name)).toEqual(['p']);
      const again = await connect(schema);
      await again.close();
      const after = (await admin.query(`SELECT applied_at FROM "${schema}".schema_migrations`)).rows;
      expect(after).toEqual(rows.map((r) => ({ applied_at: r.applied_at })));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await admin.end();
    }
  });

  it('a schema migrated by a newer Interlock is refused (STORE_UNAVAILABLE), never written to', async () => {
    const schema = schemaName();
    await (await connect(schema)).close();
    const admin = await pgAdmin();
    try {
      await admin.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (9999, '9999_future.sql')`);
    } finally {
      await admin.end();
    }
    await expect(connect(schema)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: /9999.*upgrade/ });
  });

  it('a bad schema name or pool size is CONFIG_INVALID; an unreachable server is STORE_UNAVAILABLE, password masked', async () => {
    await expect(connect('Bad-Name')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(connect('x"; DROP SCHEMA public; --')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(connect(schemaName(), { poolSize: 0 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const err = await PostgresStore.connect({
      url: 'postgres://postgres:s3cret-pw@127.0.0.1:1/test',
      schema: 'x',
      connectTimeoutMs: 2000,
    }).catch((e: unknown) => e as Error & { code?: string });
    expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect((err as Error).message).toContain('postgres://postgres:***@127.0.0.1:1/test');
    expect((err as Error).message).not.toContain('s3cret-pw');
  });

  it('createStore({provider: postgres}) opens it (lazily imported) with schema and pool size', async () => {
    const schema = schemaName();
    const s = await createStore({ provider: 'postgres', postgres: { url: PG_URL, schema, poolSize: 3 } });
    try {
      expect(s.kind).toBe('postgres');
      await s.ping();
      expect((s as PostgresStore).schema).toBe(schema);
    } finally {
      await s.close();
    }
  });

  it('the pool holds at most poolSize connections, and more concurrent calls than that still all complete', async () => {
    const schema = schemaName();
    const s = await connect(schema, { poolSize: 2 });
    const admin = await pgAdmin();
    try {
      let peak = 0;
      let busy = false;
      const probe = setInterval(() => {
        if (busy) return; // one query at a time on the admin connection
        busy = true;
        admin
          .query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [`interlock:${schema}`])
          .then((r) => {
            peak = Math.max(peak, (r.rows[0] as { n: number }).n);
          })
          .catch(() => undefined)
          .finally(() => {
            busy = false;
          });
      }, 5);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          s.saveEvaluation({
            results: [result('p', `t${i}`)],
            readiness: readiness('p'),
            decision: decision('p', `d${i}`),
          }),
        ),
      );
      clearInterval(probe);
      expect((await s.listDecisions('p')).length).toBe(20);
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(2);
    } finally {
      await s.close();
      await admin.end();
    }
  });

  it("the store's clock is the server's; casRun ifOverdue is decided on it, not on the caller's now", async () => {
    await withStore(async (s) => {
      expect(Math.abs(s.clock.now() - Date.now())).toBeLessThan(2000);
      // Due in an hour by the server; the caller claims it is ten hours later: refused (SQLite would apply it).
      const now = Date.now();
      const a = run('p', 'r1', now, now + 3_600_000);
      expect(await s.createRun(a)).toEqual({ ok: true });
      const late = { ...a, status: 'TIMED_OUT' as const, version: 2, updatedAt: now + 36_000_000 };
      const r = await s.casRun(late, 1, { ifOverdue: true });
      expect(r).toEqual({ ok: false, current: a });
    });
  });

  it('lease epochs come from a sequence: they grow across names and even past a lost lease row', async () => {
    await withStore(async (s) => {
      const a = await s.acquireLease('a', 'h1', 60_000, 0);
      const b = await s.acquireLease('b', 'h1', 60_000, 0);
      expect(a.ok && b.ok).toBe(true);
      expect(b.lease.epoch).toBeGreaterThan(a.lease.epoch);
      // A renewal keeps the epoch.
      expect((await s.acquireLease('a', 'h1', 60_000, 0)).lease.epoch).toBe(a.lease.epoch);
      const admin = await pgAdmin();
      try {
        await admin.query(`DELETE FROM "${s.schema}".leases WHERE name = 'a'`);
      } finally {
        await admin.end();
      }
      // The row is gone; a new holder still gets an epoch above every one handed out before (a stale leader's
      // fence stays refused).
      const again = await s.acquireLease('a', 'h2', 60_000, 0);
      expect(again.ok && again.lease.epoch).toBeGreaterThan(b.lease.epoch);
      expect((await s.createWindow(window('p', T0), { name: 'a', epoch: a.lease.epoch })).ok).toBe(false);
    });
  });

  it('a failed write rolls back whole and sends no notification (NOTIFY is in its transaction)', async () => {
    const schema = schemaName();
    const s = await connect(schema);
    const other = await connect(schema);
    const seen: StoreChange[] = [];
    const stop = other.watchChanges((c) => seen.push(c));
    try {
      await waitFor('the feed to listen', 3000, async () => other.feedStatus().state === 'listening');
      await s.saveEvaluation({
        results: [result('p', 'a')],
        readiness: readiness('p'),
        decision: decision('p', 'dup'),
      });
      await waitFor('the first notification', 3000, async () => seen.some((c) => c.pipeline === 'p'));
      // Same decision id again violates UNIQUE after the trait row was written: everything rolls back.
      await expect(
        s.saveEvaluation({
          results: [result('bad', 'a', { status: 'FAIL' })],
          readiness: readiness('bad', T0, 'NOT_READY'),
          decision: decision('bad', 'dup'),
        }),
      ).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await s.putPipeline(spec('marker'));
      await waitFor('the marker notification', 3000, async () => seen.some((c) => c.pipeline === 'marker'));
      expect(seen.filter((c) => c.pipeline === 'bad')).toEqual([]);
      expect(await s.getTraitResults('bad')).toEqual([]);
      expect(await s.getReadiness('bad')).toBeUndefined();
    } finally {
      stop();
      await Promise.all([s.close(), other.close()]);
    }
  });

  it('change feed: after pg_terminate_backend of its listener it reconnects and sweeps what was written meanwhile', async () => {
    const schema = schemaName();
    // Reconnects only after 600 ms, so the writes below land while it is away.
    const watcher = await connect(schema, { feedReconnectMs: { first: 600, max: 600 } });
    const writer = await connect(schema);
    const admin = await pgAdmin();
    const seen: StoreChange[] = [];
    const stop = watcher.watchChanges((c) => seen.push(c));
    try {
      await waitFor('the feed to listen', 3000, async () => watcher.feedStatus().state === 'listening');
      const pid = watcher.feedStatus().pid;
      expect(pid).toBeGreaterThan(0);
      await writer.createWindow(window('before', T0));
      await waitFor('a live notification', 3000, async () => seen.some((c) => c.pipeline === 'before'));
      const killed = await admin.query('SELECT pg_terminate_backend($1) AS ok', [pid]);
      expect((killed.rows[0] as { ok: boolean }).ok).toBe(true);
      await waitFor('the feed to notice', 3000, async () => watcher.feedStatus().state !== 'listening');
      await writer.createRun(run('missed-run', '01M'));
      await writer.saveEvaluation({
        results: [result('missed-eval', 'a')],
        readiness: readiness('missed-eval'),
        decision: decision('missed-eval', 'dm'),
      });
      expect(seen.some((c) => c.pipeline.startsWith('missed'))).toBe(false);
      await waitFor('the sweep after reconnecting', 5000, async () =>
        ['missed-run', 'missed-eval'].every((p) => seen.some((c) => c.pipeline === p)),
      );
      expect(seen.find((c) => c.pipeline === 'missed-run')?.kind).toBe('run');
      expect(seen.find((c) => c.pipeline === 'missed-eval')?.kind).toBe('evaluation');
      const status = watcher.feedStatus();
      expect(status.state).toBe('listening');
      expect(status.pid).not.toBe(pid);
      // Live again.
      await writer.putPipeline(spec('after'));
      await waitFor('a live notification after the reconnect', 3000, async () =>
        seen.some((c) => c.pipeline === 'after'),
      );
    } finally {
      stop();
      await Promise.all([watcher.close(), writer.close()]);
      await admin.end();
    }
  });

  it('the feed ignores what is not its own payload on its channel', async () => {
    const schema = schemaName();
    await withStore(async (s) => {
      const seen: StoreChange[] = [];
      const stop = s.watchChanges((c) => seen.push(c));
      const admin = await pgAdmin();
      try {
        await waitFor('the feed to listen', 3000, async () => s.feedStatus().state === 'listening');
        for (const payload of ['not json', '{"pipeline":1,"kind":"run"}', '{"pipeline":"x","kind":"evil"}', 'null'])
          await admin.query('SELECT pg_notify($1, $2)', [`interlock_feed_${schema}`, payload]);
        await admin.query('SELECT pg_notify($1, $2)', [`interlock_feed_${schema}`, '{"pipeline":"ok","kind":"run"}']);
        await waitFor('the valid one', 3000, async () => seen.length > 0);
        await sleep(100);
        expect(seen).toEqual([{ pipeline: 'ok', kind: 'run' }]);
      } finally {
        stop();
        await admin.end();
      }
    }, schema);
  });

  it('corrupt stored JSON is STORE_CORRUPT', async () => {
    await withStore(async (s) => {
      const admin = await pgAdmin();
      try {
        await admin.query(
          `INSERT INTO "${s.schema}".readiness (pipeline, outcome, readiness, decided_at) VALUES ('p', 'READY', '{not json', 1)`,
        );
        await admin.query(
          `INSERT INTO "${s.schema}".runs (run_id, pipeline, status, version, created_at, updated_at, record) VALUES ('r', 'p', 'PENDING', 1, 1, 1, '{"runId":"r","pipeline":"p","status":"PENDING","version":"1","deadlineAt":1}')`,
        );
      } finally {
        await admin.end();
      }
      await expect(s.getReadiness('p')).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
      await expect(s.getRun('r')).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    });
  });

  it('schemas are isolated: two stores on two schemas of one database see nothing of each other', async () => {
    await withStore(async (a) => {
      await withStore(async (b) => {
        await a.putPipeline(spec('only-a'));
        await a.createRun(run('p', 'ra'));
        expect(await b.listPipelines()).toEqual([]);
        expect(await b.getActiveRun('p')).toBeUndefined();
        expect(await b.createRun(run('p', 'rb'))).toEqual({ ok: true });
      });
    });
  });
});
