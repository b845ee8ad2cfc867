// Opening a builtin's `connection` by URL (sqlite:, postgres://) as a small session: query, quote, close.
// Drivers are imported only when a connection of their kind is used.
import { resolve } from 'node:path';
import { errMessage } from './types.js';

/** A connection failure (CONNECTION_FAILED) as opposed to a query failure (QUERY_FAILED). */
export class ConnectionFailure extends Error {}

export interface SqlSession {
  dialect: 'sqlite' | 'postgres';
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

/** A URL for messages: the password replaced by ***. */
export function shownUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}

/**
 * Opens the connection `url` (already ${VAR}-expanded). Throws ConnectionFailure. `signal` (the trait's timeout or
 * cancel) cancels a PostgreSQL query on the server (pg_cancel_backend), not only the wait.
 */
export async function openSession(
  url: string,
  projectDir: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<SqlSession> {
  if (/^postgres(?:ql)?:\/\//.test(url)) return openPostgres(url, timeoutMs, signal);
  if (!url.startsWith('sqlite:')) {
    const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(url)?.[0] ?? 'this kind of URL';
    throw new ConnectionFailure(`${scheme} connections are not supported in this version (sqlite:PATH or postgres://)`);
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

type PgModule = typeof import('pg');

/**
 * One PostgreSQL connection for one check (connect, query, end). `statement_timeout` is the trait's timeout, so the
 * server stops a query even if this process cannot reach it; on `signal` the query is cancelled from a second
 * connection with pg_cancel_backend(pid) and the connection closed.
 */
async function openPostgres(url: string, timeoutMs: number, signal?: AbortSignal): Promise<SqlSession> {
  let pg: PgModule;
  try {
    pg = (await import('pg')).default as unknown as PgModule;
  } catch (err) {
    throw new ConnectionFailure(`cannot load the PostgreSQL driver (pg): ${errMessage(err)}`);
  }
  const config = {
    connectionString: url,
    connectionTimeoutMillis: Math.max(1, Math.min(timeoutMs, 10_000)),
    // A backstop only: the cancel below stops a query at the trait's timeout.
    statement_timeout: Math.max(1, Math.round(timeoutMs)) + 5000,
    application_name: 'interlock-builtin',
    // Checks read: a statement that writes fails (a guard against mistakes; `query` is trusted config, not sandboxed).
    options: '-c default_transaction_read_only=on',
  };
  const client = new pg.Client(config);
  // An error after connect (server gone) must not be an unhandled 'error' event.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw new ConnectionFailure(`cannot connect to ${shownUrl(url)}: ${errMessage(err)}`);
  }
  const pid = (client as unknown as { processID?: number }).processID;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    client.end().catch(() => {});
  };
  const cancel = async () => {
    // Once the connection is closed its pid may belong to another session: never cancel then.
    if (ended) return;
    if (pid !== undefined) {
      const canceller = new pg.Client({ ...config, statement_timeout: 5000 });
      canceller.on('error', () => {});
      try {
        await canceller.connect();
        await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
      } catch {
        // The statement_timeout still stops it on the server.
      } finally {
        await canceller.end().catch(() => {});
      }
    }
    end();
  };
  const onAbort = () => void cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    dialect: 'postgres',
    async query(sql, params = []) {
      const r = await client.query(sql, [...params]);
      return r.rows as Record<string, unknown>[];
    },
    close() {
      signal?.removeEventListener('abort', onAbort);
      // After an abort, cancel() ends the connection once the query is cancelled.
      if (!signal?.aborted) end();
    },
  };
}
