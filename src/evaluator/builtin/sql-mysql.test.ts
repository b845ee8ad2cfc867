// The SQL builtins against the real MariaDB at 127.0.0.1:3306 (root, empty password): each test its own database,
// dropped after. Timeouts stop the query on the server (KILL QUERY), checked in SHOW PROCESSLIST; the pool per
// connection is reused, and a connection that never answers does not hold up another.
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import type { ResolvedTrait } from '../../core/types.js';
import { type EvalContext, EvaluatorPool, evaluateTrait } from '../runner.js';
import { quoteMysqlIdent, SqlPools } from './sql-connection.js';

const ROOT = 'mysql://root@127.0.0.1:3306';
let admin: mysql.Connection;
const databases: string[] = [];

beforeAll(async () => {
  // Fails (never skips) when the server is not there: these tests are the proof of the MySQL/MariaDB builtins.
  admin = await mysql.createConnection({ uri: `${ROOT}/test`, dateStrings: true });
});
afterEach(async () => {
  for (const d of databases.splice(0)) await admin.query(`DROP DATABASE IF EXISTS ${d}`);
});
afterAll(() => admin.end());

/**
 * A fresh database with sales(id, region, amount decimal, loaded_at TIMESTAMP, naive DATETIME, note text): `fresh`
 * rows 60 s old and `stale` rows 2 h old (as the server's NOW() writes them), and an empty table.
 */
async function database(rows: { fresh?: number; stale?: number } = {}): Promise<string> {
  const d = `builtin_${randomBytes(6).toString('hex')}`;
  databases.push(d);
  await admin.query(`CREATE DATABASE ${d}`);
  await admin.query(
    `CREATE TABLE ${d}.sales (id int AUTO_INCREMENT PRIMARY KEY, region varchar(10), amount decimal(12,2), loaded_at timestamp(6) NULL, naive datetime(6), note text, flag tinyint(1), big bigint)`,
  );
  await admin.query(`CREATE TABLE ${d}.empty (loaded_at datetime)`);
  for (let i = 0; i < (rows.fresh ?? 0); i++)
    await admin.query(
      `INSERT INTO ${d}.sales (region, amount, loaded_at, naive, note) VALUES ('eu', 10, NOW(6) - INTERVAL 60 SECOND, NOW(6) - INTERVAL 60 SECOND, 'x')`,
    );
  for (let i = 0; i < (rows.stale ?? 0); i++)
    await admin.query(
      `INSERT INTO ${d}.sales (region, amount, loaded_at, naive, note) VALUES ('us', -1, NOW(6) - INTERVAL 2 HOUR, NOW(6) - INTERVAL 2 HOUR, 'y')`,
    );
  return d;
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
const ctx = (url: string, over: Partial<EvalContext> = {}): EvalContext => ({
  projectDir: '/',
  pipeline: 'p',
  clock: new FakeClock(),
  env: {},
  connections: { wh: { url } },
  ...over,
});

describe('SQL builtins on MariaDB', () => {
  it('sql-freshness: TIMESTAMP and DATETIME columns, fresh and stale (where), against the server clock', async () => {
    const d = await database({ fresh: 2, stale: 2 });
    for (const column of ['loaded_at', 'naive']) {
      const fresh = await evaluateTrait(
        sqlTrait('sql-freshness', { connection: 'wh', table: `${d}.sales`, column, maxLag: '15m' }),
        ctx(`${ROOT}/${d}`),
      );
      expect(fresh.status, fresh.reason).toBe('PASS');
      expect(fresh.value).toMatchObject({ clock: 'database', maxLagSeconds: 900, databaseTimeZone: 'SYSTEM' });
      expect(fresh.value?.lagSeconds).toBeGreaterThanOrEqual(59);
      expect(fresh.value?.lagSeconds).toBeLessThan(120);
      // As the server prints it (no host time zone in between).
      expect(fresh.value?.maxLoadedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
      expect(fresh.value?.databaseNow).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    }
    const stale = await evaluateTrait(
      sqlTrait('sql-freshness', {
        connection: 'wh',
        table: 'sales',
        column: 'loaded_at',
        maxLag: '15m',
        where: "region = 'us'",
      }),
      ctx(`mariadb://root@127.0.0.1:3306/${d}`),
    );
    expect(stale).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED' });
    expect(stale.value?.lagSeconds).toBeGreaterThan(7000);
    expect(stale.reason).toMatch(/behind the database's now, more than maxLag 900s/);
  });

  it('sql-freshness: an empty table (NULL max) and a column that is not a date are CHECK_FAILED', async () => {
    const d = await database({ fresh: 1 });
    const empty = await evaluateTrait(
      sqlTrait('sql-freshness', { connection: 'wh', table: `${d}.empty`, column: 'loaded_at', maxLag: 60 }),
      ctx(`${ROOT}/${d}`),
    );
    expect(empty).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { maxLoadedAt: null } });
    expect(empty.reason).toMatch(/is NULL \(no rows\)/);
    const wrong = await evaluateTrait(
      sqlTrait('sql-freshness', { connection: 'wh', table: `${d}.sales`, column: 'note', maxLag: 60 }),
      ctx(`${ROOT}/${d}`),
    );
    expect(wrong).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { maxLoadedAt: 'x' } });
    expect(wrong.reason).toMatch(/not a date and time/);
  });

  it('sql-row-count and sql-query: values, thresholds, read-only; a missing table is QUERY_FAILED', async () => {
    const d = await database({ fresh: 3, stale: 1 });
    const rows = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'wh', table: `${d}.sales`, min: 4 }),
      ctx(`${ROOT}/${d}`),
    );
    expect(rows).toMatchObject({ status: 'PASS', value: { rows: 4, min: 4 } });
    const few = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'wh', table: 'sales', min: 1, max: 3, where: "region = 'eu' OR 1=1" }),
      ctx(`${ROOT}/${d}`),
    );
    expect(few).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { rows: 4, max: 3 } });
    expect(few.reason).toMatch(/has 4 rows, more than max 3/);
    const q = await evaluateTrait(
      sqlTrait('sql-query', {
        connection: 'wh',
        query: `select count(*) from ${d}.sales where amount < 0`,
        expect: { eq: 0 },
      }),
      ctx(`${ROOT}/${d}`),
    );
    expect(q).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { result: 1 } });
    expect(q.reason).toMatch(/query returned 1, expected = 0/);
    const sum = await evaluateTrait(
      sqlTrait('sql-query', { connection: 'wh', query: 'select sum(amount) from sales', expect: { gt: 20 } }),
      ctx(`${ROOT}/${d}`),
    );
    expect(sum).toMatchObject({ status: 'PASS', value: { result: '29.00' } });
    const write = await evaluateTrait(
      sqlTrait('sql-query', { connection: 'wh', query: `delete from ${d}.sales` }),
      ctx(`${ROOT}/${d}`),
    );
    expect(write).toMatchObject({ status: 'FAIL', reasonCode: 'QUERY_FAILED' });
    expect(write.reason).toMatch(/READ ONLY transaction/i);
    const [[left]] = (await admin.query(`select count(*) as n from ${d}.sales`)) as unknown as [[{ n: number }]];
    expect(left?.n).toBe(4);
    const missing = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'wh', table: `${d}.nope` }),
      ctx(`${ROOT}/${d}`),
    );
    expect(missing).toMatchObject({ status: 'FAIL', reasonCode: 'QUERY_FAILED' });
    expect(missing.reason).toMatch(/Table '.*nope' doesn't exist/);
  });

  it('sql-schema: a matching contract PASSes; each missing column and wrong type is named, expected vs actual', async () => {
    const d = await database();
    const ok = await evaluateTrait(
      sqlTrait('sql-schema', {
        connection: 'wh',
        table: `${d}.sales`,
        columns: {
          id: 'integer',
          amount: 'numeric',
          loaded_at: 'timestamptz',
          naive: 'timestamp',
          region: 'varchar',
          note: 'text',
          flag: 'boolean',
          big: 'int8',
        },
      }),
      ctx(`${ROOT}/${d}`),
    );
    expect(ok.status, ok.reason).toBe('PASS');
    expect(ok.value).toMatchObject({ actual: { amount: 'decimal(12,2)', loaded_at: 'timestamp(6)' }, missing: [] });
    const bad = await evaluateTrait(
      sqlTrait('sql-schema', {
        connection: 'wh',
        table: 'sales',
        columns: { id: 'bigint', loaded_at: 'timestamp', gone: 'text', amount: 'decimal' },
      }),
      ctx(`${ROOT}/${d}`),
    );
    expect(bad).toMatchObject({
      status: 'FAIL',
      reasonCode: 'CHECK_FAILED',
      value: {
        missing: ['gone'],
        wrongType: [
          { column: 'id', expected: 'bigint', actual: 'int(11)' },
          { column: 'loaded_at', expected: 'timestamp', actual: 'timestamp(6)' },
        ],
      },
    });
    expect(bad.reason).toMatch(/missing column gone; id is int\(11\), expected bigint; loaded_at is timestamp\(6\)/);
    const none = await evaluateTrait(
      sqlTrait('sql-schema', { connection: 'wh', table: 'nope', columns: { id: 'int' } }),
      ctx(`${ROOT}/${d}`),
    );
    expect(none).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { tableExists: false } });
  });

  it('bad credentials and a stopped server are CONNECTION_FAILED (the password never shows)', async () => {
    const nobody = await evaluateTrait(
      sqlTrait('sql-query', { connection: 'wh', query: 'select 1' }),
      ctx('mysql://no_such_user_x:pw-secret-1@127.0.0.1:3306/test'),
    );
    expect(nobody).toMatchObject({ status: 'FAIL', reasonCode: 'CONNECTION_FAILED' });
    expect(nobody.reason).toMatch(/Access denied for user 'no_such_user_x'/);
    expect(nobody.reason).not.toContain('pw-secret-1');
    expect(nobody.reason).toContain('no_such_user_x:***@');
    // Port 1: nobody listens (the shared server is never stopped by a test).
    const stopped = await evaluateTrait(
      sqlTrait('sql-query', { connection: 'wh', query: 'select 1' }),
      ctx('mysql://root@127.0.0.1:1/test'),
    );
    expect(stopped).toMatchObject({ status: 'FAIL', reasonCode: 'CONNECTION_FAILED' });
    expect(stopped.reason).toMatch(/ECONNREFUSED/);
  });

  it('a query past the timeout FAILs EVALUATOR_TIMEOUT and is killed on the server (SHOW PROCESSLIST)', async () => {
    const marker = `interlock_sleep_${randomBytes(4).toString('hex')}`;
    const pools = new SqlPools();
    const started = Date.now();
    const r = await evaluateTrait(
      sqlTrait('sql-query', { connection: 'wh', query: `select sleep(30) as ${marker}` }, { timeoutSeconds: 1 }),
      ctx(`${ROOT}/test`, { sql: pools }),
    );
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(3000);
    const running = async () => {
      const [list] = (await admin.query('SHOW FULL PROCESSLIST')) as unknown as [Array<{ Info: string | null }>];
      return list.filter((p) => p.Info?.includes(marker)).length;
    };
    let n = await running();
    for (let i = 0; i < 40 && n > 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
      n = await running();
    }
    expect(n).toBe(0);
    // Gone well before max_statement_time (timeout + 5 s) would have stopped it.
    expect(Date.now() - started).toBeLessThan(5000);
    // The pool is still usable after a cancel.
    const after = await evaluateTrait(
      sqlTrait('sql-query', { connection: 'wh', query: 'select 1', expect: { eq: 1 } }),
      ctx(`${ROOT}/test`, { sql: pools }),
    );
    expect(after.status, after.reason).toBe('PASS');
    await pools.close();
  });

  it('identifiers: a table like "x; drop table y" never reaches SQL; quoting doubles backticks', async () => {
    const d = await database({ fresh: 1 });
    const r = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'wh', table: `sales; drop table ${d}.sales` }),
      ctx(`${ROOT}/${d}`),
    );
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR' });
    expect(r.reason).toMatch(/expected a table name/);
    const [[left]] = (await admin.query(`select count(*) as n from ${d}.sales`)) as unknown as [[{ n: number }]];
    expect(left?.n).toBe(1);
    expect(quoteMysqlIdent('db.odd`name')).toBe('`db`.`odd``name`');
  });
});

describe('one pool per connection', () => {
  it('checks through an EvaluatorPool share one pool per connection, a few server connections, closed with it', async () => {
    const d = await database({ fresh: 1 });
    const pool = new EvaluatorPool(8);
    const traits = Array.from({ length: 16 }, (_, i) =>
      sqlTrait('sql-query', { connection: 'wh', query: `select connection_id() as c${i}`, expect: 'truthy' }),
    );
    const results = await pool.evaluateAll(traits, ctx(`${ROOT}/${d}`));
    expect(results.map((r) => r.status)).toEqual(traits.map(() => 'PASS'));
    const threads = new Set(results.map((r) => r.value?.result));
    expect(threads.size).toBeGreaterThanOrEqual(1);
    expect(threads.size).toBeLessThanOrEqual(4);
    expect(pool.sql.size).toBe(1);
    await pool.close();
    // Closed: the pool's connections leave the server (it handles each QUIT on its own thread, so poll briefly).
    const open = async () => {
      const [list] = (await admin.query('SHOW PROCESSLIST')) as unknown as [Array<{ Id: number }>];
      return list.filter((p) => threads.has(p.Id)).length;
    };
    let n = await open();
    for (let i = 0; i < 40 && n > 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
      n = await open();
    }
    expect(n).toBe(0);
  });

  it('a connection whose server never answers does not hold up another connection', async () => {
    // A listener that accepts and never says a word (a hung server): its checks wait, the other one does not.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    const port = (silent.address() as { port: number }).port;
    const d = await database({ fresh: 2 });
    const pool = new EvaluatorPool(8);
    const c: EvalContext = {
      ...ctx(`${ROOT}/${d}`),
      connections: { wh: { url: `${ROOT}/${d}` }, hung: { url: `mysql://root@127.0.0.1:${port}/x` } },
    };
    const started = Date.now();
    const hung = pool.evaluateAll(
      Array.from({ length: 3 }, () =>
        sqlTrait('sql-query', { connection: 'hung', query: 'select 1' }, { timeoutSeconds: 2 }),
      ),
      c,
    );
    const good = await pool.evaluateAll([sqlTrait('sql-row-count', { connection: 'wh', table: 'sales' })], c);
    expect(good[0]).toMatchObject({ status: 'PASS', value: { rows: 2 } });
    expect(Date.now() - started).toBeLessThan(1500);
    const h = await hung;
    expect(h.map((r) => r.reasonCode)).toEqual(['EVALUATOR_TIMEOUT', 'EVALUATOR_TIMEOUT', 'EVALUATOR_TIMEOUT']);
    expect(Date.now() - started).toBeLessThan(4000);
    // Closing does not wait for connects still pending on the silent server.
    const closing = Date.now();
    await pool.close();
    expect(Date.now() - closing).toBeLessThan(2500);
    for (const s of sockets) s.destroy();
    await new Promise((res) => silent.close(res));
  });
});
