// The column types builtin:sql-schema understands: each accepted name (and alias) → one type family, and the
// family of a type as PostgreSQL, MySQL/MariaDB or SQLite reports it. Pure.

/** A family of types that a schema contract treats as the same type. */
export type SqlTypeFamily =
  | 'smallint'
  | 'integer'
  | 'bigint'
  | 'numeric'
  | 'real'
  | 'double'
  | 'text'
  | 'boolean'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'json'
  | 'uuid'
  | 'binary';

/**
 * The names a contract may write, by family (lower case; `varchar(20)`, `numeric(12,2)` are read without the
 * parentheses). `timestamp` is the type without a time zone (PostgreSQL `timestamp`, MySQL `DATETIME`);
 * `timestamptz` the one that stores an instant (PostgreSQL `timestamptz`, MySQL `TIMESTAMP`).
 */
export const SQL_TYPE_ALIASES: Readonly<Record<SqlTypeFamily, readonly string[]>> = {
  smallint: ['smallint', 'int2', 'tinyint'],
  integer: ['integer', 'int', 'int4', 'mediumint', 'serial'],
  bigint: ['bigint', 'int8', 'bigserial'],
  numeric: ['numeric', 'decimal'],
  real: ['real', 'float4', 'float'],
  double: ['double precision', 'double', 'float8'],
  text: [
    'text',
    'varchar',
    'character varying',
    'char',
    'character',
    'bpchar',
    'string',
    'tinytext',
    'mediumtext',
    'longtext',
    'enum',
    'set',
  ],
  boolean: ['boolean', 'bool'],
  date: ['date'],
  time: ['time', 'time without time zone', 'timetz', 'time with time zone'],
  timestamp: ['timestamp', 'timestamp without time zone', 'datetime'],
  timestamptz: ['timestamptz', 'timestamp with time zone'],
  json: ['json', 'jsonb'],
  uuid: ['uuid'],
  binary: ['bytea', 'blob', 'binary', 'varbinary', 'tinyblob', 'mediumblob', 'longblob'],
};

const BY_NAME = new Map<string, SqlTypeFamily>(
  (Object.entries(SQL_TYPE_ALIASES) as Array<[SqlTypeFamily, readonly string[]]>).flatMap(([f, names]) =>
    names.map((n) => [n, f] as [string, SqlTypeFamily]),
  ),
);

/** `VARCHAR(20)` → `varchar`, `numeric(12, 2)` → `numeric`, `int unsigned` → `int`, spaces collapsed. */
export function baseTypeName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\([^)]*\)/g, '')
    .replace(/\b(?:unsigned|signed|zerofill)\b/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The family of a name a contract writes, or undefined for a name not accepted (config validation says so). */
export function familyOfName(name: string): SqlTypeFamily | undefined {
  return BY_NAME.get(baseTypeName(name));
}

/**
 * The family of a column as the database reports it. PostgreSQL: the type's name (`int4`, `timestamptz`, `numeric`).
 * MySQL/MariaDB: DATA_TYPE with COLUMN_TYPE (`tinyint(1)` is boolean; `timestamp` stores an instant, so it is
 * timestamptz). SQLite: the declared type by name, else by SQLite's affinity rules; SQLite stores every integer
 * alike and has no time zones, so integer sizes are one family and timestamp/timestamptz are one.
 */
export function familyOfColumn(
  dialect: 'sqlite' | 'postgres' | 'mysql',
  dataType: string,
  columnType?: string,
): SqlTypeFamily | undefined {
  const t = baseTypeName(dataType);
  if (dialect === 'mysql') {
    if (t === 'timestamp') return 'timestamptz';
    if (t === 'tinyint' && /^tinyint\(1\)/i.test(columnType ?? '')) return 'boolean';
    if (t === 'bit' && /^bit\(1\)/i.test(columnType ?? '')) return 'boolean';
    return BY_NAME.get(t);
  }
  if (dialect === 'postgres') {
    // Arrays (_int4) and user-defined types have no family: only an exact name matches them.
    return BY_NAME.get(t);
  }
  const named = BY_NAME.get(t);
  if (named) return named;
  if (t.includes('int')) return 'integer';
  if (/char|clob|text/.test(t)) return 'text';
  if (t === '' || t.includes('blob')) return 'binary';
  if (/real|floa|doub/.test(t)) return 'double';
  return 'numeric';
}

/** Whether a column of family `actual` meets the contract's `expected` family on `dialect`. */
export function familiesMatch(
  dialect: 'sqlite' | 'postgres' | 'mysql',
  expected: SqlTypeFamily,
  actual: SqlTypeFamily | undefined,
): boolean {
  if (actual === undefined) return false;
  if (expected === actual) return true;
  if (dialect !== 'sqlite') return false;
  const ints: SqlTypeFamily[] = ['smallint', 'integer', 'bigint'];
  const times: SqlTypeFamily[] = ['timestamp', 'timestamptz'];
  const floats: SqlTypeFamily[] = ['real', 'double'];
  return [ints, times, floats].some((g) => g.includes(expected) && g.includes(actual));
}

/** Every accepted name, for messages and docs. */
export const SQL_TYPE_NAMES: readonly string[] = [...BY_NAME.keys()];
