// builtin:sql-freshness — max(column) of a table is at most maxLag behind the database's own now().
import { type SqlFreshnessConfig, sqlFreshnessConfigSchema } from '../../core/builtin-config.js';
import { quoteIdent, type SqlSession } from './sql-connection.js';
import { toNumber, whereClause, withSession } from './sql-run.js';
import { type Builtin, failed, pass } from './types.js';

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

export const sqlFreshnessBuiltin: Builtin<SqlFreshnessConfig> = {
  schema: sqlFreshnessConfigSchema,
  run(c, ctx) {
    return withSession(c.connection, ctx, async (s) => {
      const sql = `SELECT max(${quoteIdent(c.column)}) AS m, unixepoch('now', 'subsec') AS now FROM ${quoteIdent(c.table)}${whereClause(c.where)}`;
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
