// builtin:sql-row-count — count(*) of a table (optionally WHERE …) within [min, max].
import { type SqlRowCountConfig, sqlRowCountConfigSchema } from '../../core/builtin-config.js';
import { toNumber, whereClause, withSession } from './sql-run.js';
import { type Builtin, failed, pass } from './types.js';

export const sqlRowCountBuiltin: Builtin<SqlRowCountConfig> = {
  schema: sqlRowCountConfigSchema,
  run(c, ctx) {
    return withSession(c.connection, ctx, async (s) => {
      const rows = await s.query(`SELECT count(*) AS n FROM ${s.quote(c.table)}${whereClause(c.where)}`);
      const n = toNumber(rows[0]?.n);
      if (n === undefined) return failed('QUERY_FAILED', `count(*) of ${c.table} returned no number`);
      const min = c.min ?? 1;
      const value: Record<string, unknown> = { table: c.table, rows: n, min };
      if (c.max !== undefined) value.max = c.max;
      if (n < min) return failed('CHECK_FAILED', `${c.table} has ${n} rows, fewer than min ${min}`, value);
      if (c.max !== undefined && n > c.max)
        return failed('CHECK_FAILED', `${c.table} has ${n} rows, more than max ${c.max}`, value);
      return pass(value);
    });
  },
};
