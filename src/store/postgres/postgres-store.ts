// PostgreSQL store (pg): a pool, .sql migrations under an advisory lock, read-then-write rules (rules.ts) inside
// transactions that hold explicit locks, the server's clock for leases and deadlines, and a change feed of
// LISTEN/NOTIFY sent in each write's transaction, with a sweep of the `changes` table after every reconnect.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client as PgClient, Pool, PoolClient } from 'pg';
import { type Clock, offsetClock, systemClock } from '../../core/clock.js';
import { InterlockError } from '../../core/errors.js';
import { TERMINAL_STATUSES } from '../../core/run-status.js';
import type { DecisionRecord, PipelineSpec, Readiness, RunEvent, RunState, TraitResult } from '../../core/types.js';
import { isWindowTerminal, type WindowRecord } from '../../engine/window.js';
import { parseRecord } from '../records.js';
import {
  addCounts,
  emptyCounts,
  type PruneCounts,
  type PruneRequest,
  runAlertPrefix,
  runPrunable,
  windowAlertPrefix,
  windowPrunable,
} from '../retention.js';
import {
  type AlertKey,
  alertKeyId,
  casApplies,
  leaseGrant,
  releasesLock,
  shouldSendAlert,
  windowCasApplies,
} from '../rules.js';
import type {
  AlertClaim,
  CasOptions,
  CasResult,
  CreateRunResult,
  DeleteResult,
  EvaluationWrite,
  Lease,
  LeaseFence,
  LeaseResult,
  ListOptions,
  Store,
  StoreChange,
  StoredPipeline,
  WindowListOptions,
  WindowWriteResult,
} from '../types.js';
import { runEvent } from '../types.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** A schema name this store accepts: lower-case, so it is the same quoted or not; short enough for its channel. */
export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;
export const DEFAULT_SCHEMA = 'interlock';
export const DEFAULT_POOL_SIZE = 10;
/** Transactions that lost a serialization or deadlock race are tried again this many times in all. */
export const MAX_TX_ATTEMPTS = 8;
/** The change feed keeps about this many rows; older ones are pruned every PRUNE_EVERY writes of a handle. */
export const FEED_KEEP_ROWS = 10_000;
const PRUNE_EVERY = 500;
/**
 * A sweep re-reads this many rows before the last seq seen: seqs are taken at insert and committed in any order, so
 * a row with a lower seq may commit after a higher one was notified (duplicates are allowed; losses are not wanted).
 */
export const SWEEP_OVERLAP = 1000;
/** NOTIFY payloads are at most 8000 bytes; a larger one (a long pipeline name) sends a sweep request instead. */
const MAX_PAYLOAD_BYTES = 7900;
/** A first advisory-lock key per purpose (the second is a hash of the name locked). */
const LOCK_MIGRATE = 0x494c0001;

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// URL (already ${VAR}-expanded). */
  url: string;
  /** The schema holding the tables (created when missing). Default 'interlock'. */
  schema?: string;
  /** Pool size (default 10). */
  poolSize?: number;
  /** How long to wait for a connection, ms (default 5000). */
  connectTimeoutMs?: number;
  /** The server stops a statement after this long, ms (default 10000); the client gives up 5 s after that. */
  commandTimeoutMs?: number;
  /** This host's clock (its timers; the store clock is this + the measured offset to the server's). */
  clock?: Clock;
  /** First and longest wait between the change feed's reconnect attempts, ms (default 100 and 5000). */
  feedReconnectMs?: { first: number; max: number };
}

type PgModule = typeof import('pg');

/** The URL as it may be shown: the password masked. */
export function shownPgUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}

/** SQLSTATEs after which the transaction was rolled back and may be tried again: serialization, deadlock. */
function isRetryable(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === '40001' || code === '40P01';
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message || e.constructor.name : String(e);
}

/** The migrations shipped with this build, in order. */
function migrationFiles(): Array<{ version: number; name: string; sql: string }> {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number.parseInt(f.slice(0, 4), 10),
      name: f,
      sql: readFileSync(join(MIGRATIONS_DIR, f), 'utf8'),
    }));
}

/** Epoch ms on the server's clock, as SQL. */
const SERVER_NOW = '(extract(epoch from clock_timestamp()) * 1000)::float8';

type Row = Record<string, unknown>;

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  /** The PostgreSQL server's clock, as seen from here (host clock + the offset measured at connect and each ping). */
  readonly clock: Clock;
  readonly schema: string;
  private offsetMs = 0;
  private closed = false;
  private writesSincePrune = 0;
  private readonly channel: string;
  private readonly q: string;
  // The change feed (see watchChanges).
  private readonly listeners = new Set<(c: StoreChange) => void>();
  private feed: PgClient | undefined;
  private feedState: 'off' | 'connecting' | 'listening' | 'down' = 'off';
  private feedLast = 0;
  private feedGen = 0;
  private feedTimer: NodeJS.Timeout | undefined;
  private readonly reconnect: { first: number; max: number };

  private constructor(
    private readonly pg: PgModule,
    private readonly pool: Pool,
    private readonly config: Record<string, unknown>,
    private readonly shown: string,
    schema: string,
    private readonly hostClock: Clock,
    reconnect: { first: number; max: number },
  ) {
    this.schema = schema;
    this.q = `"${schema}"`;
    this.channel = `interlock_feed_${schema}`;
    this.clock = offsetClock(hostClock, () => this.offsetMs);
    this.reconnect = reconnect;
  }

  /**
   * Connects, checks the server (answers, is not a read-only standby) and migrates the schema, then returns the
   * store. STORE_UNAVAILABLE when any of it fails, CONFIG_INVALID for a bad schema name or pool size.
   */
  static async connect(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = opts.schema ?? DEFAULT_SCHEMA;
    if (!SCHEMA_PATTERN.test(schema)) {
      throw new InterlockError(
        'CONFIG_INVALID',
        `postgres.schema '${schema}' is not a valid schema name (lower-case letters, digits and _, at most 48, not starting with a digit)`,
      );
    }
    const poolSize = opts.poolSize ?? DEFAULT_POOL_SIZE;
    if (!Number.isInteger(poolSize) || poolSize < 1) {
      throw new InterlockError('CONFIG_INVALID', `postgres.poolSize must be a positive integer, got ${poolSize}`);
    }
    if (!/^postgres(?:ql)?:\/\//.test(opts.url)) {
      throw new InterlockError('CONFIG_INVALID', 'postgres.url must be a postgres:// or postgresql:// URL');
    }
    const shown = shownPgUrl(opts.url);
    let pg: PgModule;
    try {
      pg = (await import('pg')).default as unknown as PgModule;
    } catch (cause) {
      throw new InterlockError('STORE_UNAVAILABLE', `cannot load the PostgreSQL driver (pg): ${errText(cause)}`, {
        cause,
      });
    }
    const commandMs = opts.commandTimeoutMs ?? 10_000;
    const config = {
      connectionString: opts.url,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      statement_timeout: commandMs,
      // A backstop for a server that stopped answering (statement_timeout is the server's own).
      query_timeout: commandMs + 5000,
      keepAlive: true,
      application_name: `interlock:${schema}`,
      // Every connection works in the store's schema from its start (the name is checked: [a-z_][a-z0-9_]*).
      options: `-c search_path=${schema}`,
    };
    const pool = new pg.Pool({ ...config, max: poolSize });
    // An idle client whose backend went away: the pool drops it; nothing to crash on.
    pool.on('error', () => undefined);
    const store = new PostgresStore(
      pg,
      pool,
      config,
      shown,
      schema,
      opts.clock ?? systemClock,
      opts.feedReconnectMs ?? { first: 100, max: 5000 },
    );
    try {
      await store.startupChecks();
      await store.migrate();
      await store.syncClock();
    } catch (cause) {
      await pool.end().catch(() => undefined);
      if (cause instanceof InterlockError) throw cause;
      throw store.unavailable('connect', cause);
    }
    return store;
  }

  /** A server this store cannot write to (a hot standby, a read-only default) is refused at connect. */
  private async startupChecks(): Promise<void> {
    const r = await this.pool.query(
      "SELECT pg_is_in_recovery() AS standby, current_setting('default_transaction_read_only') AS ro, current_setting('server_version_num')::int AS v",
    );
    const row = r.rows[0] as { standby: boolean; ro: string; v: number };
    if (row.standby) {
      throw new InterlockError('STORE_UNAVAILABLE', `postgres at ${this.shown} is a read-only standby`);
    }
    if (row.ro === 'on') {
      throw new InterlockError(
        'STORE_UNAVAILABLE',
        `postgres at ${this.shown} is read-only (default_transaction_read_only)`,
      );
    }
    if (row.v < 120000) {
      throw new InterlockError(
        'STORE_UNAVAILABLE',
        `postgres at ${this.shown} is version ${row.v}; 12 or newer is needed`,
      );
    }
  }

  /**
   * Applies pending migrations in one transaction under an advisory lock on the schema name, so N processes starting
   * at once migrate once (the others wait, then find nothing to do). DDL is transactional: a failed migration
   * leaves nothing behind.
   */
  private async migrate(): Promise<void> {
    const files = migrationFiles();
    await this.tx('migrate', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_MIGRATE, this.schema]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.q}`);
      await c.query(`SET LOCAL search_path TO ${this.q}`);
      await c.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const done = new Set(
        (await c.query('SELECT version FROM schema_migrations')).rows.map((r) => Number((r as Row).version)),
      );
      const newest = Math.max(0, ...done);
      const known = Math.max(0, ...files.map((f) => f.version));
      if (newest > known) {
        throw new InterlockError(
          'STORE_UNAVAILABLE',
          `postgres schema ${this.schema} is at migration ${newest}, newer than this Interlock knows (${known}): upgrade Interlock`,
        );
      }
      for (const f of files) {
        if (done.has(f.version)) continue;
        await c.query(f.sql);
        await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [f.version, f.name]);
      }
    });
  }

  // ---------------------------------------------------------------- plumbing

  private unavailable(what: string, cause: unknown): InterlockError {
    return new InterlockError('STORE_UNAVAILABLE', `postgres ${what} failed (${this.shown}): ${errText(cause)}`, {
      cause,
    });
  }

  /** One statement on a pooled connection; driver errors become STORE_UNAVAILABLE. */
  private async query(what: string, sql: string, params: unknown[] = []): Promise<Row[]> {
    if (this.closed) throw new InterlockError('STORE_UNAVAILABLE', 'postgres store is closed');
    try {
      return (await this.pool.query(sql, params)).rows as Row[];
    } catch (cause) {
      throw this.unavailable(what, cause);
    }
  }

  /**
   * A transaction (READ COMMITTED, with the explicit locks each operation takes). Tried again, with a short jittered
   * sleep, after a serialization failure or a deadlock (rolled back by the server), at most MAX_TX_ATTEMPTS times.
   * Any other failure is STORE_UNAVAILABLE (an InterlockError thrown by `fn` passes through), and the connection is
   * dropped rather than returned to the pool. A COMMIT whose answer was lost may have committed: the caller sees an
   * error and must not act on it (fail closed); it is never retried here.
   */
  private async tx<T>(what: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed && what !== 'migrate') throw new InterlockError('STORE_UNAVAILABLE', 'postgres store is closed');
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (cause) {
        throw this.unavailable(what, cause);
      }
      let outcome: { ok: true; value: T } | { ok: false; cause: unknown };
      let broken = false;
      try {
        await client.query('BEGIN');
        const value = await fn(client);
        await client.query('COMMIT');
        outcome = { ok: true, value };
      } catch (cause) {
        outcome = { ok: false, cause };
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      // A connection in an unknown state is dropped, not returned to the pool.
      client.release(broken ? new Error('connection left in an unknown state') : undefined);
      if (outcome.ok) return outcome.value;
      const { cause } = outcome;
      if (isRetryable(cause) && attempt < MAX_TX_ATTEMPTS && !broken) {
        // A real pause (not the injected clock's): a driver-level wait, like the feed's reconnect timers.
        await new Promise((r) => setTimeout(r, 2 ** attempt + Math.random() * 10 * attempt));
        continue;
      }
      if (cause instanceof InterlockError) throw cause;
      throw this.unavailable(what, cause);
    }
  }

  // ---------------------------------------------------------------- retention

  async prune(req: PruneRequest): Promise<PruneCounts> {
    let counts = emptyCounts();
    for (const p of req.pipelines)
      counts = addCounts(counts, await this.tx('prune', (c) => this.prunePipeline(c, p, req)));
    return counts;
  }

  /**
   * One pipeline's prune in one transaction, under the pipeline's run lock (so no run of it is created or ends while
   * its runs are chosen): candidates by age from the indexes, each checked by the rules in retention.ts.
   */
  private async prunePipeline(c: PoolClient, p: string, req: PruneRequest): Promise<PruneCounts> {
    const { now, policy, limit } = req;
    const counts = emptyCounts();
    await this.lock(c, 'run', p);
    const tryParse = <T>(raw: unknown, what: string): T | undefined => {
      try {
        return parseRecord<T>(String(raw), what);
      } catch {
        return undefined; // a corrupt record is left for someone to look at, never deleted blind
      }
    };
    const decisionSeqs = (
      await c.query(
        `SELECT seq FROM decisions WHERE pipeline = $1 AND decided_at < $2
           AND seq < (SELECT max(seq) FROM decisions WHERE pipeline = $1)
           AND decided_at < (SELECT max(decided_at) FROM decisions WHERE pipeline = $1)
         ORDER BY decided_at, seq LIMIT $3`,
        [p, now - policy.decisionsMs, limit],
      )
    ).rows.map((r) => String(r.seq));
    counts.decisions = decisionSeqs.length;

    const newest = new Set(
      (await c.query('SELECT key FROM window_heads WHERE pipeline = $1', [p])).rows.map((r) => String(r.key)),
    );
    const windowRows = (
      await c.query(
        'SELECT record FROM windows WHERE pipeline = $1 AND NOT live AND open_at < $2 ORDER BY open_at, key LIMIT $3',
        [p, now - policy.windowsMs, limit * 4],
      )
    ).rows;
    const windows = windowRows
      .map((r) => tryParse<WindowRecord>(r.record, 'window'))
      .filter((w): w is WindowRecord => w !== undefined);
    const attemptIds = [...new Set(windows.flatMap((w) => w.attempts.map((a) => a.runId)))];
    const attemptRuns = new Map<string, RunState>();
    if (attemptIds.length > 0) {
      for (const r of (await c.query('SELECT run_id, record FROM runs WHERE run_id = ANY($1)', [attemptIds])).rows) {
        const run = tryParse<RunState>(r.record, 'run');
        if (run) attemptRuns.set(String(r.run_id), run);
      }
    }
    const goneWindows = windows
      .filter((w) =>
        windowPrunable(w, { isNewest: newest.has(w.key), runOf: (id) => attemptRuns.get(id), now, policy }),
      )
      .slice(0, limit)
      .map((w) => w.key);
    counts.windows = goneWindows.length;

    const activeRunId = (await c.query('SELECT run_id FROM active_runs WHERE pipeline = $1', [p])).rows[0]?.run_id as
      | string
      | undefined;
    const terminal = TERMINAL_STATUSES as readonly string[];
    const runRows = (
      await c.query(
        'SELECT record FROM runs WHERE pipeline = $1 AND created_at < $2 AND status = ANY($3) ORDER BY created_at, run_id LIMIT $4',
        [p, now - policy.runsMs, terminal, limit * 4],
      )
    ).rows;
    const runs = runRows.map((r) => tryParse<RunState>(r.record, 'run')).filter((r): r is RunState => r !== undefined);
    const windowOf = [...new Set(runs.flatMap((r) => (r.window ? [r.window.key] : [])))];
    const gone = new Set(goneWindows);
    const present = new Set<string>();
    if (windowOf.length > 0) {
      for (const r of (await c.query('SELECT key FROM windows WHERE key = ANY($1)', [windowOf])).rows) {
        if (!gone.has(String(r.key))) present.add(String(r.key));
      }
    }
    const goneRuns = runs
      .filter(
        (r) => r.pipeline === p && runPrunable(r, { activeRunId, windowExists: (k) => present.has(k), now, policy }),
      )
      .slice(0, limit)
      .map((r) => r.runId);
    counts.runs = goneRuns.length;
    if (goneRuns.length > 0) {
      counts.runEvents = Number(
        (await c.query('SELECT count(*) AS n FROM run_events WHERE run_id = ANY($1)', [goneRuns])).rows[0]?.n ?? 0,
      );
    }
    // Alert marks are stored under their key's JSON string: a window's / a run's marks share its prefix.
    const prefixes = [
      ...goneWindows.map((k) => windowAlertPrefix(p, k)),
      ...goneRuns.map((id) => runAlertPrefix(p, id)),
    ].map((x) => JSON.stringify(x).slice(0, -1));
    if (prefixes.length > 0) {
      counts.alertMarks = Number(
        (
          await c.query(
            'SELECT count(*) AS n FROM alert_state WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) x WHERE starts_with(key, x))',
            [prefixes],
          )
        ).rows[0]?.n ?? 0,
      );
    }
    if (req.dryRun) return counts;

    if (decisionSeqs.length > 0) await c.query('DELETE FROM decisions WHERE seq = ANY($1::bigint[])', [decisionSeqs]);
    if (goneWindows.length > 0) await c.query('DELETE FROM windows WHERE key = ANY($1) AND NOT live', [goneWindows]);
    if (goneRuns.length > 0) {
      await c.query('DELETE FROM run_events WHERE run_id = ANY($1)', [goneRuns]);
      await c.query('DELETE FROM runs WHERE run_id = ANY($1)', [goneRuns]);
    }
    if (prefixes.length > 0) {
      await c.query(
        'DELETE FROM alert_state WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) x WHERE starts_with(key, x))',
        [prefixes],
      );
    }
    return counts;
  }

  /** Serialises what follows (in this transaction) with every other holder of the same (purpose, name) lock. */
  private async lock(c: PoolClient, purpose: string, name: string): Promise<void> {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [`${this.schema}:${purpose}`, name]);
  }

  /**
   * Appends a change row and sends its NOTIFY, both inside the write's transaction: the notification goes out when
   * (and only if) the write commits.
   */
  private async changed(c: PoolClient, pipeline: string, kind: StoreChange['kind']): Promise<void> {
    const r = await c.query(`INSERT INTO changes (pipeline, kind, at) VALUES ($1, $2, ${SERVER_NOW}) RETURNING seq`, [
      pipeline,
      kind,
    ]);
    const seq = Number((r.rows[0] as Row).seq);
    let payload = JSON.stringify({ pipeline, kind, seq });
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) payload = JSON.stringify({ sweep: true, seq });
    await c.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
    if (++this.writesSincePrune >= PRUNE_EVERY) {
      this.writesSincePrune = 0;
      await c.query('DELETE FROM changes WHERE seq <= (SELECT max(seq) FROM changes) - $1', [FEED_KEEP_ROWS]);
    }
  }

  private async serverNow(c: PoolClient): Promise<number> {
    return Number((await c.query(`SELECT ${SERVER_NOW} AS now`)).rows[0].now);
  }

  /** Measures the server's clock against this host's (midpoint of the round trip). */
  private async syncClock(): Promise<void> {
    const before = this.hostClock.now();
    const rows = await this.query('clock', `SELECT ${SERVER_NOW} AS now`);
    const after = this.hostClock.now();
    const server = Number(rows[0]?.now);
    if (Number.isFinite(server)) this.offsetMs = Math.round(server - (before + after) / 2);
  }

  // ---------------------------------------------------------------- pipelines

  async putPipeline(spec: PipelineSpec): Promise<void> {
    await this.tx('putPipeline', async (c) => {
      await c.query(
        `INSERT INTO pipelines (name, spec, updated_at) VALUES ($1, $2, ${SERVER_NOW})
         ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, updated_at = EXCLUDED.updated_at`,
        [spec.name, JSON.stringify(spec)],
      );
      await this.changed(c, spec.name, 'pipeline');
    });
  }
  async getPipeline(name: string): Promise<StoredPipeline | undefined> {
    const rows = await this.query('getPipeline', 'SELECT spec FROM pipelines WHERE name = $1', [name]);
    return rows[0] === undefined ? undefined : { name, json: String(rows[0].spec) };
  }
  async listPipelines(): Promise<StoredPipeline[]> {
    const rows = await this.query('listPipelines', 'SELECT name, spec FROM pipelines ORDER BY name');
    return rows.map((r) => ({ name: String(r.name), json: String(r.spec) }));
  }
  async deletePipeline(name: string): Promise<DeleteResult> {
    // Under the pipeline's run lock: no run can be created between the check and the delete.
    return this.tx('deletePipeline', async (c) => {
      await this.lock(c, 'run', name);
      const active = await this.activeRunIn(c, name);
      if (active) return { ok: false, active };
      const deleted = ((await c.query('DELETE FROM pipelines WHERE name = $1', [name])).rowCount ?? 0) > 0;
      if (deleted) await this.changed(c, name, 'pipeline');
      return { ok: true, deleted };
    });
  }

  /** The run holding `pipeline`'s lock (inside a transaction). STORE_CORRUPT when the lock names no stored run. */
  private async activeRunIn(c: PoolClient, pipeline: string): Promise<RunState | undefined> {
    const r = await c.query(
      'SELECT a.run_id, r.record FROM active_runs a LEFT JOIN runs r ON r.run_id = a.run_id WHERE a.pipeline = $1',
      [pipeline],
    );
    const row = r.rows[0] as Row | undefined;
    if (row === undefined) return undefined;
    if (row.record === null || row.record === undefined)
      throw new InterlockError('STORE_CORRUPT', `active run ${String(row.run_id)} of ${pipeline} has no record`);
    return parseRecord<RunState>(String(row.record), 'run');
  }

  // ---------------------------------------------------------------- evaluations

  async saveEvaluation(w: EvaluationWrite): Promise<void> {
    await this.tx('saveEvaluation', async (c) => {
      for (const r of w.results) {
        await c.query(
          `INSERT INTO trait_results (pipeline, trait, status, result, evaluated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (pipeline, trait) DO UPDATE SET status = EXCLUDED.status, result = EXCLUDED.result,
             evaluated_at = EXCLUDED.evaluated_at, expires_at = EXCLUDED.expires_at`,
          [r.pipeline, r.trait, r.status, JSON.stringify(r), r.evaluatedAt, r.expiresAt ?? null],
        );
      }
      const rd = w.readiness;
      await c.query(
        `INSERT INTO readiness (pipeline, outcome, readiness, decided_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (pipeline) DO UPDATE SET outcome = EXCLUDED.outcome, readiness = EXCLUDED.readiness,
           decided_at = EXCLUDED.decided_at`,
        [rd.pipeline, rd.outcome, JSON.stringify(rd), rd.decidedAt],
      );
      const d = w.decision;
      await c.query('INSERT INTO decisions (id, pipeline, outcome, decided_at, record) VALUES ($1, $2, $3, $4, $5)', [
        d.id,
        d.pipeline,
        d.outcome,
        d.decidedAt,
        JSON.stringify(d),
      ]);
      await this.changed(c, rd.pipeline, 'evaluation');
    });
  }
  async getTraitResults(pipeline: string): Promise<TraitResult[]> {
    const rows = await this.query(
      'getTraitResults',
      'SELECT result FROM trait_results WHERE pipeline = $1 ORDER BY trait',
      [pipeline],
    );
    return rows.map((r) => parseRecord<TraitResult>(String(r.result), 'trait result'));
  }
  async getTraitResult(pipeline: string, trait: string): Promise<TraitResult | undefined> {
    const rows = await this.query(
      'getTraitResult',
      'SELECT result FROM trait_results WHERE pipeline = $1 AND trait = $2',
      [pipeline, trait],
    );
    return rows[0] === undefined ? undefined : parseRecord<TraitResult>(String(rows[0].result), 'trait result');
  }
  async getReadiness(pipeline: string): Promise<Readiness | undefined> {
    const rows = await this.query('getReadiness', 'SELECT readiness FROM readiness WHERE pipeline = $1', [pipeline]);
    return rows[0] === undefined ? undefined : parseRecord<Readiness>(String(rows[0].readiness), 'readiness');
  }
  async listDecisions(pipeline: string, opts: ListOptions = {}): Promise<DecisionRecord[]> {
    const rows = await this.query(
      'listDecisions',
      'SELECT record FROM decisions WHERE pipeline = $1 AND decided_at < $2 ORDER BY decided_at DESC, seq DESC LIMIT $3',
      [pipeline, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? null],
    );
    return rows.map((r) => parseRecord<DecisionRecord>(String(r.record), 'decision record'));
  }

  // ---------------------------------------------------------------- runs

  private async insertEvent(c: PoolClient, e: RunEvent): Promise<void> {
    await c.query('INSERT INTO run_events (run_id, pipeline, at, event) VALUES ($1, $2, $3, $4)', [
      e.runId,
      e.pipeline,
      e.at,
      JSON.stringify(e),
    ]);
  }

  async createRun(run: RunState): Promise<CreateRunResult> {
    return this.tx('createRun', async (c) => {
      // Under the pipeline's run lock (createRun, deletePipeline, releaseLock): the claim check, the lock check and
      // the insert see one committed state. The claim is checked first: a loser must learn the occurrence is taken.
      await this.lock(c, 'run', run.pipeline);
      if (run.runKey !== undefined) {
        const claimed = await this.runByKeyIn(c, run.runKey);
        if (claimed) return { ok: false, claimed };
      }
      const active = await this.activeRunIn(c, run.pipeline);
      if (active) return { ok: false, active };
      // The claim itself: the unique run_key (a key of another pipeline's run cannot pass the lock above).
      const inserted = await c.query(
        `INSERT INTO runs (run_id, pipeline, status, version, created_at, updated_at, run_key, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING run_id`,
        [
          run.runId,
          run.pipeline,
          run.status,
          run.version,
          run.createdAt,
          run.updatedAt,
          run.runKey ?? null,
          JSON.stringify(run),
        ],
      );
      if (inserted.rowCount !== 1) {
        const claimed = run.runKey === undefined ? undefined : await this.runByKeyIn(c, run.runKey);
        if (claimed) return { ok: false, claimed };
        throw new InterlockError('CONFLICT', `run ${run.runId} exists already`);
      }
      await c.query('INSERT INTO active_runs (pipeline, run_id) VALUES ($1, $2)', [run.pipeline, run.runId]);
      await this.insertEvent(c, runEvent(run, null));
      await this.changed(c, run.pipeline, 'run');
      return { ok: true };
    });
  }

  private async runByKeyIn(c: PoolClient | undefined, runKey: string): Promise<RunState | undefined> {
    const sql = 'SELECT record FROM runs WHERE run_key = $1';
    const rows = c ? ((await c.query(sql, [runKey])).rows as Row[]) : await this.query('getRunByKey', sql, [runKey]);
    return rows[0] === undefined ? undefined : parseRecord<RunState>(String(rows[0].record), 'run');
  }

  async getRunByKey(runKey: string): Promise<RunState | undefined> {
    return this.runByKeyIn(undefined, runKey);
  }

  async casRun(next: RunState, expectedVersion: number, opts: CasOptions = {}): Promise<CasResult> {
    return this.tx('casRun', async (c) => {
      // The row lock makes the rule's read and the write one step; the UPDATE's WHERE version = $n says it again.
      const r = await c.query('SELECT record FROM runs WHERE run_id = $1 FOR UPDATE', [next.runId]);
      const row = r.rows[0] as Row | undefined;
      if (row === undefined) return { ok: false };
      const current = parseRecord<RunState>(String(row.record), 'run');
      // Overdue by the server's clock: a host whose clock runs ahead cannot time a run out early.
      const now = opts.ifOverdue ? await this.serverNow(c) : next.updatedAt;
      if (!casApplies(current, next, expectedVersion, opts.ifOverdue, now)) return { ok: false, current };
      const updated = await c.query(
        'UPDATE runs SET status = $1, version = $2, updated_at = $3, record = $4 WHERE run_id = $5 AND version = $6',
        [next.status, next.version, next.updatedAt, JSON.stringify(next), next.runId, expectedVersion],
      );
      if (updated.rowCount !== 1) return { ok: false, current };
      if (releasesLock(next)) {
        await c.query('DELETE FROM active_runs WHERE pipeline = $1 AND run_id = $2', [next.pipeline, next.runId]);
      }
      await this.insertEvent(c, runEvent(next, current.status));
      await this.changed(c, next.pipeline, 'run');
      return { ok: true };
    });
  }

  async releaseLock(pipeline: string, runId: string, version: number): Promise<boolean> {
    return this.tx('releaseLock', async (c) => {
      await this.lock(c, 'run', pipeline);
      const a = await c.query('SELECT run_id FROM active_runs WHERE pipeline = $1', [pipeline]);
      if ((a.rows[0] as Row | undefined)?.run_id !== runId) return false;
      // FOR UPDATE: no casRun can move the run between this read and the release.
      const r = await c.query('SELECT record FROM runs WHERE run_id = $1 FOR UPDATE', [runId]);
      const row = r.rows[0] as Row | undefined;
      if (row === undefined || parseRecord<RunState>(String(row.record), 'run').version !== version) return false;
      const del = await c.query('DELETE FROM active_runs WHERE pipeline = $1 AND run_id = $2', [pipeline, runId]);
      if (del.rowCount !== 1) return false;
      await this.changed(c, pipeline, 'run');
      return true;
    });
  }

  async getRun(runId: string): Promise<RunState | undefined> {
    const rows = await this.query('getRun', 'SELECT record FROM runs WHERE run_id = $1', [runId]);
    return rows[0] === undefined ? undefined : parseRecord<RunState>(String(rows[0].record), 'run');
  }
  async getActiveRun(pipeline: string): Promise<RunState | undefined> {
    const rows = await this.query(
      'getActiveRun',
      'SELECT a.run_id, r.record FROM active_runs a LEFT JOIN runs r ON r.run_id = a.run_id WHERE a.pipeline = $1',
      [pipeline],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return row.record === null || row.record === undefined
      ? undefined
      : parseRecord<RunState>(String(row.record), 'run');
  }
  async listRuns(pipeline: string, opts: ListOptions = {}): Promise<RunState[]> {
    const rows = await this.query(
      'listRuns',
      'SELECT record FROM runs WHERE pipeline = $1 AND created_at < $2 ORDER BY created_at DESC, run_id DESC LIMIT $3',
      [pipeline, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? null],
    );
    return rows.map((r) => parseRecord<RunState>(String(r.record), 'run'));
  }
  async listRunEvents(pipeline: string, opts: ListOptions = {}): Promise<RunEvent[]> {
    const rows = await this.query(
      'listRunEvents',
      'SELECT event FROM run_events WHERE pipeline = $1 AND at < $2 ORDER BY at DESC, seq DESC LIMIT $3',
      [pipeline, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? null],
    );
    return rows.map((r) => parseRecord<RunEvent>(String(r.event), 'run event'));
  }

  async claimAlert(key: AlertKey, fingerprint: string, now: number, repeatAfterMs: number): Promise<AlertClaim> {
    // alertKeyId separates its parts with NUL, which TEXT cannot hold: stored as its JSON string.
    const id = JSON.stringify(alertKeyId(key));
    return this.tx('claimAlert', async (c) => {
      await this.lock(c, 'alert', id);
      const r = await c.query('SELECT fingerprint, sent_at FROM alert_state WHERE key = $1', [id]);
      const row = r.rows[0] as Row | undefined;
      const prev =
        row === undefined ? undefined : { fingerprint: String(row.fingerprint), sentAt: Number(row.sent_at) };
      const fire = shouldSendAlert(prev, fingerprint, now, repeatAfterMs);
      if (fire) {
        await c.query(
          `INSERT INTO alert_state (key, fingerprint, sent_at) VALUES ($1, $2, $3)
           ON CONFLICT (key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, sent_at = EXCLUDED.sent_at`,
          [id, fingerprint, now],
        );
      }
      return prev ? { fire, previous: prev.fingerprint } : { fire };
    });
  }

  // ---------------------------------------------------------------- windows

  /** The lease `name` from a row. STORE_CORRUPT when its columns are not what this store writes. */
  private leaseOf(name: string, row: Row | undefined): Lease | undefined {
    if (row === undefined) return undefined;
    const holder = row.holder;
    const epoch = Number(row.epoch);
    const expiresAt = Number(row.expires_at);
    if (typeof holder !== 'string' || !Number.isFinite(epoch) || !Number.isFinite(expiresAt)) {
      throw new InterlockError('STORE_CORRUPT', `stored lease ${name} is not a holder with a numeric epoch and expiry`);
    }
    return { name, holder, epoch, expiresAt };
  }

  /**
   * Whether a write under `fence` may go ahead: the lease still has the fence's epoch. FOR SHARE holds the lease
   * row until this transaction ends, so no acquireLease can hand it over between the check and the write.
   */
  private async fenceHolds(c: PoolClient, fence: LeaseFence | undefined): Promise<boolean> {
    if (fence === undefined) return true;
    const r = await c.query('SELECT holder, epoch, expires_at FROM leases WHERE name = $1 FOR SHARE', [fence.name]);
    return this.leaseOf(fence.name, r.rows[0] as Row | undefined)?.epoch === fence.epoch;
  }

  private async windowIn(c: PoolClient | undefined, key: string, forUpdate = false): Promise<WindowRecord | undefined> {
    const sql = `SELECT record FROM windows WHERE key = $1${forUpdate ? ' FOR UPDATE' : ''}`;
    const rows = c ? ((await c.query(sql, [key])).rows as Row[]) : await this.query('getWindow', sql, [key]);
    return rows[0] === undefined ? undefined : parseRecord<WindowRecord>(String(rows[0].record), 'window');
  }

  async createWindow(w: WindowRecord, fence?: LeaseFence): Promise<WindowWriteResult> {
    return this.tx('createWindow', async (c) => {
      if (!(await this.fenceHolds(c, fence))) {
        const current = await this.windowIn(c, w.key);
        return current ? { ok: false, fenced: true, current } : { ok: false, fenced: true };
      }
      // The claim: the first insert of a key wins; a concurrent one waits for it, then does nothing.
      const inserted = await c.query(
        `INSERT INTO windows (key, pipeline, schedule, open_at, state, live, version, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO NOTHING`,
        [w.key, w.pipeline, w.schedule, w.openAt, w.state, !isWindowTerminal(w.state), w.version, JSON.stringify(w)],
      );
      if (inserted.rowCount !== 1) {
        const current = await this.windowIn(c, w.key);
        return current ? { ok: false, current } : { ok: false };
      }
      await c.query(
        `INSERT INTO window_heads (pipeline, schedule, key, open_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (pipeline, schedule) DO UPDATE SET key = EXCLUDED.key, open_at = EXCLUDED.open_at
         WHERE EXCLUDED.open_at > window_heads.open_at
            OR (EXCLUDED.open_at = window_heads.open_at AND EXCLUDED.key > window_heads.key)`,
        [w.pipeline, w.schedule, w.key, w.openAt],
      );
      await this.changed(c, w.pipeline, 'window');
      return { ok: true };
    });
  }

  async casWindow(next: WindowRecord, expectedVersion: number, fence?: LeaseFence): Promise<WindowWriteResult> {
    return this.tx('casWindow', async (c) => {
      const current = await this.windowIn(c, next.key, true);
      if (!(await this.fenceHolds(c, fence)))
        return current ? { ok: false, fenced: true, current } : { ok: false, fenced: true };
      if (!current) return { ok: false };
      if (!windowCasApplies(current, next, expectedVersion)) return { ok: false, current };
      // pipeline, schedule and open_at stay as created: the key (the same, by windowCasApplies) is made of them.
      const updated = await c.query(
        'UPDATE windows SET state = $1, live = $2, version = $3, record = $4 WHERE key = $5 AND version = $6',
        [next.state, !isWindowTerminal(next.state), next.version, JSON.stringify(next), next.key, expectedVersion],
      );
      if (updated.rowCount !== 1) return { ok: false, current };
      await this.changed(c, current.pipeline, 'window');
      return { ok: true };
    });
  }

  async getWindow(key: string): Promise<WindowRecord | undefined> {
    return this.windowIn(undefined, key);
  }

  async listWindows(pipeline: string, opts: WindowListOptions = {}): Promise<WindowRecord[]> {
    const where = ['pipeline = $1'];
    const params: unknown[] = [pipeline];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(`${sql} $${params.length}`);
    };
    if (opts.before !== undefined) add('open_at <', opts.before);
    if (opts.state !== undefined) add('state =', opts.state);
    if (opts.schedule !== undefined) add('schedule =', opts.schedule);
    params.push(opts.limit ?? null);
    const rows = await this.query(
      'listWindows',
      `SELECT record FROM windows WHERE ${where.join(' AND ')} ORDER BY open_at DESC, key DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => parseRecord<WindowRecord>(String(r.record), 'window'));
  }

  async windowHeads(pipeline?: string): Promise<WindowRecord[]> {
    // Live windows (partial index), then the heads that ended (the live ones are in the first part already).
    const rows =
      pipeline === undefined
        ? await this.query(
            'windowHeads',
            `SELECT record FROM windows WHERE live
             UNION ALL
             SELECT w.record FROM window_heads h JOIN windows w ON w.key = h.key WHERE NOT w.live`,
          )
        : await this.query(
            'windowHeads',
            `SELECT record FROM windows WHERE live AND pipeline = $1
             UNION ALL
             SELECT w.record FROM window_heads h JOIN windows w ON w.key = h.key WHERE h.pipeline = $1 AND NOT w.live`,
            [pipeline],
          );
    return rows.map((r) => parseRecord<WindowRecord>(String(r.record), 'window'));
  }

  // ---------------------------------------------------------------- leases

  /**
   * The lease rule (leaseGrant) on the server's clock: the caller's `now` is ignored, so hosts with wrong clocks
   * still agree on when a lease ends. A new tenure's epoch comes from the lease_epochs sequence.
   */
  async acquireLease(name: string, holder: string, ttlMs: number, _now: number): Promise<LeaseResult> {
    return this.tx('acquireLease', async (c) => {
      // The advisory lock covers a lease that has no row yet; FOR UPDATE waits for fenced writes holding FOR SHARE.
      await this.lock(c, 'lease', name);
      const r = await c.query(
        `SELECT holder, epoch, expires_at, ${SERVER_NOW} AS now FROM leases WHERE name = $1 FOR UPDATE`,
        [name],
      );
      const current = this.leaseOf(name, r.rows[0] as Row | undefined);
      const now = r.rows[0] ? Number((r.rows[0] as Row).now) : await this.serverNow(c);
      const grant = leaseGrant(current, name, holder, ttlMs, Math.floor(now));
      if (!grant.ok) return grant;
      let { epoch } = grant.lease;
      if (current === undefined || epoch !== current.epoch) {
        epoch = Number((await c.query("SELECT nextval('lease_epochs') AS e")).rows[0].e);
      }
      const lease: Lease = { ...grant.lease, epoch };
      await c.query(
        `INSERT INTO leases (name, holder, epoch, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, epoch = EXCLUDED.epoch, expires_at = EXCLUDED.expires_at`,
        [name, lease.holder, lease.epoch, lease.expiresAt],
      );
      return { ok: true, lease };
    });
  }
  async releaseLease(name: string, holder: string, epoch: number): Promise<boolean> {
    // Keeps the epoch (it only grows): the lease expires now instead of disappearing.
    const r = await this.tx('releaseLease', (c) =>
      c.query('UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2 AND epoch = $3', [name, holder, epoch]),
    );
    return r.rowCount === 1;
  }
  async getLease(name: string): Promise<Lease | undefined> {
    const rows = await this.query('getLease', 'SELECT holder, epoch, expires_at FROM leases WHERE name = $1', [name]);
    return this.leaseOf(name, rows[0]);
  }

  // ---------------------------------------------------------------- change feed

  /**
   * The change feed: a dedicated connection LISTENs on this schema's channel; each write's transaction sends a
   * NOTIFY {pipeline, kind, seq}, delivered once it commits (to every process, this one included). When the
   * connection is lost it reconnects with a growing backoff, LISTENs again, and then sweeps the `changes` rows past
   * the last seq it saw (minus SWEEP_OVERLAP): what was written while it was away is delivered late, not lost.
   */
  watchChanges(listener: (change: StoreChange) => void): () => void {
    if (this.closed) return () => undefined;
    this.listeners.add(listener);
    if (this.feedState === 'off') this.startFeed();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopFeed();
    };
  }

  /** The feed connection's state and server pid (for tests and diagnostics). */
  feedStatus(): { state: 'off' | 'connecting' | 'listening' | 'down'; pid?: number } {
    const pid = (this.feed as unknown as { processID?: number } | undefined)?.processID;
    return pid !== undefined && this.feedState === 'listening'
      ? { state: this.feedState, pid }
      : { state: this.feedState };
  }

  private startFeed(): void {
    const gen = ++this.feedGen;
    this.feedState = 'connecting';
    void this.connectFeed(gen, this.reconnect.first, true);
  }

  private stopFeed(): void {
    this.feedGen++;
    this.feedState = 'off';
    if (this.feedTimer !== undefined) clearTimeout(this.feedTimer);
    this.feedTimer = undefined;
    const f = this.feed;
    this.feed = undefined;
    if (f) f.end().catch(() => undefined);
  }

  private async connectFeed(gen: number, backoff: number, first: boolean): Promise<void> {
    const client = new this.pg.Client({ ...this.config, application_name: `interlock-feed:${this.schema}` });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if (gen !== this.feedGen) {
        await client.end().catch(() => undefined);
        return;
      }
      client.on('notification', (m) => {
        if (m.channel === this.channel) this.onNotify(m.payload);
      });
      client.on('end', () => this.feedLost(gen, client));
      client.on('error', () => this.feedLost(gen, client));
      await client.query(`LISTEN "${this.channel}"`);
      // Listening first, then read where to start (first time) or what was missed (after a reconnect).
      const rows = (
        await client.query(`SELECT seq, pipeline, kind FROM "${this.schema}".changes WHERE seq > $1 ORDER BY seq`, [
          first ? Number.MAX_SAFE_INTEGER : Math.max(0, this.feedLast - SWEEP_OVERLAP),
        ])
      ).rows as Row[];
      if (first) {
        const max = (await client.query(`SELECT coalesce(max(seq), 0) AS m FROM "${this.schema}".changes`)).rows[0];
        this.feedLast = Number((max as Row).m);
      }
      if (gen !== this.feedGen) {
        await client.end().catch(() => undefined);
        return;
      }
      this.feed = client;
      this.feedState = 'listening';
      if (!first) this.sweep(rows);
    } catch {
      await client.end().catch(() => undefined);
      if (gen !== this.feedGen || this.closed) return;
      this.feedState = 'down';
      this.feedTimer = setTimeout(() => {
        this.feedTimer = undefined;
        if (gen === this.feedGen) void this.connectFeed(gen, Math.min(backoff * 2, this.reconnect.max), first);
      }, backoff);
      this.feedTimer.unref();
    }
  }

  private feedLost(gen: number, client: PgClient): void {
    if (gen !== this.feedGen || this.feed !== client) return;
    this.feed = undefined;
    this.feedState = 'down';
    client.end().catch(() => undefined);
    this.feedTimer = setTimeout(() => {
      this.feedTimer = undefined;
      if (gen === this.feedGen) void this.connectFeed(gen, this.reconnect.first * 2, false);
    }, this.reconnect.first);
    this.feedTimer.unref();
  }

  /** Delivers the rows read after a reconnect, one change per (pipeline, kind). */
  private sweep(rows: Row[]): void {
    const seen = new Set<string>();
    for (const r of rows) {
      this.feedLast = Math.max(this.feedLast, Number(r.seq));
      const kind = String(r.kind) as StoreChange['kind'];
      const id = JSON.stringify([r.pipeline, kind]);
      if (seen.has(id)) continue;
      seen.add(id);
      this.emit({ pipeline: String(r.pipeline), kind });
    }
  }

  private onNotify(payload: string | undefined): void {
    let msg: { pipeline?: unknown; kind?: unknown; seq?: unknown; sweep?: unknown };
    try {
      msg = JSON.parse(payload ?? '');
    } catch {
      return; // not ours: anyone who can connect may NOTIFY on the channel
    }
    if (typeof msg !== 'object' || msg === null) return;
    const seq = Number(msg.seq);
    if (msg.sweep === true && Number.isFinite(seq)) {
      void this.query('changes', 'SELECT seq, pipeline, kind FROM changes WHERE seq = $1', [seq])
        .then((rows) => this.sweep(rows))
        .catch(() => undefined);
      return;
    }
    const kinds: readonly string[] = ['evaluation', 'run', 'window', 'pipeline'];
    if (typeof msg.pipeline !== 'string' || typeof msg.kind !== 'string' || !kinds.includes(msg.kind)) return;
    if (Number.isFinite(seq)) this.feedLast = Math.max(this.feedLast, seq);
    this.emit({ pipeline: msg.pipeline, kind: msg.kind as StoreChange['kind'] });
  }

  private emit(change: StoreChange): void {
    for (const l of [...this.listeners]) {
      try {
        l({ ...change });
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  // ---------------------------------------------------------------- health

  /** Healthy = answers a trivial query on a pooled connection (and re-measures the clock offset). */
  async ping(): Promise<void> {
    await this.syncClock();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.stopFeed();
    await this.pool.end().catch(() => undefined);
  }
}
