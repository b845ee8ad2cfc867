// SQLite store (better-sqlite3): WAL, busy timeout, .sql migrations; safe with several processes on one file.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { InterlockError } from '../../core/errors.js';
import type { DecisionRecord, PipelineSpec, Readiness, RunEvent, RunState, TraitResult } from '../../core/types.js';
import { parseRecord } from '../records.js';
import {
  type AlertClaim,
  type CasResult,
  type CreateRunResult,
  type DeleteResult,
  type EvaluationWrite,
  type ListOptions,
  releasesLock,
  runEvent,
  type Store,
} from '../types.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface SqliteStoreOptions {
  /** Database file; ':memory:' for a private in-memory database. */
  path: string;
  /** How long a writer waits for another process's lock, ms. */
  busyTimeoutMs?: number;
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

  constructor(opts: SqliteStoreOptions) {
    try {
      if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
      this.db = new Database(opts.path);
      this.db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 10_000}`);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      migrate(this.db);
    } catch (cause) {
      if (cause instanceof InterlockError) throw cause;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new InterlockError('STORE_UNAVAILABLE', `cannot open sqlite store at ${opts.path}: ${reason}`, { cause });
    }
    const db = this.db;
    this.stmts = {
      putPipeline: db.prepare(
        'INSERT INTO pipelines (name, spec, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at',
      ),
      getPipeline: db.prepare('SELECT spec FROM pipelines WHERE name = ?').pluck(),
      listPipelines: db.prepare('SELECT spec FROM pipelines ORDER BY name').pluck(),
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

  /** Runs a driver call, turning driver errors into InterlockErrors (below the port). */
  private guard<T>(what: string, fn: () => T): T {
    if (this.closed) throw new InterlockError('STORE_UNAVAILABLE', 'sqlite store is closed');
    try {
      return fn();
    } catch (cause) {
      if (cause instanceof InterlockError) throw cause;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new InterlockError('STORE_UNAVAILABLE', `sqlite ${what} failed: ${reason}`, { cause });
    }
  }

  async putPipeline(spec: PipelineSpec): Promise<void> {
    this.guard('putPipeline', () => this.stmts.putPipeline.run(spec.name, JSON.stringify(spec), Date.now()));
  }
  async getPipeline(name: string): Promise<PipelineSpec | undefined> {
    const row = this.guard('getPipeline', () => this.stmts.getPipeline.get(name) as string | undefined);
    return row === undefined ? undefined : parse<PipelineSpec>(row, 'pipeline');
  }
  async listPipelines(): Promise<PipelineSpec[]> {
    const rows = this.guard('listPipelines', () => this.stmts.listPipelines.all() as string[]);
    return rows.map((r) => parse<PipelineSpec>(r, 'pipeline'));
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
    this.guard('saveEvaluation', () => tx.immediate());
  }
  async getTraitResults(pipeline: string): Promise<TraitResult[]> {
    const rows = this.guard('getTraitResults', () => this.stmts.getTraits.all(pipeline) as string[]);
    return rows.map((r) => parse<TraitResult>(r, 'trait result'));
  }
  async getTraitResult(pipeline: string, trait: string): Promise<TraitResult | undefined> {
    const row = this.guard('getTraitResult', () => this.stmts.getTrait.get(pipeline, trait) as string | undefined);
    return row === undefined ? undefined : parse<TraitResult>(row, 'trait result');
  }
  async getReadiness(pipeline: string): Promise<Readiness | undefined> {
    const row = this.guard('getReadiness', () => this.stmts.getReadiness.get(pipeline) as string | undefined);
    return row === undefined ? undefined : parse<Readiness>(row, 'readiness');
  }
  async listDecisions(pipeline: string, opts: ListOptions = {}): Promise<DecisionRecord[]> {
    const rows = this.guard(
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
    return this.guard('createRun', () => tx.immediate());
  }

  async casRun(next: RunState, expectedVersion: number): Promise<CasResult> {
    const s = this.stmts;
    const tx = this.db.transaction((): CasResult => {
      const row = s.getRun.get(next.runId) as string | undefined;
      if (row === undefined) return { ok: false };
      const current = parse<RunState>(row, 'run');
      if (current.version !== expectedVersion || next.version !== expectedVersion + 1) return { ok: false, current };
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
    return this.guard('casRun', () => tx.immediate());
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
    const row = this.guard('getRun', () => this.stmts.getRun.get(runId) as string | undefined);
    return row === undefined ? undefined : parse<RunState>(row, 'run');
  }
  async getActiveRun(pipeline: string): Promise<RunState | undefined> {
    const id = this.guard('getActiveRun', () => this.stmts.getActiveId.get(pipeline) as string | undefined);
    return id === undefined ? undefined : this.getRun(id);
  }
  async listRuns(pipeline: string, opts: ListOptions = {}): Promise<RunState[]> {
    const rows = this.guard(
      'listRuns',
      () => this.stmts.listRuns.all(pipeline, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? -1) as string[],
    );
    return rows.map((r) => parse<RunState>(r, 'run'));
  }
  async listRunEvents(pipeline: string, opts: ListOptions = {}): Promise<RunEvent[]> {
    const rows = this.guard(
      'listRunEvents',
      () => this.stmts.listEvents.all(pipeline, opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit ?? -1) as string[],
    );
    return rows.map((r) => parse<RunEvent>(r, 'run event'));
  }
  async claimAlert(key: string, fingerprint: string, now: number, repeatAfterMs: number): Promise<AlertClaim> {
    const s = this.stmts;
    const tx = this.db.transaction((): AlertClaim => {
      const prev = s.getAlert.get(key) as { fingerprint: string; sentAt: number } | undefined;
      const fire = !prev || prev.fingerprint !== fingerprint || now - prev.sentAt >= repeatAfterMs;
      if (fire) s.putAlert.run(key, fingerprint, now);
      return prev ? { fire, previous: prev.fingerprint } : { fire };
    });
    return this.guard('claimAlert', () => tx.immediate());
  }

  async ping(): Promise<void> {
    this.guard('ping', () => this.stmts.ping.get());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
