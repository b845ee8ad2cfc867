// SQLite store (better-sqlite3): WAL, .sql migrations, lock waits retried asynchronously; safe with several processes.

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type Clock, sleep, systemClock } from '../../core/clock.js';
import { InterlockError } from '../../core/errors.js';
import type { DecisionRecord, PipelineSpec, Readiness, RunEvent, RunState, TraitResult } from '../../core/types.js';
import type { WindowRecord } from '../../engine/window.js';
import { parseRecord } from '../records.js';
import { type AlertKey, type AlertMark, alertKeyId, casApplies, releasesLock, shouldSendAlert } from '../rules.js';
import type { Lease, LeaseFence, LeaseResult, StoreChange, WindowListOptions, WindowWriteResult } from '../types.js';
import {
  type AlertClaim,
  type CasOptions,
  type CasResult,
  type CreateRunResult,
  type DeleteResult,
  type EvaluationWrite,
  type ListOptions,
  runEvent,
  type Store,
  type StoredPipeline,
} from '../types.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface SqliteStoreOptions {
  /** Database file; ':memory:' for a private in-memory database. */
  path: string;
  /**
   * How long an operation waits for another process's lock, ms (default 10000), in total. The wait is a loop of
   * short tries (SQLite's own busy wait is capped at BUSY_SLICE_MS) with asynchronous sleeps between them, so a
   * lock held elsewhere never freezes this process's event loop.
   */
  busyTimeoutMs?: number;
  /** Timestamps and the sleeps between tries (default: the host's clock). */
  clock?: Clock;
  /** The sleep between tries, instead of the clock's (tests inject their own). */
  sleep?: (ms: number) => Promise<void>;
}

/** Longest SQLite's synchronous busy handler may block the event loop per try, ms. */
export const BUSY_SLICE_MS = 10;
/** Sleeps between tries grow from 2 ms to this. */
const MAX_BACKOFF_MS = 50;
const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/** SQLITE_BUSY and its extended codes (another connection holds the lock), and SQLITE_LOCKED. */
function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

/** Creates the database file owner-only (0600) when it does not exist; SQLite gives -wal and -shm the same mode. */
function createPrivate(path: string): void {
  if (path === ':memory:' || path.startsWith('file:') || existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (e) {
    // Another process created it first: theirs is as good.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** A stored record, checked: STORE_CORRUPT when it is not what this store writes. */
function parse<T>(json: string, what: string): T {
  return parseRecord<T>(json, what);
}

/** Applies pending migrations in one IMMEDIATE transaction, so concurrent openers agree on the schema. */
function migrate(db: Database.Database): void {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f))
    .sort();
  // Up to date (the usual case): no write lock needed, so opening never waits on another process's writer.
  const latest = Math.max(0, ...files.map((f) => Number.parseInt(f.slice(0, 4), 10)));
  if ((db.pragma('user_version', { simple: true }) as number) >= latest) return;
  const apply = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (const f of files) {
      const version = Number.parseInt(f.slice(0, 4), 10);
      if (version <= current) continue;
      db.exec(readFileSync(join(MIGRATIONS_DIR, f), 'utf8'));
      db.pragma(`user_version = ${version}`);
    }
  });
  apply.immediate();
}

export class SqliteStore implements Store {
  // Watcher storage: not implemented on this backend yet (fails closed: the watcher cannot run on it).
  private notYet(): never {
    throw new InterlockError(
      'STORE_UNAVAILABLE',
      `the ${this.kind} store does not keep windows, run keys or leases yet`,
    );
  }
  async getRunByKey(_runKey: string): Promise<RunState | undefined> {
    return this.notYet();
  }
  async createWindow(_w: WindowRecord, _fence?: LeaseFence): Promise<WindowWriteResult> {
    return this.notYet();
  }
  async casWindow(_w: WindowRecord, _v: number, _fence?: LeaseFence): Promise<WindowWriteResult> {
    return this.notYet();
  }
  async getWindow(_key: string): Promise<WindowRecord | undefined> {
    return this.notYet();
  }
  async listWindows(_p: string, _o?: WindowListOptions): Promise<WindowRecord[]> {
    return this.notYet();
  }
  async windowHeads(_p?: string): Promise<WindowRecord[]> {
    return this.notYet();
  }
  async acquireLease(_n: string, _h: string, _t: number, _now: number): Promise<LeaseResult> {
    return this.notYet();
  }
  async releaseLease(_n: string, _h: string, _e: number): Promise<boolean> {
    return this.notYet();
  }
  async getLease(_n: string): Promise<Lease | undefined> {
    return this.notYet();
  }
  watchChanges(_l: (c: StoreChange) => void): () => void {
    return () => undefined;
  }

  readonly kind = 'sqlite';
  private db: Database.Database;
  private closed = false;
  private stmts;
  private readonly busyTimeoutMs: number;
  private readonly probe: Database.Transaction<() => undefined>;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly hostClock: Clock;

  constructor(opts: SqliteStoreOptions) {
    this.busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    const clock = opts.clock ?? systemClock;
    this.hostClock = clock;
    this.sleep = opts.sleep ?? ((ms) => sleep(clock, ms));
    try {
      createPrivate(opts.path);
      this.db = new Database(opts.path);
      // Opening may wait (synchronously, once, before anything is served) for a migration or the switch to WAL.
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      this.db.pragma('journal_mode = WAL');
      // NORMAL for evaluations (a lost READY on power loss fails closed); run-state writes switch to FULL.
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      migrate(this.db);
      // From now on SQLite's own busy wait is one short slice; longer waits are async retries (see guard).
      this.db.pragma(`busy_timeout = ${BUSY_SLICE_MS}`);
    } catch (cause) {
      if (cause instanceof InterlockError) throw cause;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new InterlockError('STORE_UNAVAILABLE', `cannot open sqlite store at ${opts.path}: ${reason}`, { cause });
    }
    const db = this.db;
    this.probe = db.transaction(() => undefined);
    this.stmts = {
      putPipeline: db.prepare(
        'INSERT INTO pipelines (name, spec, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at',
      ),
      getPipeline: db.prepare('SELECT spec FROM pipelines WHERE name = ?').pluck(),
      listPipelines: db.prepare('SELECT name, spec FROM pipelines ORDER BY name'),
      deletePipeline: db.prepare('DELETE FROM pipelines WHERE name = ?'),
      putTrait: db.prepare(
        `INSERT INTO trait_results (pipeline, trait, status, result, evaluated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(pipeline, trait) DO UPDATE SET status = excluded.status, result = excluded.result,
           evaluated_at = excluded.evaluated_at, expires_at = excluded.expires_at`,
      ),
      getTraits: db.prepare('SELECT result FROM trait_results WHERE pipeline = ? ORDER BY trait').pluck(),
      getTrait: db.prepare('SELECT result FROM trait_results WHERE pipeline = ? AND trait = ?').pluck(),
      putReadiness: db.prepare(
        `INSERT INTO readiness (pipeline, outcome, readiness, decided_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(pipeline) DO UPDATE SET outcome = excluded.outcome, readiness = excluded.readiness, decided_at = excluded.decided_at`,
      ),
      getReadiness: db.prepare('SELECT readiness FROM readiness WHERE pipeline = ?').pluck(),
      putDecision: db.prepare(
        'INSERT INTO decisions (id, pipeline, outcome, decided_at, record) VALUES (?, ?, ?, ?, ?)',
      ),
      listDecisions: db
        .prepare(
          'SELECT record FROM decisions WHERE pipeline = ? AND decided_at < ? ORDER BY decided_at DESC, seq DESC LIMIT ?',
        )
        .pluck(),
      getActiveId: db.prepare('SELECT run_id FROM active_runs WHERE pipeline = ?').pluck(),
      insertActive: db.prepare('INSERT INTO active_runs (pipeline, run_id) VALUES (?, ?)'),
      releaseActive: db.prepare('DELETE FROM active_runs WHERE pipeline = ? AND run_id = ?'),
      insertRun: db.prepare(
        'INSERT INTO runs (run_id, pipeline, status, version, created_at, updated_at, record) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      casRun: db.prepare(
        'UPDATE runs SET status = ?, version = ?, updated_at = ?, record = ? WHERE run_id = ? AND version = ?',
      ),
      getRun: db.prepare('SELECT record FROM runs WHERE run_id = ?').pluck(),
      listRuns: db
        .prepare(
          'SELECT record FROM runs WHERE pipeline = ? AND created_at < ? ORDER BY created_at DESC, run_id DESC LIMIT ?',
        )
        .pluck(),
      insertEvent: db.prepare('INSERT INTO run_events (run_id, pipeline, at, event) VALUES (?, ?, ?, ?)'),
      listEvents: db
        .prepare('SELECT event FROM run_events WHERE pipeline = ? AND at < ? ORDER BY at DESC, seq DESC LIMIT ?')
        .pluck(),
      ping: db.prepare('SELECT 1'),
      getAlert: db.prepare('SELECT fingerprint, sent_at AS sentAt FROM alert_state WHERE key = ?'),
      putAlert: db.prepare(
        'INSERT INTO alert_state (key, fingerprint, sent_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET fingerprint = excluded.fingerprint, sent_at = excluded.sent_at',
      ),
    };
  }

  /**
   * Runs a driver call, turning driver errors into InterlockErrors (below the port). While another process holds
   * the lock (SQLITE_BUSY), it tries again after an asynchronous sleep, for busyTimeoutMs in total: the event loop
   * stays free (health checks, evaluator timeouts, other requests), blocked at most BUSY_SLICE_MS per try. `fn`
   * must be safe to re-run: a single statement or a whole transaction (a busy transaction has written nothing).
   */
  private async guard<T>(what: string, fn: () => T): Promise<T> {
    let waited = 0;
    let backoff = 2;
    for (;;) {
      if (this.closed) throw new InterlockError('STORE_UNAVAILABLE', 'sqlite store is closed');
      try {
        return fn();
      } catch (cause) {
        if (cause instanceof InterlockError) throw cause;
        if (isBusy(cause) && waited < this.busyTimeoutMs) {
          const ms = Math.min(backoff, this.busyTimeoutMs - waited);
          await this.sleep(ms);
          waited += ms + BUSY_SLICE_MS;
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
        const reason = cause instanceof Error ? cause.message : String(cause);
        const busy = isBusy(cause) ? ` (another process held the lock for over ${this.busyTimeoutMs} ms)` : '';
        throw new InterlockError('STORE_UNAVAILABLE', `sqlite ${what} failed: ${reason}${busy}`, { cause });
      }
    }
  }

  /**
   * A transaction whose commit decides a trigger (run creation and transitions): synchronous=FULL, so a commit
   * that returned is on disk; a TRIGGERING rolled back by a power loss could otherwise fire twice.
   */
  private durable<T>(tx: { immediate: () => T }): () => T {
    return () => {
      this.db.pragma('synchronous = FULL');
      try {
        return tx.immediate();
      } finally {
        this.db.pragma('synchronous = NORMAL');
      }
    };
  }

  async putPipeline(spec: PipelineSpec): Promise<void> {
    await this.guard('putPipeline', () =>
      this.stmts.putPipeline.run(spec.name, JSON.stringify(spec), this.hostClock.now()),
    );
  }
  async getPipeline(name: string): Promise<StoredPipeline | undefined> {
    const json = await this.guard('getPipeline', () => this.stmts.getPipeline.get(name) as unknown);
    return json === undefined ? undefined : { name, json: String(json) };
  }
  async listPipelines(): Promise<StoredPipeline[]> {
    const rows = await this.guard(
      'listPipelines',
      () => this.stmts.listPipelines.all() as Array<{ name: string; spec: unknown }>,
    );
    return rows.map((r) => ({ name: String(r.name), json: String(r.spec) }));
  }
  async deletePipeline(name: string): Promise<DeleteResult> {
    const s = this.stmts;
    // One IMMEDIATE transaction: no run can take the lock between the check and the delete.
    const tx = this.db.transaction((): DeleteResult => {
      const active = this.activeRunIn(name);
      if (active) return { ok: false, active };
      return { ok: true, deleted: s.deletePipeline.run(name).changes > 0 };
    });
    return this.guard('deletePipeline', () => tx.immediate());
  }

  /** The run holding `pipeline`'s lock (inside a transaction). STORE_CORRUPT when the lock names no stored run. */
  private activeRunIn(pipeline: string): RunState | undefined {
    const activeId = this.stmts.getActiveId.get(pipeline) as string | undefined;
    if (activeId === undefined) return undefined;
    const active = this.stmts.getRun.get(activeId) as string | undefined;
    if (active === undefined)
      throw new InterlockError('STORE_CORRUPT', `active run ${activeId} of ${pipeline} has no record`);
    return parse<RunState>(active, 'run');
  }

  async saveEvaluation(w: EvaluationWrite): Promise<void> {
    const s = this.stmts;
    const tx = this.db.transaction(() => {
      for (const r of w.results) {
        s.putTrait.run(r.pipeline, r.trait, r.status, JSON.stringify(r), r.evaluatedAt, r.expiresAt ?? null);
      }
      const rd = w.readiness;
      s.putReadiness.run(rd.pipeline, rd.outcome, JSON.stringify(rd), rd.decidedAt);
      const d = w.decision;
      s.putDecision.run(d.id, d.pipeline, d.outcome, d.decidedAt, JSON.stringify(d));
    });
    // IMMEDIATE takes the write lock up front, so concurrent writers queue on busy_timeout instead of failing.
    await this.guard('saveEvaluation', () => tx.immediate());
  }
  async getTraitResults(pipeline: string): Promise<TraitResult[]> {
    const rows = await this.guard('getTraitResults', () => this.stmts.getTraits.all(pipeline) as string[]);
    return rows.map((r) => parse<TraitResult>(r, 'trait result'));
  }
  async getTraitResult(pipeline: string, trait: string): Promise<TraitResult | undefined> {
    const row = await this.guard(
      'getTraitResult',
      () => this.stmts.getTrait.get(pipeline, trait) as string | undefined,
    );
    return row === undefined ? undefined : parse<TraitResult>(row, 'trait result');
  }
  async getReadiness(pipeline: string): Promise<Readiness | undefined> {
    const row = await this.guard('getReadiness', () => this.stmts.getReadiness.get(pipeline) as string | undefined);
    return row === undefined ? undefined : parse<Readiness>(row, 'readiness');
  }
  async listDecisions(pipeline: string, opts: ListOptions = {}): Promise<DecisionRecord[]> {
    const rows = await this.guard(
      'listDecisions',
      () =>
        this.stmts.listDecisions.all(pipeline, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? -1) as string[],
    );
    return rows.map((r) => parse<DecisionRecord>(r, 'decision record'));
  }

  private insertEvent(e: RunEvent): void {
    this.stmts.insertEvent.run(e.runId, e.pipeline, e.at, JSON.stringify(e));
  }

  async createRun(run: RunState): Promise<CreateRunResult> {
    const s = this.stmts;
    const tx = this.db.transaction((): CreateRunResult => {
      const active = this.activeRunIn(run.pipeline);
      if (active) return { ok: false, active };
      s.insertRun.run(
        run.runId,
        run.pipeline,
        run.status,
        run.version,
        run.createdAt,
        run.updatedAt,
        JSON.stringify(run),
      );
      s.insertActive.run(run.pipeline, run.runId);
      this.insertEvent(runEvent(run, null));
      return { ok: true };
    });
    return this.guard('createRun', this.durable(tx));
  }

  async casRun(next: RunState, expectedVersion: number, opts: CasOptions = {}): Promise<CasResult> {
    const s = this.stmts;
    const tx = this.db.transaction((): CasResult => {
      const row = s.getRun.get(next.runId) as string | undefined;
      if (row === undefined) return { ok: false };
      const current = parse<RunState>(row, 'run');
      // One host, one clock: the caller's now (next.updatedAt) is the store's.
      if (!casApplies(current, next, expectedVersion, opts.ifOverdue, next.updatedAt)) return { ok: false, current };
      const changed = s.casRun.run(
        next.status,
        next.version,
        next.updatedAt,
        JSON.stringify(next),
        next.runId,
        expectedVersion,
      ).changes;
      if (changed !== 1) return { ok: false, current };
      if (releasesLock(next)) s.releaseActive.run(next.pipeline, next.runId);
      this.insertEvent(runEvent(next, current.status));
      return { ok: true };
    });
    return this.guard('casRun', this.durable(tx));
  }

  async releaseLock(pipeline: string, runId: string, version: number): Promise<boolean> {
    const s = this.stmts;
    const tx = this.db.transaction((): boolean => {
      if ((s.getActiveId.get(pipeline) as string | undefined) !== runId) return false;
      const row = s.getRun.get(runId) as string | undefined;
      if (row === undefined || parse<RunState>(row, 'run').version !== version) return false;
      return s.releaseActive.run(pipeline, runId).changes === 1;
    });
    return this.guard('releaseLock', () => tx.immediate());
  }

  async getRun(runId: string): Promise<RunState | undefined> {
    const row = await this.guard('getRun', () => this.stmts.getRun.get(runId) as string | undefined);
    return row === undefined ? undefined : parse<RunState>(row, 'run');
  }
  async getActiveRun(pipeline: string): Promise<RunState | undefined> {
    const id = await this.guard('getActiveRun', () => this.stmts.getActiveId.get(pipeline) as string | undefined);
    return id === undefined ? undefined : this.getRun(id);
  }
  async listRuns(pipeline: string, opts: ListOptions = {}): Promise<RunState[]> {
    const rows = await this.guard(
      'listRuns',
      () => this.stmts.listRuns.all(pipeline, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? -1) as string[],
    );
    return rows.map((r) => parse<RunState>(r, 'run'));
  }
  async listRunEvents(pipeline: string, opts: ListOptions = {}): Promise<RunEvent[]> {
    const rows = await this.guard(
      'listRunEvents',
      () => this.stmts.listEvents.all(pipeline, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? -1) as string[],
    );
    return rows.map((r) => parse<RunEvent>(r, 'run event'));
  }
  async claimAlert(key: AlertKey, fingerprint: string, now: number, repeatAfterMs: number): Promise<AlertClaim> {
    const s = this.stmts;
    const id = alertKeyId(key);
    const tx = this.db.transaction((): AlertClaim => {
      const prev = s.getAlert.get(id) as AlertMark | undefined;
      const fire = shouldSendAlert(prev, fingerprint, now, repeatAfterMs);
      if (fire) s.putAlert.run(id, fingerprint, now);
      return prev ? { fire, previous: prev.fingerprint } : { fire };
    });
    return this.guard('claimAlert', () => tx.immediate());
  }

  /**
   * Healthy = can write: takes the write lock and lets it go (BEGIN IMMEDIATE; ROLLBACK). While another process
   * holds it this waits (asynchronously) like any write, so a health check with a deadline answers 503 in time.
   */
  async ping(): Promise<void> {
    await this.guard('ping', () => this.stmts.ping.get());
    await this.guard('ping', () => this.probe.immediate());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
