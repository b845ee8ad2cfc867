// builtin:sql-freshness — max(column) of a table is at most maxLag behind the database's own now().
import { type SqlFreshnessConfig, sqlFreshnessConfigSchema } from '../../core/builtin-config.js';
import type { SqlSession } from './sql-connection.js';
import { toNumber, whereClause, withSession } from './sql-run.js';
import { type Builtin, errMessage, failed, pass } from './types.js';

/**
 * SQLite has no timestamp type: a column holds ISO-8601 text (read by SQLite's own date functions) or a Unix epoch
 * number (seconds; values above 1e11 are taken as milliseconds). Returns epoch seconds, or undefined.
 */
async function sqliteEpoch(s: SqlSession, v: unknown): Promise<number | undefined> {
  const n = toNumber(v);
  if (typeof v !== 'string' && n !== undefined) return n > 1e11 ? n / 1000 : n;
  if (typeof v !== 'string') return undefined;
  const rows = await s.query(`SELECT unixepoch(?, 'subsec') AS e`, [v]);
  return toNumber(rows[0]?.e);
}

/** PostgreSQL: the lag computed by the server against its own now() (timestamp and timestamptz columns). */
async function postgresFreshness(s: SqlSession, c: SqlFreshnessConfig) {
  const col = s.quote(c.column);
  const sql = `SELECT max(${col}) AS m, now() AS now, EXTRACT(EPOCH FROM (now() - max(${col})))::float8 AS lag FROM ${s.quote(c.table)}${whereClause(c.where)}`;
  try {
    return { rows: await s.query(sql), notTimestamp: undefined };
  } catch (err) {
    // 42883 undefined_function: now() - <not a timestamp> has no operator.
    if ((err as { code?: string }).code === '42883') return { rows: [], notTimestamp: errMessage(err) };
    throw err;
  }
}

/**
 * MySQL/MariaDB: the lag computed by the server, TIMESTAMPDIFF(MICROSECOND, max(column), NOW(6)), both sides in the
 * session time zone (the server's default; Interlock never changes it): exact for TIMESTAMP columns (stored in UTC,
 * shown in the session zone like NOW()); DATETIME columns are read as written in that zone, which is what NOW() and
 * CURRENT_TIMESTAMP defaults write. A value that is not a date gives a NULL difference.
 */
async function mysqlFreshness(s: SqlSession, c: SqlFreshnessConfig) {
  const col = s.quote(c.column);
  const sql = `SELECT max(${col}) AS m, NOW(6) AS now, TIMESTAMPDIFF(MICROSECOND, max(${col}), NOW(6)) / 1000000 AS lag, @@session.time_zone AS tz FROM ${s.quote(c.table)}${whereClause(c.where)}`;
  return { rows: await s.query(sql), notTimestamp: undefined };
}

const asJson = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v);

export const sqlFreshnessBuiltin: Builtin<SqlFreshnessConfig> = {
  schema: sqlFreshnessConfigSchema,
  run(c, ctx) {
    return withSession(c.connection, ctx, async (s) => {
      if (s.dialect === 'postgres' || s.dialect === 'mysql') {
        const value: Record<string, unknown> = {
          table: c.table,
          column: c.column,
          maxLagSeconds: c.maxLag,
          clock: 'database',
        };
        const r = s.dialect === 'postgres' ? await postgresFreshness(s, c) : await mysqlFreshness(s, c);
        if (r.notTimestamp !== undefined)
          return failed('CHECK_FAILED', `${c.table}.${c.column} is not a timestamp column: ${r.notTimestamp}`, value);
        const row = r.rows[0] ?? {};
        value.maxLoadedAt = asJson(row.m ?? null);
        value.databaseNow = asJson(row.now);
        if (s.dialect === 'mysql') value.databaseTimeZone = row.tz;
        if (row.m === null || row.m === undefined)
          return failed('CHECK_FAILED', `max(${c.column}) of ${c.table} is NULL (no rows)`, value);
        const lag = toNumber(row.lag);
        if (lag === undefined)
          return failed(
            'CHECK_FAILED',
            s.dialect === 'mysql'
              ? `max(${c.column}) of ${c.table} is ${JSON.stringify(value.maxLoadedAt)}, not a date and time`
              : `the lag of ${c.table}.${c.column} is not a number`,
            value,
          );
        value.lagSeconds = Math.round(lag * 1000) / 1000;
        if (lag > c.maxLag)
          return failed(
            'CHECK_FAILED',
            `${c.table}.${c.column} is ${value.lagSeconds}s behind the database's now, more than maxLag ${c.maxLag}s`,
            value,
          );
        return pass(value);
      }
      const sql = `SELECT max(${s.quote(c.column)}) AS m, unixepoch('now', 'subsec') AS now FROM ${s.quote(c.table)}${whereClause(c.where)}`;
      const rows = await s.query(sql);
      const max = rows[0]?.m ?? null;
      const now = toNumber(rows[0]?.now);
      const value: Record<string, unknown> = {
        table: c.table,
        column: c.column,
        maxLoadedAt: typeof max === 'bigint' ? Number(max) : max,
        maxLagSeconds: c.maxLag,
        clock: 'database',
      };
      if (max === null) return failed('CHECK_FAILED', `max(${c.column}) of ${c.table} is NULL (no rows)`, value);
      const at = await sqliteEpoch(s, max);
      if (at === undefined || now === undefined)
        return failed(
          'CHECK_FAILED',
          `max(${c.column}) of ${c.table} is ${JSON.stringify(value.maxLoadedAt)}, not a timestamp (ISO-8601 text or Unix epoch)`,
          value,
        );
      const lag = Math.round((now - at) * 1000) / 1000;
      value.lagSeconds = lag;
      value.databaseNow = new Date(now * 1000).toISOString();
      if (lag > c.maxLag)
        return failed(
          'CHECK_FAILED',
          `${c.table}.${c.column} is ${lag}s behind the database's now, more than maxLag ${c.maxLag}s`,
          value,
        );
      return pass(value);
    });
  },
};
