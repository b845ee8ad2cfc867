// Opening a builtin's `connection` by URL (sqlite: in this version) as a small session: query, quote, close.
// Drivers are imported only when a connection of their kind is used.
import { resolve } from 'node:path';
import { errMessage } from './types.js';

/** A connection failure (CONNECTION_FAILED) as opposed to a query failure (QUERY_FAILED). */
export class ConnectionFailure extends Error {}

export interface SqlSession {
  dialect: 'sqlite';
  /** Rows of a read-only query with positional parameters. Throws the database's error (QUERY_FAILED). */
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  close(): void;
}

/**
 * `name` or `schema.name` quoted by SQL's rule (double quotes, doubled inside): config validation already
 * restricted identifiers to [A-Za-z0-9_$], so this is a second fence, never the only one.
 */
export function quoteIdent(ident: string): string {
  return ident
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}

/** The file a `sqlite:` URL names: `sqlite:relative.db`, `sqlite:/abs.db` or `sqlite:///abs.db`. */
export function sqlitePath(url: string, projectDir: string): string {
  let rest = url.slice('sqlite:'.length);
  if (rest.startsWith('//')) rest = rest.slice(2);
  return resolve(projectDir, rest);
}

/** Opens the connection `url` (already ${VAR}-expanded). Throws ConnectionFailure. */
export async function openSession(url: string, projectDir: string, timeoutMs: number): Promise<SqlSession> {
  if (!url.startsWith('sqlite:')) {
    const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(url)?.[0] ?? 'this kind of URL';
    throw new ConnectionFailure(`${scheme} connections are not supported in this version (only sqlite:PATH)`);
  }
  const file = sqlitePath(url, projectDir);
  let Database: typeof import('better-sqlite3');
  try {
    Database = (await import('better-sqlite3')).default;
  } catch (err) {
    throw new ConnectionFailure(`cannot load the SQLite driver: ${errMessage(err)}`);
  }
  let db: import('better-sqlite3').Database;
  try {
    // Read-only: a check never writes (a query that tries fails); busy timeout bounded by the trait's.
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: Math.max(1, Math.min(timeoutMs, 5000)) });
  } catch (err) {
    throw new ConnectionFailure(`cannot open SQLite database ${file}: ${errMessage(err)}`);
  }
  return {
    dialect: 'sqlite',
    async query(sql, params = []) {
      return db.prepare(sql).all(...params) as Record<string, unknown>[];
    },
    close() {
      try {
        db.close();
      } catch {
        // Closing a read-only handle has nothing to lose.
      }
    },
  };
}
