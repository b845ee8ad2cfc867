// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in connection URLs are under test.
// The SQL builtins (sql-freshness, sql-row-count, sql-query) through the evaluator runner against a real SQLite file.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { tempDirFor } from '../../../test/support/test-cleanups.js';
import type { ResolvedTrait } from '../../core/types.js';
import { type EvalContext, evaluateTrait } from '../runner.js';
import { quoteIdent, sqlitePath } from './sql-connection.js';
import { unmet } from './sql-query.js';

/** A warehouse.db in a fresh project dir: sales_events with `fresh` rows 60 s old and `stale` rows 2 h old. */
function warehouse(root: string, rows: { fresh?: number; stale?: number } = {}): void {
  const db = new Database(join(root, 'warehouse.db'));
  db.exec(`CREATE TABLE sales_events (id INTEGER PRIMARY KEY, region TEXT, amount REAL, loaded_at TEXT, loaded_epoch INTEGER);
           CREATE TABLE "odd""name" (x INTEGER); CREATE TABLE empty (loaded_at TEXT); CREATE TABLE y (x INTEGER);`);
  const ins = db.prepare(
    `INSERT INTO sales_events (region, amount, loaded_at, loaded_epoch)
     VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?), unixepoch('now', ?))`,
  );
  for (let i = 0; i < (rows.fresh ?? 0); i++) ins.run('eu', 10, '-60 seconds', '-60 seconds');
  for (let i = 0; i < (rows.stale ?? 0); i++) ins.run('us', -1, '-7200 seconds', '-7200 seconds');
  db.close();
}

function sqlTrait(builtin: string, config: Record<string, unknown>, over: Partial<ResolvedTrait> = {}): ResolvedTrait {
  const t: ResolvedTrait = { type: 't', required: true, builtin, config, timeoutSeconds: 5, ...over };
  t.evaluatorRef = `builtin:${builtin}`;
  return t;
}
const ctx = (root: string, over: Partial<EvalContext> = {}): EvalContext => ({
  projectDir: root,
  pipeline: 'p',
  clock: new FakeClock(),
  env: {},
  connections: { warehouse: { url: 'sqlite:warehouse.db' } },
  ...over,
});

describe('builtin:sql-freshness (SQLite)', () => {
  it('PASSes when max(column) is within maxLag of the database now, and says which clock', async (t) => {
    const root = tempDirFor(t);
    warehouse(root, { fresh: 2, stale: 3 });
    const r = await evaluateTrait(
      sqlTrait('sql-freshness', { connection: 'warehouse', table: 'sales_events', column: 'loaded_at', maxLag: '15m' }),
      ctx(root),
    );
    expect(r.status).toBe('PASS');
    expect(r.value).toMatchObject({ clock: 'database', maxLagSeconds: 900 });
    expect(r.value?.lagSeconds).toBeGreaterThanOrEqual(59);
    expect(r.value?.lagSeconds).toBeLessThan(120);
    // An epoch-seconds column works the same way.
    const epoch = await evaluateTrait(
      sqlTrait('sql-freshness', {
        connection: 'warehouse',
        table: 'main.sales_events',
        column: 'loaded_epoch',
        maxLag: 900,
      }),
      ctx(root),
    );
    expect(epoch.status).toBe('PASS');
  });

  it('FAILs CHECK_FAILED when stale (where narrows it), empty (NULL max) or not a timestamp', async (t) => {
    const root = tempDirFor(t);
    warehouse(root, { fresh: 2, stale: 3 });
    const stale = await evaluateTrait(
      sqlTrait('sql-freshness', {
        connection: 'warehouse',
        table: 'sales_events',
        column: 'loaded_at',
        maxLag: '15m',
        where: "region = 'us'",
      }),
      ctx(root),
    );
    expect(stale).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED' });
    expect(stale.value?.lagSeconds).toBeGreaterThan(7000);
    expect(stale.reason).toMatch(/more than maxLag 900s/);
    const empty = await evaluateTrait(
      sqlTrait('sql-freshness', { connection: 'warehouse', table: 'empty', column: 'loaded_at', maxLag: 60 }),
      ctx(root),
    );
    expect(empty).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { maxLoadedAt: null } });
    const wrong = await evaluateTrait(
      sqlTrait('sql-freshness', { connection: 'warehouse', table: 'sales_events', column: 'region', maxLag: 60 }),
      ctx(root),
    );
    expect(wrong).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED' });
    expect(wrong.reason).toMatch(/not a timestamp/);
  });
});

describe('builtin:sql-row-count (SQLite)', () => {
  it('counts rows (with where) against min and max', async (t) => {
    const root = tempDirFor(t);
    warehouse(root, { fresh: 4, stale: 1 });
    const count = (config: Record<string, unknown>) =>
      evaluateTrait(
        sqlTrait('sql-row-count', { connection: 'warehouse', table: 'sales_events', ...config }),
        ctx(root),
      );
    expect(await count({ min: 5, max: 5 })).toMatchObject({ status: 'PASS', value: { rows: 5, min: 5, max: 5 } });
    expect(await count({ min: 6 })).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { rows: 5 } });
    expect(await count({ max: 4 })).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED' });
    expect(await count({ where: "region = 'eu'", min: 4, max: 4 })).toMatchObject({
      status: 'PASS',
      value: { rows: 4 },
    });
    // min defaults to 1: an empty table FAILs.
    const empty = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'warehouse', table: 'empty' }),
      ctx(root),
    );
    expect(empty).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { rows: 0, min: 1 } });
  });

  it('a missing table is QUERY_FAILED with the database message; a missing database CONNECTION_FAILED', async (t) => {
    const root = tempDirFor(t);
    warehouse(root);
    const missing = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'warehouse', table: 'nope' }),
      ctx(root),
    );
    expect(missing).toMatchObject({ status: 'FAIL', reasonCode: 'QUERY_FAILED' });
    expect(missing.reason).toMatch(/no such table: nope/);
    const gone = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'warehouse', table: 'y' }),
      ctx(root, { connections: { warehouse: { url: 'sqlite:missing.db' } } }),
    );
    expect(gone).toMatchObject({ status: 'FAIL', reasonCode: 'CONNECTION_FAILED' });
    const other = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'warehouse', table: 'y' }),
      ctx(root, { connections: { warehouse: { url: 'oracle://localhost/db' } } }),
    );
    expect(other).toMatchObject({ status: 'FAIL', reasonCode: 'CONNECTION_FAILED' });
    expect(other.reason).toMatch(/oracle: connections are not supported/);
  });

  it('sql-schema on SQLite: declared types by name or affinity; missing and wrong columns named', async (t) => {
    const root = tempDirFor(t);
    warehouse(root);
    const ok = await evaluateTrait(
      sqlTrait('sql-schema', {
        connection: 'warehouse',
        table: 'main.sales_events',
        columns: { id: 'bigint', region: 'text', amount: 'double', loaded_at: 'varchar', LOADED_EPOCH: 'int' },
      }),
      ctx(root),
    );
    expect(ok.status, ok.reason).toBe('PASS');
    expect(ok.value).toMatchObject({ actual: { id: 'INTEGER', amount: 'REAL' }, missing: [], wrongType: [] });
    const bad = await evaluateTrait(
      sqlTrait('sql-schema', {
        connection: 'warehouse',
        table: 'sales_events',
        columns: { id: 'integer', loaded_at: 'timestamptz', amount: 'numeric', gone: 'int' },
      }),
      ctx(root),
    );
    expect(bad).toMatchObject({
      status: 'FAIL',
      reasonCode: 'CHECK_FAILED',
      value: {
        missing: ['gone'],
        wrongType: [
          { column: 'loaded_at', expected: 'timestamptz', actual: 'TEXT' },
          { column: 'amount', expected: 'numeric', actual: 'REAL' },
        ],
      },
    });
    const none = await evaluateTrait(
      sqlTrait('sql-schema', { connection: 'warehouse', table: 'nope', columns: { x: 'int' } }),
      ctx(root),
    );
    expect(none).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { tableExists: false } });
    const typo = await evaluateTrait(
      sqlTrait('sql-schema', { connection: 'warehouse', table: 'y', columns: { x: 'integr' } }),
      ctx(root),
    );
    expect(typo).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR' });
    expect(typo.reason).toMatch(/columns\.x: expected a column type: one of smallint, int2/);
  });

  it('an identifier that is not a plain name never reaches SQL (the check FAILs; validate reports it)', async (t) => {
    const root = tempDirFor(t);
    warehouse(root, { fresh: 1 });
    const r = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'warehouse', table: 'y; drop table sales_events' }),
      ctx(root),
    );
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR' });
    const db = new Database(join(root, 'warehouse.db'), { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM sales_events').get()).toEqual({ n: 1 });
    db.close();
    expect(quoteIdent('main.odd"name')).toBe('"main"."odd""name"');
  });

  it('the connection URL expands a ${VAR} the trait lists, and refuses one it does not', async (t) => {
    const root = tempDirFor(t);
    warehouse(root, { fresh: 1 });
    const connections = { warehouse: { url: 'sqlite:${DB_FILE}' } };
    const env = { DB_FILE: 'warehouse.db' };
    const listed = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'warehouse', table: 'sales_events' }, { env: ['DB_FILE'] }),
      ctx(root, { connections, env }),
    );
    expect(listed.status).toBe('PASS');
    const unlisted = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'warehouse', table: 'sales_events' }),
      ctx(root, { connections, env }),
    );
    expect(unlisted).toMatchObject({ status: 'FAIL', reasonCode: 'CONNECTION_FAILED' });
  });

  it('SQL builtins are refused for untrusted (API-registered) pipelines', async (t) => {
    const root = tempDirFor(t);
    warehouse(root, { fresh: 1 });
    const r = await evaluateTrait(
      sqlTrait('sql-row-count', { connection: 'warehouse', table: 'sales_events' }),
      ctx(root, { confineTo: [root] }),
    );
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_FORBIDDEN' });
  });
});

describe('builtin:sql-query (SQLite)', () => {
  it('compares the first value with expect, and reports the result', async (t) => {
    const root = tempDirFor(t);
    warehouse(root, { fresh: 3, stale: 2 });
    const q = (query: string, expect?: unknown) =>
      evaluateTrait(
        sqlTrait('sql-query', { connection: 'warehouse', query, ...(expect === undefined ? {} : { expect }) }),
        ctx(root),
      );
    const negatives = 'select count(*) from sales_events where amount < 0';
    expect(await q(negatives, { eq: 2 })).toMatchObject({ status: 'PASS', value: { result: 2, rows: 1 } });
    const bad = await q(negatives, { eq: 0 });
    expect(bad).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { result: 2 } });
    expect(bad.reason).toMatch(/query returned 2, expected = 0/);
    expect((await q('select count(*) from sales_events', { between: [1, 5] })).status).toBe('PASS');
    expect((await q('select 0')).status).toBe('FAIL');
    expect((await q('select 1')).status).toBe('PASS');
    expect(await q('select x from y')).toMatchObject({ status: 'FAIL', value: { result: null, rows: 0 } });
    // The database is opened read-only: a check cannot change it.
    expect(await q('delete from sales_events')).toMatchObject({ status: 'FAIL', reasonCode: 'QUERY_FAILED' });
    expect(await q('select nonsense(')).toMatchObject({ status: 'FAIL', reasonCode: 'QUERY_FAILED' });
  });

  it('unmet: each comparison', () => {
    expect(unmet(3, { lt: 4 })).toBeUndefined();
    expect(unmet(4, { lt: 4 })).toMatch(/< 4/);
    expect(unmet(4, { lte: 4 })).toBeUndefined();
    expect(unmet('10', { gt: 9 })).toBeUndefined();
    expect(unmet(null, { gte: 0 })).toMatch(/NULL/);
    expect(unmet(null, { eq: null })).toBeUndefined();
    expect(unmet(1, { ne: 1 })).toMatch(/≠/);
    expect(unmet('b', { between: ['a', 'c'] })).toBeUndefined();
  });

  it('sqlite: URLs resolve against the project root unless absolute', () => {
    expect(sqlitePath('sqlite:data/w.db', '/proj')).toBe('/proj/data/w.db');
    expect(sqlitePath('sqlite:/abs/w.db', '/proj')).toBe('/abs/w.db');
    expect(sqlitePath('sqlite:///abs/w.db', '/proj')).toBe('/abs/w.db');
  });
});
