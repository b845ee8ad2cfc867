// The SQL builtins against the real PostgreSQL at 127.0.0.1:5432 (user postgres, trust, database test): each test
// its own schema, dropped after. Timeouts cancel the query on the server (pg_cancel_backend), checked in
// pg_stat_activity.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import type { ResolvedTrait } from '../../core/types.js';
import { type EvalContext, EvaluatorPool, evaluateTrait } from '../runner.js';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Client({ connectionString: URL });
const schemas: string[] = [];

beforeAll(async () => {
  // Fails (never skips) when the server is not there: these tests are the proof of the PostgreSQL builtins.
  await admin.connect();
});
afterEach(async () => {
  for (const s of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
});
afterAll(() => admin.end());

/** A fresh schema with sales(loaded_at timestamptz, amount, region) holding `fresh` rows 60 s old and `stale` 2 h old. */
async function schema(rows: { fresh?: number; stale?: number } = {}): Promise<string> {
  const s = `builtin_${randomBytes(6).toString('hex')}`;
  schemas.push(s);
  await admin.query(`CREATE SCHEMA ${s}`);
  await admin.query(
    `CREATE TABLE ${s}.sales (id serial, region text, amount numeric, loaded_at timestamptz, naive timestamp, note text)`,
  );
  await admin.query(`CREATE TABLE ${s}.empty (loaded_at timestamptz)`);
  for (let i = 0; i < (rows.fresh ?? 0); i++)
    await admin.query(
      `INSERT INTO ${s}.sales (region, amount, loaded_at, naive, note) VALUES ('eu', 10, now() - interval '60 seconds', localtimestamp - interval '60 seconds', 'x')`,
    );
  for (let i = 0; i < (rows.stale ?? 0); i++)
    await admin.query(
      `INSERT INTO ${s}.sales (region, amount, loaded_at, naive, note) VALUES ('us', -1, now() - interval '2 hours', localtimestamp - interval '2 hours', 'y')`,
    );
  return s;
}

function sqlTrait(builtin: string, config: Record<string, unknown>, over: Partial<ResolvedTrait> = {}): ResolvedTrait {
  return {
    type: 't',
    required: true,
    builtin,
    evaluatorRef: `builtin:${builtin}`,
    config,
    timeoutSeconds: 10,
    ...over,
  };
}
const ctx = (url = URL): EvalContext => ({
  projectDir: '/',
  pipeline: 'p',
  clock: new FakeClock(),
  env: {},
  connections: { wh: { url } },
});

describe('SQL builtins on PostgreSQL', () => {
  it('sql-freshness: fresh, stale (where), timestamp without time zone, against the server clock', async () => {
    const s = await schema({ fresh: 2, stale: 2 });
    const fresh = await evaluateTrait(
      sqlTrait('sql-freshness', { connection: 'wh', table: `${s}.sales`, column: 'loaded_at', maxLag: '15m' }),
      ctx(),
    );
    expect(fresh.status, fresh.reason).toBe('PASS');
    expect(fresh.value).toMatchObject({ clock: 'database', maxLagSeconds: 900 });
    expect(fresh.value?.lagSeconds).toBeGreaterThanOrEqual(59);
    expect(fresh.value?.lagSeconds).toBeLessThan(120);
    expect(typeof fresh.value?.maxLoadedAt).toBe('string');
    const naive = await evaluateTrait(
      sqlTrait('sql-freshness', { connection: 'wh', table: `${s}.sales`, column: 'naive', maxLag: '15m' }),
      ctx(),
    );
    expect(naive.status, naive.reason).toBe('PASS');
    const stale = await evaluateTrait(
      sqlTrait('sql-freshness', {
        connection: 'wh',
        table: `${s}.sales`,
        column: 'loaded_at',
        maxLag: '15m',
        where: "region = 'us'",
      }),
      ctx(),
    );
    expect(stale).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED' });
    expect(stale.value?.lagSeconds).toBeGreaterThan(7000);
  });

  it('sql-freshness: an empty table (NULL max) and a column of the wrong type are CHECK_FAILED', async () => {
    const s = await schema({ fresh: 1 });
    const empty = await evaluateTrait(
      sqlTrait('sql-freshness', { connection: 'wh', table: `${s}.empty`, column: 'loaded_at', maxLag: 60 }),
      ctx(),
    );
    expect(empty).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { maxLoadedAt: null } });
    const wrong = await evaluateTrait(
      sqlTrait('sql-freshness', { connection: 'wh', table: `${s}.sales`, column: 'note', maxLag: 60 }),
      ctx(),
    );
    expect(wrong).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED' });
    expect(wrong.reason).toMatch(/not a timestamp column/);
  });

  it('sql-row-count and sql-query: values, thresholds; a missing table is QUERY_FAILED with the server message', async () => {
    const s = await schema({ fresh: 3, stale: 1 });
    const rows = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'wh', table: `${s}.sales`, min: 4 }),
      ctx(),
    );
    expect(rows).toMatchObject({ status: 'PASS', value: { rows: 4 } });
    const few = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'wh', table: `${s}.sales`, min: 5 }),
      ctx(),
    );
    expect(few).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { rows: 4 } });
    const q = await evaluateTrait(
      sqlTrait('sql-query', {
        connection: 'wh',
        query: `select count(*) from ${s}.sales where amount < 0`,
        expect: { eq: 0 },
      }),
      ctx(),
    );
    expect(q).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED' });
    expect(q.reason).toMatch(/query returned "1", expected = 0/);
    const write = await evaluateTrait(
      sqlTrait('sql-query', { connection: 'wh', query: `delete from ${s}.sales` }),
      ctx(),
    );
    expect(write).toMatchObject({ status: 'FAIL', reasonCode: 'QUERY_FAILED' });
    expect(write.reason).toMatch(/read-only transaction/);
    expect((await admin.query(`select count(*)::int as n from ${s}.sales`)).rows[0].n).toBe(4);
    const missing = await evaluateTrait(sqlTrait('sql-row-count', { connection: 'wh', table: `${s}.nope` }), ctx());
    expect(missing).toMatchObject({ status: 'FAIL', reasonCode: 'QUERY_FAILED' });
    expect(missing.reason).toMatch(/relation ".*nope" does not exist/);
  });

  it('sql-schema: aliases match (int4/integer, timestamptz, numeric/decimal, text/varchar); each problem is named', async () => {
    const s = await schema();
    const ok = await evaluateTrait(
      sqlTrait('sql-schema', {
        connection: 'wh',
        table: `${s}.sales`,
        columns: {
          id: 'int4',
          region: 'varchar',
          amount: 'decimal',
          loaded_at: 'timestamp with time zone',
          naive: 'timestamp',
        },
      }),
      ctx(),
    );
    expect(ok.status, ok.reason).toBe('PASS');
    expect(ok.value).toMatchObject({ actual: { id: 'integer', loaded_at: 'timestamp with time zone' }, missing: [] });
    const bad = await evaluateTrait(
      sqlTrait('sql-schema', {
        connection: 'wh',
        table: `${s}.sales`,
        columns: { id: 'integer', naive: 'timestamptz', amount: 'integer', gone: 'text', Region: 'text' },
      }),
      ctx(),
    );
    expect(bad).toMatchObject({
      status: 'FAIL',
      reasonCode: 'CHECK_FAILED',
      value: {
        missing: ['gone', 'Region'],
        wrongType: [
          { column: 'naive', expected: 'timestamptz', actual: 'timestamp without time zone' },
          { column: 'amount', expected: 'integer', actual: 'numeric' },
        ],
      },
    });
    expect(bad.reason).toMatch(
      /missing column gone; missing column Region; naive is timestamp without time zone, expected timestamptz; amount is numeric, expected integer/,
    );
    const none = await evaluateTrait(
      sqlTrait('sql-schema', { connection: 'wh', table: `${s}.nope`, columns: { id: 'int' } }),
      ctx(),
    );
    expect(none).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { tableExists: false } });
  });

  it('checks through one EvaluatorPool share one pg pool (few backends), closed with it', async () => {
    const s = await schema({ fresh: 1 });
    const pool = new EvaluatorPool(8);
    const traits = Array.from({ length: 12 }, (_, i) =>
      sqlTrait('sql-query', { connection: 'wh', query: `select pg_backend_pid() as p${i}` }),
    );
    const results = await pool.evaluateAll(traits, ctx());
    expect(results.map((r) => r.status)).toEqual(traits.map(() => 'PASS'));
    const pids = new Set(results.map((r) => r.value?.result));
    expect(pids.size).toBeLessThanOrEqual(4);
    expect(pool.sql.size).toBe(1);
    await pool.close();
    const alive = async () =>
      (await admin.query('select count(*)::int as n from pg_stat_activity where pid = any($1)', [[...pids]])).rows[0]
        .n as number;
    let n = await alive();
    for (let i = 0; i < 40 && n > 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
      n = await alive();
    }
    expect(n).toBe(0);
    void s;
  });

  it('bad credentials and a stopped server are CONNECTION_FAILED (the password never shows)', async () => {
    const nobody = await evaluateTrait(
      sqlTrait('sql-query', { connection: 'wh', query: 'select 1' }),
      ctx('postgres://no_such_role_x:pw-secret-1@127.0.0.1:5432/test'),
    );
    expect(nobody).toMatchObject({ status: 'FAIL', reasonCode: 'CONNECTION_FAILED' });
    expect(nobody.reason).toMatch(/no_such_role_x/);
    expect(nobody.reason).not.toContain('pw-secret-1');
    const stopped = await evaluateTrait(
      sqlTrait('sql-query', { connection: 'wh', query: 'select 1' }),
      ctx('postgres://postgres@127.0.0.1:1/test'),
    );
    expect(stopped).toMatchObject({ status: 'FAIL', reasonCode: 'CONNECTION_FAILED' });
    expect(stopped.reason).toMatch(/ECONNREFUSED/);
  });

  it('a query past the timeout FAILs EVALUATOR_TIMEOUT and is cancelled on the server', async () => {
    const marker = `interlock_sleep_${randomBytes(4).toString('hex')}`;
    const started = Date.now();
    const r = await evaluateTrait(
      sqlTrait('sql-query', { connection: 'wh', query: `select pg_sleep(30) as ${marker}` }, { timeoutSeconds: 1 }),
      ctx(),
    );
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5000);
    // Gone from the server well before statement_timeout (timeout + 5 s) would have stopped it.
    const activity = async () =>
      (
        await admin.query(
          "select count(*)::int as n from pg_stat_activity where query like '%' || $1 || '%' and pid <> pg_backend_pid() and state = 'active'",
          [marker],
        )
      ).rows[0].n as number;
    let n = await activity();
    for (let i = 0; i < 40 && n > 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
      n = await activity();
    }
    expect(n).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
