// builtin:sql-schema — a table has the contracted columns with the contracted types (PostgreSQL, MySQL/MariaDB, SQLite).
import { type SqlSchemaConfig, sqlSchemaConfigSchema } from '../../core/builtin-config.js';
import { familiesMatch, familyOfColumn, familyOfName } from '../../core/sql-types.js';
import type { SqlSession } from './sql-connection.js';
import { withSession } from './sql-run.js';
import { type Builtin, failed, pass } from './types.js';

interface Column {
  name: string;
  /** The type name the family is read from (PostgreSQL typname, MySQL DATA_TYPE, SQLite declared type). */
  type: string;
  /** The type as the database shows it (format_type, COLUMN_TYPE, the declared type). */
  shown: string;
}

const split = (table: string): [string | null, string] => {
  const dot = table.indexOf('.');
  return dot < 0 ? [null, table] : [table.slice(0, dot), table.slice(dot + 1)];
};

/**
 * The columns of `table` as the catalogue reports them; undefined when there is no such table. The name goes in as
 * a parameter (PostgreSQL: quoted, then resolved by to_regclass like the other builtins' quoted names), never as SQL.
 */
export async function tableColumns(s: SqlSession, table: string): Promise<Column[] | undefined> {
  const str = (v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v ?? ''));
  if (s.dialect === 'postgres') {
    const rows = await s.query(
      `SELECT a.attname AS name, t.typname AS type, format_type(a.atttypid, a.atttypmod) AS shown
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [s.quote(table)],
    );
    if (rows.length === 0) {
      const rel = await s.query('SELECT to_regclass($1)::text AS rel', [s.quote(table)]);
      if (rel[0]?.rel === null || rel[0]?.rel === undefined) return undefined;
    }
    return rows.map((r) => ({ name: str(r.name), type: str(r.type), shown: str(r.shown) }));
  }
  const [schema, name] = split(table);
  if (s.dialect === 'mysql') {
    const rows = await s.query(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS type, COLUMN_TYPE AS shown FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [schema, name],
    );
    // A table without columns cannot exist in MySQL: no rows means no such table (or no privilege to see it).
    if (rows.length === 0) return undefined;
    return rows.map((r) => ({ name: str(r.name), type: str(r.type), shown: str(r.shown) }));
  }
  const rows = await s.query('SELECT name, type FROM pragma_table_info(?, ?)', [name, schema ?? 'main']);
  if (rows.length === 0) return undefined;
  return rows.map((r) => ({ name: str(r.name), type: str(r.type), shown: str(r.type) || '(none)' }));
}

export const sqlSchemaBuiltin: Builtin<SqlSchemaConfig> = {
  schema: sqlSchemaConfigSchema,
  run(c, ctx) {
    return withSession(c.connection, ctx, async (s) => {
      const value: Record<string, unknown> = { table: c.table, expected: c.columns };
      const cols = await tableColumns(s, c.table);
      if (cols === undefined) {
        value.tableExists = false;
        return failed('CHECK_FAILED', `table ${c.table} does not exist (or is not visible to this connection)`, value);
      }
      // PostgreSQL names are case-sensitive once quoted (as every builtin quotes them); MySQL's and SQLite's are not.
      const find = (name: string) =>
        cols.find((x) => x.name === name) ??
        (s.dialect === 'postgres' ? undefined : cols.find((x) => x.name.toLowerCase() === name.toLowerCase()));
      const missing: string[] = [];
      const wrongType: Array<{ column: string; expected: string; actual: string }> = [];
      const actual: Record<string, string> = {};
      for (const [name, expected] of Object.entries(c.columns)) {
        const col = find(name);
        if (!col) {
          missing.push(name);
          continue;
        }
        actual[name] = col.shown;
        const want = familyOfName(expected);
        const have = familyOfColumn(s.dialect, col.type, col.shown);
        if (want === undefined || !familiesMatch(s.dialect, want, have))
          wrongType.push({ column: name, expected, actual: col.shown });
      }
      value.actual = actual;
      value.missing = missing;
      value.wrongType = wrongType;
      if (missing.length === 0 && wrongType.length === 0) return pass(value);
      const parts = [
        ...missing.map((m) => `missing column ${m}`),
        ...wrongType.map((w) => `${w.column} is ${w.actual}, expected ${w.expected}`),
      ];
      return failed('CHECK_FAILED', `${c.table} breaks its schema contract: ${parts.join('; ')}`, value);
    });
  },
};
