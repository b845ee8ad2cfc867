// SQLite store (better-sqlite3): WAL, .sql migrations, lock waits retried asynchronously; safe with several processes;
// a change feed across them (rows of `changes` written in each write's transaction, PRAGMA data_version polled).

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type Clock, sleep, systemClock } from '../../core/clock.js';
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
  type AlertMark,
  alertKeyId,
  casApplies,
  leaseGrant,
  releasesLock,
  shouldSendAlert,
  windowCasApplies,
} from '../rules.js';
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
/** How often the change feed asks whether another connection committed (PRAGMA data_version), ms. */
export const FEED_POLL_MS = 200;
/** The change feed keeps about this many rows; older ones are pruned every PRUNE_EVERY writes of a handle. */
export const FEED_KEEP_ROWS = 10_000;
const PRUNE_EVERY = 500;
/** At most this many seqs of this handle's own changes are remembered (to skip them when the feed reads them back). */
const OWN_SEQS_MAX = 10_000;

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
  readonly kind = 'sqlite';
  private db: Database.Database;
  private closed = false;
  private stmts;
  private readonly busyTimeoutMs: number;
  private readonly probe: Database.Transaction<() => undefined>;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly hostClock: Clock;
  /** listWindows' statements, one per combination of filters. */
  private readonly windowLists = new Map<string, Database.Statement>();
  // The change feed (see watchChanges).
  private readonly listeners = new Set<(c: StoreChange) => void>();
  /** Changes the running write transaction appended; delivered to this handle's listeners once it commits. */
  private pending: Array<StoreChange & { seq: number }> = [];
  /** Seqs of this handle's own changes, already delivered: skipped when the feed reads them back. */
  private readonly ownSeqs = new Set<number>();
  private feedTimer: NodeJS.Timeout | undefined;
  /** The last seq delivered; the data_version it was read at (undefined: read the rows on the next tick). */
  private feedLast = -1;
  private feedVersion: number | undefined;
  private writesSincePrune = 0;

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
        'INSERT INTO runs (run_id, pipeline, status, version, created_at, updated_at, record, run_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      getRunByKey: db.prepare('SELECT record FROM runs WHERE run_key = ?').pluck(),
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
      insertWindow: db.prepare(
        'INSERT INTO windows (key, pipeline, schedule, open_at, state, live, version, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      casWindow: db.prepare(
        'UPDATE windows SET state = ?, live = ?, version = ?, record = ? WHERE key = ? AND version = ?',
      ),
      getWindow: db.prepare('SELECT record FROM windows WHERE key = ?').pluck(),
      // Keeps the newest (open_at, then key) window of each (pipeline, schedule).
      putHead: db.prepare(
        `INSERT INTO window_heads (pipeline, schedule, key, open_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(pipeline, schedule) DO UPDATE SET key = excluded.key, open_at = excluded.open_at
         WHERE excluded.open_at > window_heads.open_at
            OR (excluded.open_at = window_heads.open_at AND excluded.key > window_heads.key)`,
      ),
      // Live windows (partial index), then the heads that ended (the live ones are in the first part already).
      headsOf: db
        .prepare(
          `SELECT record FROM windows WHERE live = 1 AND pipeline = ?
           UNION ALL
           SELECT w.record FROM window_heads h JOIN windows w ON w.key = h.key WHERE h.pipeline = ? AND w.live = 0`,
        )
        .pluck(),
      headsAll: db
        .prepare(
          `SELECT record FROM windows WHERE live = 1
           UNION ALL
           SELECT w.record FROM window_heads h JOIN windows w ON w.key = h.key WHERE w.live = 0`,
        )
        .pluck(),
      getLease: db.prepare('SELECT holder, epoch, expires_at AS expiresAt FROM leases WHERE name = ?'),
      putLease: db.prepare(
        'INSERT INTO leases (name, holder, epoch, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch, expires_at = excluded.expires_at',
      ),
      releaseLease: db.prepare('UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ? AND epoch = ?'),
      insertChange: db.prepare('INSERT INTO changes (pipeline, kind, at) VALUES (?, ?, ?)'),
      pruneChanges: db.prepare('DELETE FROM changes WHERE seq <= (SELECT max(seq) FROM changes) - ?'),
      maxChangeSeq: db.prepare('SELECT coalesce(max(seq), 0) FROM changes').pluck(),
      changesSince: db.prepare('SELECT seq, pipeline, kind FROM changes WHERE seq > ? ORDER BY seq'),
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

  /**
   * A write transaction that may append to the change feed (`changed`): guarded like any call, and once it has
   * committed, its changes go to this handle's own listeners (data_version does not move for a connection's own
   * writes, so the poll would not see them).
   */
  private async write<T>(what: string, tx: () => T): Promise<T> {
    return this.guard(what, () => {
      this.pending = [];
      try {
        const result = tx();
        this.deliverOwn(this.pending);
        return result;
      } finally {
        this.pending = [];
      }
    });
  }

  /** Appends a change-feed row (inside a write transaction); prunes old rows now and then. */
  private changed(pipeline: string, kind: StoreChange['kind']): void {
    const seq = Number(this.stmts.insertChange.run(pipeline, kind, this.hostClock.now()).lastInsertRowid);
    this.pending.push({ pipeline, kind, seq });
    if (++this.writesSincePrune >= PRUNE_EVERY) {
      this.writesSincePrune = 0;
      this.stmts.pruneChanges.run(FEED_KEEP_ROWS);
    }
  }

  async putPipeline(spec: PipelineSpec): Promise<void> {
    const tx = this.db.transaction(() => {
      this.stmts.putPipeline.run(spec.name, JSON.stringify(spec), this.hostClock.now());
      this.changed(spec.name, 'pipeline');
    });
    await this.write('putPipeline', () => tx.immediate());
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
      const deleted = s.deletePipeline.run(name).changes > 0;
      if (deleted) this.changed(name, 'pipeline');
      return { ok: true, deleted };
    });
    return this.write('deletePipeline', () => tx.immediate());
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
      this.changed(rd.pipeline, 'evaluation');
    });
    // IMMEDIATE takes the write lock up front, so concurrent writers queue on busy_timeout instead of failing.
    await this.write('saveEvaluation', () => tx.immediate());
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
      // The claim check, the lock check and the insert are one IMMEDIATE transaction (and run_key is UNIQUE).
      if (run.runKey !== undefined) {
        const claimed = s.getRunByKey.get(run.runKey) as string | undefined;
        if (claimed !== undefined) return { ok: false, claimed: parse<RunState>(claimed, 'run') };
      }
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
        run.runKey ?? null,
      );
      s.insertActive.run(run.pipeline, run.runId);
      this.insertEvent(runEvent(run, null));
      this.changed(run.pipeline, 'run');
      return { ok: true };
    });
    return this.write('createRun', this.durable(tx));
  }

  async getRunByKey(runKey: string): Promise<RunState | undefined> {
    const row = await this.guard('getRunByKey', () => this.stmts.getRunByKey.get(runKey) as string | undefined);
    return row === undefined ? undefined : parse<RunState>(row, 'run');
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
      this.changed(next.pipeline, 'run');
      return { ok: true };
    });
    return this.write('casRun', this.durable(tx));
  }

  async releaseLock(pipeline: string, runId: string, version: number): Promise<boolean> {
    const s = this.stmts;
    const tx = this.db.transaction((): boolean => {
      if ((s.getActiveId.get(pipeline) as string | undefined) !== runId) return false;
      const row = s.getRun.get(runId) as string | undefined;
      if (row === undefined || parse<RunState>(row, 'run').version !== version) return false;
      if (s.releaseActive.run(pipeline, runId).changes !== 1) return false;
      this.changed(pipeline, 'run');
      return true;
    });
    return this.write('releaseLock', () => tx.immediate());
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

  /** The lease `name` (inside a transaction). STORE_CORRUPT when its columns are not what this store writes. */
  private leaseIn(name: string): Lease | undefined {
    const row = this.stmts.getLease.get(name) as { holder: unknown; epoch: unknown; expiresAt: unknown } | undefined;
    if (row === undefined) return undefined;
    const { holder, epoch, expiresAt } = row;
    if (typeof holder !== 'string' || !Number.isFinite(epoch) || !Number.isFinite(expiresAt)) {
      throw new InterlockError('STORE_CORRUPT', `stored lease ${name} is not a holder with a numeric epoch and expiry`);
    }
    return { name, holder, epoch: epoch as number, expiresAt: expiresAt as number };
  }
  /** Whether a write under `fence` may go ahead (inside its transaction): the lease still has the fence's epoch. */
  private fenceHolds(fence: LeaseFence | undefined): boolean {
    return fence === undefined || this.leaseIn(fence.name)?.epoch === fence.epoch;
  }
  private windowIn(key: string): WindowRecord | undefined {
    const row = this.stmts.getWindow.get(key) as string | undefined;
    return row === undefined ? undefined : parse<WindowRecord>(row, 'window');
  }

  async createWindow(w: WindowRecord, fence?: LeaseFence): Promise<WindowWriteResult> {
    const s = this.stmts;
    const tx = this.db.transaction((): WindowWriteResult => {
      const current = this.windowIn(w.key);
      if (!this.fenceHolds(fence)) return current ? { ok: false, fenced: true, current } : { ok: false, fenced: true };
      if (current) return { ok: false, current };
      s.insertWindow.run(
        w.key,
        w.pipeline,
        w.schedule,
        w.openAt,
        w.state,
        isWindowTerminal(w.state) ? 0 : 1,
        w.version,
        JSON.stringify(w),
      );
      s.putHead.run(w.pipeline, w.schedule, w.key, w.openAt);
      this.changed(w.pipeline, 'window');
      return { ok: true };
    });
    return this.write('createWindow', () => tx.immediate());
  }

  async casWindow(next: WindowRecord, expectedVersion: number, fence?: LeaseFence): Promise<WindowWriteResult> {
    const s = this.stmts;
    const tx = this.db.transaction((): WindowWriteResult => {
      const current = this.windowIn(next.key);
      if (!this.fenceHolds(fence)) return current ? { ok: false, fenced: true, current } : { ok: false, fenced: true };
      if (!current) return { ok: false };
      if (!windowCasApplies(current, next, expectedVersion)) return { ok: false, current };
      // pipeline, schedule and open_at stay as created: the key (the same, by windowCasApplies) is made of them.
      const changed = s.casWindow.run(
        next.state,
        isWindowTerminal(next.state) ? 0 : 1,
        next.version,
        JSON.stringify(next),
        next.key,
        expectedVersion,
      ).changes;
      if (changed !== 1) return { ok: false, current };
      this.changed(current.pipeline, 'window');
      return { ok: true };
    });
    return this.write('casWindow', () => tx.immediate());
  }

  async getWindow(key: string): Promise<WindowRecord | undefined> {
    return this.guard('getWindow', () => this.windowIn(key));
  }

  async listWindows(pipeline: string, opts: WindowListOptions = {}): Promise<WindowRecord[]> {
    // Filtered, ordered and limited in SQL, on the index that fits (by pipeline, by schedule or by state).
    const where = ['pipeline = ?'];
    const params: Array<string | number> = [pipeline];
    if (opts.before !== undefined) {
      where.push('open_at < ?');
      params.push(opts.before);
    }
    if (opts.state !== undefined) {
      where.push('state = ?');
      params.push(opts.state);
    }
    if (opts.schedule !== undefined) {
      where.push('schedule = ?');
      params.push(opts.schedule);
    }
    params.push(opts.limit ?? -1);
    const sql = `SELECT record FROM windows WHERE ${where.join(' AND ')} ORDER BY open_at DESC, key DESC LIMIT ?`;
    const rows = await this.guard('listWindows', () => {
      let stmt = this.windowLists.get(sql);
      if (!stmt) this.windowLists.set(sql, (stmt = this.db.prepare(sql).pluck()));
      return stmt.all(...params) as string[];
    });
    return rows.map((r) => parse<WindowRecord>(r, 'window'));
  }

  async windowHeads(pipeline?: string): Promise<WindowRecord[]> {
    const rows = await this.guard(
      'windowHeads',
      () =>
        (pipeline === undefined ? this.stmts.headsAll.all() : this.stmts.headsOf.all(pipeline, pipeline)) as string[],
    );
    return rows.map((r) => parse<WindowRecord>(r, 'window'));
  }

  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<LeaseResult> {
    const tx = this.db.transaction((): LeaseResult => {
      const r = leaseGrant(this.leaseIn(name), name, holder, ttlMs, now);
      if (r.ok) this.stmts.putLease.run(name, r.lease.holder, r.lease.epoch, r.lease.expiresAt);
      return r;
    });
    return this.guard('acquireLease', () => tx.immediate());
  }
  async releaseLease(name: string, holder: string, epoch: number): Promise<boolean> {
    // Keeps the epoch (it only grows): the lease expires now instead of disappearing.
    return this.guard('releaseLease', () => this.stmts.releaseLease.run(name, holder, epoch).changes === 1);
  }
  async getLease(name: string): Promise<Lease | undefined> {
    return this.guard('getLease', () => this.leaseIn(name));
  }

  /**
   * The change feed. Writes of other connections and processes: every FEED_POLL_MS (only while someone listens)
   * the feed asks PRAGMA data_version whether another connection committed, and if so reads the `changes` rows past
   * the last one it delivered. Writes through this handle: delivered right after their commit.
   */
  async prune(req: PruneRequest): Promise<PruneCounts> {
    let counts = emptyCounts();
    for (const p of req.pipelines) {
      const tx = this.db.transaction(() => this.prunePipeline(p, req));
      const one = req.dryRun
        ? await this.guard('prune', () => tx.deferred())
        : await this.write('prune', () => tx.immediate());
      counts = addCounts(counts, one);
    }
    return counts;
  }

  /** One pipeline's prune, inside a transaction: candidates by age from the indexes, each checked by retention.ts. */
  private prunePipeline(p: string, req: PruneRequest): PruneCounts {
    const pr = this.pruneStmts();
    const { now, policy, limit } = req;
    const tryParse = <T>(json: string, what: string): T | undefined => {
      try {
        return parse<T>(json, what);
      } catch {
        return undefined; // a corrupt record is left for someone to look at, never deleted blind
      }
    };
    const counts = emptyCounts();
    const decisionSeqs = pr.oldDecisions.all(p, now - policy.decisionsMs, p, p, limit) as number[];
    counts.decisions = decisionSeqs.length;

    const newest = new Set(pr.windowHeadKeys.all(p) as string[]);
    const runOf = (id: string): RunState | undefined => {
      const json = this.stmts.getRun.get(id) as string | undefined;
      return json === undefined ? undefined : tryParse<RunState>(json, 'run');
    };
    const goneWindows: string[] = [];
    // Candidates by open_at (an ended window opened before it ended); the rules check when it ended.
    for (const json of pr.oldWindows.iterate(p, now - policy.windowsMs) as Iterable<string>) {
      if (goneWindows.length >= limit) break;
      const w = tryParse<WindowRecord>(json, 'window');
      if (w && windowPrunable(w, { isNewest: newest.has(w.key), runOf, now, policy })) goneWindows.push(w.key);
    }
    counts.windows = goneWindows.length;

    const activeRunId = this.stmts.getActiveId.get(p) as string | undefined;
    const gone = new Set(goneWindows);
    const windowExists = (key: string) => !gone.has(key) && pr.windowExists.get(key) !== undefined;
    const goneRuns: string[] = [];
    for (const json of pr.oldRuns.iterate(p, now - policy.runsMs) as Iterable<string>) {
      if (goneRuns.length >= limit) break;
      const r = tryParse<RunState>(json, 'run');
      if (r && r.pipeline === p && runPrunable(r, { activeRunId, windowExists, now, policy })) goneRuns.push(r.runId);
    }
    counts.runs = goneRuns.length;
    for (const id of goneRuns) counts.runEvents += pr.countRunEvents.get(id) as number;
    const prefixes = [
      ...goneWindows.map((k) => windowAlertPrefix(p, k)),
      ...goneRuns.map((id) => runAlertPrefix(p, id)),
    ];
    for (const x of prefixes) counts.alertMarks += pr.countAlertMarks.get(x, `${x}\uffff`) as number;
    if (req.dryRun) return counts;

    for (const seq of decisionSeqs) pr.deleteDecision.run(seq);
    for (const k of goneWindows) pr.deleteWindow.run(k);
    for (const id of goneRuns) {
      pr.deleteRunEvents.run(id);
      pr.deleteRun.run(id);
    }
    for (const x of prefixes) pr.deleteAlertMarks.run(x, `${x}\uffff`);
    return counts;
  }

  private prune_: ReturnType<SqliteStore['makePruneStmts']> | undefined;
  private pruneStmts(): ReturnType<SqliteStore['makePruneStmts']> {
    this.prune_ ??= this.makePruneStmts();
    return this.prune_;
  }
  private makePruneStmts() {
    const db = this.db;
    const terminal = TERMINAL_STATUSES.map((s) => `'${s}'`).join(', ');
    return {
      // Never the newest decision of the pipeline (the highest seq: the latest saved).
      oldDecisions: db
        .prepare(
          'SELECT seq FROM decisions WHERE pipeline = ? AND decided_at < ? AND seq < (SELECT max(seq) FROM decisions WHERE pipeline = ?) AND decided_at < (SELECT max(decided_at) FROM decisions WHERE pipeline = ?) ORDER BY decided_at, seq LIMIT ?',
        )
        .pluck(),
      deleteDecision: db.prepare('DELETE FROM decisions WHERE seq = ?'),
      windowHeadKeys: db.prepare('SELECT key FROM window_heads WHERE pipeline = ?').pluck(),
      oldWindows: db
        .prepare('SELECT record FROM windows WHERE pipeline = ? AND live = 0 AND open_at < ? ORDER BY open_at, key')
        .pluck(),
      windowExists: db.prepare('SELECT 1 FROM windows WHERE key = ?').pluck(),
      deleteWindow: db.prepare('DELETE FROM windows WHERE key = ? AND live = 0'),
      oldRuns: db
        .prepare(
          `SELECT record FROM runs WHERE pipeline = ? AND created_at < ? AND status IN (${terminal}) ORDER BY created_at, run_id`,
        )
        .pluck(),
      countRunEvents: db.prepare('SELECT count(*) FROM run_events WHERE run_id = ?').pluck(),
      deleteRunEvents: db.prepare('DELETE FROM run_events WHERE run_id = ?'),
      deleteRun: db.prepare('DELETE FROM runs WHERE run_id = ?'),
      countAlertMarks: db.prepare('SELECT count(*) FROM alert_state WHERE key >= ? AND key < ?').pluck(),
      deleteAlertMarks: db.prepare('DELETE FROM alert_state WHERE key >= ? AND key < ?'),
    };
  }

  watchChanges(listener: (change: StoreChange) => void): () => void {
    if (this.closed) return () => undefined;
    this.listeners.add(listener);
    if (this.feedTimer === undefined) this.startFeed();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopFeed();
    };
  }

  private startFeed(): void {
    this.ownSeqs.clear();
    this.feedVersion = undefined; // the first tick reads the rows past feedLast: nothing committed meanwhile is lost
    try {
      this.feedLast = Number(this.stmts.maxChangeSeq.get());
    } catch {
      this.feedLast = -1; // unknown (busy, say): the first tick that can read starts from the newest row
    }
    this.feedTimer = setInterval(() => this.pollFeed(), FEED_POLL_MS);
    this.feedTimer.unref();
  }

  private stopFeed(): void {
    if (this.feedTimer !== undefined) clearInterval(this.feedTimer);
    this.feedTimer = undefined;
    this.ownSeqs.clear();
  }

  private pollFeed(): void {
    if (this.closed || this.listeners.size === 0) return;
    let rows: Array<{ seq: number; pipeline: string; kind: StoreChange['kind'] }>;
    try {
      if (this.feedLast < 0) {
        this.feedLast = Number(this.stmts.maxChangeSeq.get());
        return;
      }
      // data_version first, then the rows: a commit in between is read now and read again never (seq > last).
      const version = Number(this.db.pragma('data_version', { simple: true }));
      if (version === this.feedVersion) return;
      rows = this.stmts.changesSince.all(this.feedLast) as typeof rows;
      this.feedVersion = version;
    } catch {
      return; // the next tick tries again; subscribers reconcile anyway
    }
    for (const row of rows) {
      this.feedLast = Math.max(this.feedLast, row.seq);
      if (this.ownSeqs.delete(row.seq)) continue; // already delivered when this handle committed it
      this.emit({ pipeline: String(row.pipeline), kind: row.kind });
    }
    for (const seq of this.ownSeqs) if (seq <= this.feedLast) this.ownSeqs.delete(seq);
  }

  /** After a commit: this handle's own changes to its listeners (on the next microtask, like any feed). */
  private deliverOwn(changes: ReadonlyArray<StoreChange & { seq: number }>): void {
    if (this.listeners.size === 0 || changes.length === 0) return;
    for (const c of changes) if (this.ownSeqs.size < OWN_SEQS_MAX) this.ownSeqs.add(c.seq);
    const out = changes.map(({ pipeline, kind }) => ({ pipeline, kind }));
    queueMicrotask(() => {
      for (const c of out) this.emit(c);
    });
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
    this.stopFeed();
    this.listeners.clear();
    this.db.close();
  }
}
