// builtin:sql-query — a query's first column of its first row against an expectation (eq, ne, lt, …, or truthy).
import { type SqlExpect, type SqlQueryConfig, sqlQueryConfigSchema } from '../../core/builtin-config.js';
import { toNumber, withSession } from './sql-run.js';
import { type Builtin, failed, pass } from './types.js';

/** Compares numerically when both sides are numbers (or numeric strings), else as strings. */
function cmp(a: unknown, b: number | string): number {
  const x = toNumber(a);
  const y = toNumber(b);
  if (x !== undefined && y !== undefined) return x - y;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Undefined when `v` meets the expectation, else what was expected. */
export function unmet(v: unknown, e: SqlExpect): string | undefined {
  if (e === 'truthy') {
    const falsy = v === null || v === undefined || v === 0 || v === '' || v === false || v === 0n || v === '0';
    return falsy ? 'expected a truthy value' : undefined;
  }
  if ('eq' in e)
    return (e.eq === null ? v === null : v !== null && cmp(v, e.eq as number | string) === 0)
      ? undefined
      : `expected = ${JSON.stringify(e.eq)}`;
  if ('ne' in e)
    return (e.ne === null ? v !== null : v === null || cmp(v, e.ne as number | string) !== 0)
      ? undefined
      : `expected ≠ ${JSON.stringify(e.ne)}`;
  if (v === null || v === undefined) return 'expected a value, got NULL';
  if ('lt' in e) return cmp(v, e.lt) < 0 ? undefined : `expected < ${e.lt}`;
  if ('lte' in e) return cmp(v, e.lte) <= 0 ? undefined : `expected ≤ ${e.lte}`;
  if ('gt' in e) return cmp(v, e.gt) > 0 ? undefined : `expected > ${e.gt}`;
  if ('gte' in e) return cmp(v, e.gte) >= 0 ? undefined : `expected ≥ ${e.gte}`;
  const [lo, hi] = e.between;
  return cmp(v, lo) >= 0 && cmp(v, hi) <= 0 ? undefined : `expected between ${lo} and ${hi}`;
}

/** A JSON-safe copy of a driver value (bigint as a number when exact, else a string; buffers as their size). */
function jsonable(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (v instanceof Date) return v.toISOString();
  return v;
}

export const sqlQueryBuiltin: Builtin<SqlQueryConfig> = {
  schema: sqlQueryConfigSchema,
  run(c, ctx) {
    return withSession(c.connection, ctx, async (s) => {
      const rows = await s.query(c.query);
      const first = rows[0];
      const result = first === undefined ? null : jsonable(Object.values(first)[0] ?? null);
      const value: Record<string, unknown> = { result, rows: rows.length, expect: c.expect };
      const why = unmet(result, c.expect);
      if (!why) return pass(value);
      const got = first === undefined ? 'no rows' : JSON.stringify(result);
      return failed('CHECK_FAILED', `query returned ${got}, ${why}`, value);
    });
  },
};
