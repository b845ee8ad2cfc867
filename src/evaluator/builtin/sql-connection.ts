// Opening a builtin's `connection` by URL (sqlite:, postgres://, mysql:// / mariadb://): one small pool per
// connection, opened lazily, closed with its owner; a session is one pooled connection for one check.
// Drivers are imported only when a connection of their kind is used.
import { resolve } from 'node:path';

// Not imported from ./types.js: that file refers to SqlPools (a type), and imports stay acyclic.
const errMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A connection failure (CONNECTION_FAILED) as opposed to a query failure (QUERY_FAILED). */
export class ConnectionFailure extends Error {}

export type SqlDialect = 'sqlite' | 'postgres' | 'mysql';

export interface SqlSession {
  dialect: SqlDialect;
  /** Rows of a read-only query with positional parameters (`$1` on PostgreSQL, `?` elsewhere). Throws the database's error. */
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** `name` or `schema.name` quoted by this database's rules. */
  quote(ident: string): string;
  /** Gives the connection back (or, after a cancel, throws it away once the server stopped the query); never rejects. */
  close(): Promise<void>;
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

/** MySQL/MariaDB's rule: backticks, doubled inside (ANSI_QUOTES is not assumed). */
export function quoteMysqlIdent(ident: string): string {
  return ident
    .split('.')
    .map((part) => `\`${part.replace(/`/g, '``')}\``)
    .join('.');
}

/** The dialect a connection URL names, or undefined for a scheme this version does not support. */
export function dialectOf(url: string): SqlDialect | undefined {
  if (/^postgres(?:ql)?:\/\//.test(url)) return 'postgres';
  if (/^(?:mysql|mariadb):\/\//.test(url)) return 'mysql';
  if (url.startsWith('sqlite:')) return 'sqlite';
  return undefined;
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

/** Most connections a pool holds per connection name: checks are small, the database is shared. */
export const POOL_MAX = 4;
/** Connecting (and waiting for a free pooled connection) gives up after at most this long. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Closing the pools waits at most this long for their connections to end. */
export const CLOSE_WAIT_MS = 2000;

interface Pool {
  session(timeoutMs: number, signal?: AbortSignal): Promise<SqlSession>;
  close(): Promise<void>;
}

/**
 * The pools of one owner (an EvaluatorPool, i.e. a Context; or one check when run alone), one per connection URL
 * (the URL after `${VAR}` expansion, so two traits whose env differ never share credentials). Each pool opens on its
 * first session; `close` ends them all. A pool whose connect fails is not kept broken: the next check tries again.
 */
export class SqlPools {
  private readonly pools = new Map<string, Promise<Pool>>();
  private closed = false;

  /** A session on `url`. Throws ConnectionFailure. `signal` cancels its query on the server, not only the wait. */
  async session(url: string, projectDir: string, timeoutMs: number, signal?: AbortSignal): Promise<SqlSession> {
    if (this.closed) throw new ConnectionFailure('the connection pools are closed (shutting down)');
    const dialect = dialectOf(url);
    if (dialect === undefined) {
      const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(url)?.[0] ?? 'this kind of URL';
      throw new ConnectionFailure(
        `${scheme} connections are not supported (sqlite:PATH, postgres://, postgresql://, mysql:// or mariadb://)`,
      );
    }
    const key = dialect === 'sqlite' ? `sqlite:${sqlitePath(url, projectDir)}` : url;
    let p = this.pools.get(key);
    if (!p) {
      p =
        dialect === 'sqlite'
          ? sqlitePool(sqlitePath(url, projectDir))
          : dialect === 'postgres'
            ? pgPool(url)
            : mysqlPool(url);
      // A driver that failed to load is not cached.
      p.catch(() => this.pools.delete(key));
      this.pools.set(key, p);
    }
    return (await p).session(timeoutMs, signal);
  }

  /** How many pools are open (tests). */
  get size(): number {
    return this.pools.size;
  }

  /**
   * Ends every pool: idle connections close at once, busy ones when their check gives them back. Waits at most
   * CLOSE_WAIT_MS (a connect still pending to a server that never answers must not hold up shutdown). Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.pools.values()];
    this.pools.clear();
    const ended = Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.close().catch(() => {})));
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((res) => {
      timer = setTimeout(res, CLOSE_WAIT_MS);
      timer.unref();
    });
    await Promise.race([ended, waited]);
    clearTimeout(timer);
  }
}

/** Resolves `acquire` unless `signal` aborts first; a connection that arrives after the abort goes to `drop`. */
async function acquireUnlessAborted<T>(
  acquire: Promise<T>,
  signal: AbortSignal | undefined,
  drop: (c: T) => void,
): Promise<T> {
  if (!signal) return acquire;
  if (signal.aborted) {
    acquire.then(drop, () => {});
    throw new ConnectionFailure('cancelled before a connection was free');
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ConnectionFailure('cancelled before a connection was free'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([acquire, aborted]);
  } catch (err) {
    if (signal.aborted) acquire.then(drop, () => {});
    throw err;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

// ---------------------------------------------------------------- SQLite

/**
 * SQLite: one read-only handle per file, opened on first use (better-sqlite3 is synchronous: one handle serves every
 * check; each statement reads the latest committed data). A file that cannot be opened is retried next time.
 */
async function sqlitePool(file: string): Promise<Pool> {
  let Database: typeof import('better-sqlite3');
  try {
    Database = (await import('better-sqlite3')).default;
  } catch (err) {
    throw new ConnectionFailure(`cannot load the SQLite driver: ${errMessage(err)}`);
  }
  let db: import('better-sqlite3').Database | undefined;
  return {
    async session(timeoutMs) {
      if (!db) {
        try {
          // Read-only: a check never writes (a query that tries fails); busy timeout bounded by the trait's.
          db = new Database(file, {
            readonly: true,
            fileMustExist: true,
            timeout: Math.max(1, Math.min(timeoutMs, 5000)),
          });
        } catch (err) {
          throw new ConnectionFailure(`cannot open SQLite database ${file}: ${errMessage(err)}`);
        }
      }
      const handle = db;
      return {
        dialect: 'sqlite',
        quote: quoteIdent,
        async query(sql, params = []) {
          return handle.prepare(sql).all(...params) as Record<string, unknown>[];
        },
        async close() {},
      };
    },
    async close() {
      try {
        db?.close();
      } catch {
        // Closing a read-only handle has nothing to lose.
      }
      db = undefined;
    },
  };
}

// ---------------------------------------------------------------- PostgreSQL

type PgModule = typeof import('pg');

/**
 * PostgreSQL: a pg.Pool of at most POOL_MAX connections. `statement_timeout` is a backstop (so the server stops a
 * query even if this process cannot reach it); on `signal` the query is cancelled from a separate connection with
 * pg_cancel_backend(pid), and the pooled connection is thrown away once that is done.
 */
async function pgPool(url: string): Promise<Pool> {
  let pg: PgModule;
  try {
    pg = (await import('pg')).default as unknown as PgModule;
  } catch (err) {
    throw new ConnectionFailure(`cannot load the PostgreSQL driver (pg): ${errMessage(err)}`);
  }
  const base = {
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'interlock-builtin',
    // Checks read: a statement that writes fails (a guard against mistakes; `query` is trusted config, not sandboxed).
    options: '-c default_transaction_read_only=on',
  };
  const pool = new pg.Pool({ ...base, max: POOL_MAX, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
  const backstops = new WeakMap<import('pg').PoolClient, number>();
  // An idle connection whose server went away must not be an unhandled 'error' event.
  pool.on('error', () => {});
  return {
    async session(timeoutMs, signal) {
      let client: import('pg').PoolClient;
      try {
        client = await acquireUnlessAborted(pool.connect(), signal, (c) => c.release());
      } catch (err) {
        if (err instanceof ConnectionFailure) throw err;
        throw new ConnectionFailure(`cannot connect to ${shownUrl(url)}: ${errMessage(err)}`);
      }
      // A backstop only: the cancel below stops a query at the trait's timeout.
      const backstopMs = Math.max(1, Math.round(timeoutMs)) + 5000;
      const state: { released: boolean; cancelling?: Promise<void> } = { released: false };
      const pid = (client as unknown as { processID?: number }).processID;
      const cancel = async () => {
        if (pid === undefined) return;
        const canceller = new pg.Client({ ...base, connectionTimeoutMillis: 5000 });
        canceller.on('error', () => {});
        try {
          await canceller.connect();
          await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
        } catch {
          // The statement_timeout still stops it on the server.
        } finally {
          await canceller.end().catch(() => {});
        }
      };
      const onAbort = () => {
        // The connection is still held (not released), so its pid is still this session's.
        if (!state.released) state.cancelling = cancel();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      return {
        dialect: 'postgres',
        quote: quoteIdent,
        async query(sql, params = []) {
          if (backstops.get(client) !== backstopMs) {
            await client.query(`SET statement_timeout = ${backstopMs}`);
            backstops.set(client, backstopMs);
          }
          const r = await client.query(sql, [...params]);
          return r.rows as Record<string, unknown>[];
        },
        async close() {
          signal?.removeEventListener('abort', onAbort);
          if (state.released) return;
          state.released = true;
          // A cancelled connection is thrown away once the cancel is done (its state is not trusted again).
          if (state.cancelling) await state.cancelling.finally(() => client.release(true));
          else client.release();
        },
      };
    },
    close: () => pool.end(),
  };
}

// ---------------------------------------------------------------- MySQL / MariaDB

type MysqlModule = typeof import('mysql2/promise');
type MysqlPoolConnection = import('mysql2/promise').PoolConnection;

/** The connection options of a mysql:// or mariadb:// URL (mysql2 reads mysql:// URLs; mariadb:// is the same). */
function mysqlUri(url: string): string {
  return url.replace(/^mariadb:\/\//, 'mysql://');
}

/**
 * MySQL/MariaDB: a mysql2 pool of at most POOL_MAX connections, each session read-only (SET SESSION TRANSACTION
 * READ ONLY). Dates come back as the server prints them (dateStrings): no host time zone reinterprets them. On
 * `signal` the query is stopped with KILL QUERY <thread id> from a separate connection, and the pooled connection
 * is thrown away afterwards. MariaDB's max_statement_time is a backstop (MySQL ignores it).
 */
async function mysqlPool(url: string): Promise<Pool> {
  let mysql: MysqlModule;
  try {
    mysql = (await import('mysql2/promise')).default as unknown as MysqlModule;
  } catch (err) {
    throw new ConnectionFailure(`cannot load the MySQL driver (mysql2): ${errMessage(err)}`);
  }
  const base = {
    uri: mysqlUri(url),
    connectTimeout: CONNECT_TIMEOUT_MS,
    dateStrings: true,
    supportBigNumbers: true,
    decimalNumbers: false,
    multipleStatements: false,
  } as const;
  const pool = mysql.createPool({
    ...base,
    connectionLimit: POOL_MAX,
    maxIdle: POOL_MAX,
    idleTimeout: 10_000,
    waitForConnections: true,
    queueLimit: 0,
    enableKeepAlive: true,
  });
  // A pooled connection whose server went away is dropped by mysql2; its 'error' must not go unhandled.
  (pool as unknown as { pool: NodeJS.EventEmitter }).pool.on('error', () => {});
  const readOnly = new WeakSet<MysqlPoolConnection>();
  const backstops = new WeakMap<MysqlPoolConnection, number>();
  return {
    async session(timeoutMs, signal) {
      let conn: MysqlPoolConnection;
      try {
        conn = await acquireUnlessAborted(withConnectTimeout(pool.getConnection()), signal, (c) => c.release());
        if (!readOnly.has(conn)) {
          await conn.query('SET SESSION TRANSACTION READ ONLY');
          readOnly.add(conn);
        }
      } catch (err) {
        if (err instanceof ConnectionFailure) throw err;
        throw new ConnectionFailure(`cannot connect to ${shownUrl(url)}: ${errMessage(err)}`);
      }
      const threadId = conn.threadId;
      const backstopS = Math.ceil(timeoutMs / 1000) + 5;
      const state: { released: boolean; cancelling?: Promise<void> } = { released: false };
      const cancel = async () => {
        let killer: import('mysql2/promise').Connection | undefined;
        try {
          killer = await mysql.createConnection({ ...base, connectTimeout: 5000 });
          killer.on('error', () => {});
          // threadId is a number from the server's handshake, never config text.
          await killer.query(`KILL QUERY ${Number(threadId)}`);
        } catch {
          // max_statement_time (MariaDB) still stops it; the connection is destroyed below either way.
        } finally {
          await killer?.end().catch(() => killer?.destroy());
        }
      };
      const onAbort = () => {
        // Still held, not released: the thread id is still this session's.
        if (!state.released) state.cancelling = cancel();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      return {
        dialect: 'mysql',
        quote: quoteMysqlIdent,
        async query(sql, params = []) {
          if (backstops.get(conn) !== backstopS) {
            // MariaDB only; MySQL answers ER_UNKNOWN_SYSTEM_VARIABLE and keeps no backstop (the KILL QUERY remains).
            await conn.query(`SET SESSION max_statement_time = ${backstopS}`).catch(() => {});
            backstops.set(conn, backstopS);
          }
          const [rows] = await conn.query({ sql, values: [...params] });
          return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
        },
        async close() {
          signal?.removeEventListener('abort', onAbort);
          if (state.released) return;
          state.released = true;
          if (state.cancelling) await state.cancelling.finally(() => conn.destroy());
          else conn.release();
        },
      };
    },
    close: () => pool.end(),
  };
}

/** mysql2's pool waits for a free connection without a bound: give up after CONNECT_TIMEOUT_MS. */
function withConnectTimeout<T extends { release(): void }>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no connection within ${CONNECT_TIMEOUT_MS / 1000}s`)),
      CONNECT_TIMEOUT_MS,
    );
    timer.unref();
  });
  return Promise.race([p, timeout])
    .finally(() => clearTimeout(timer))
    .catch((err) => {
      p.then(
        (c) => c.release(),
        () => {},
      );
      throw err;
    });
}
