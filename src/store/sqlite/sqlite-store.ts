// SQLite store (better-sqlite3): WAL, busy timeout, .sql migrations; safe with several processes on one file.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { InterlockError } from '../../core/errors.js';
import type { DecisionRecord, PipelineSpec, Readiness, TraitResult } from '../../core/types.js';
import type { EvaluationWrite, ListOptions, Store } from '../types.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface SqliteStoreOptions {
  /** Database file; ':memory:' for a private in-memory database. */
  path: string;
  /** How long a writer waits for another process's lock, ms. */
  busyTimeoutMs?: number;
}

function parse<T>(json: string, what: string): T {
  try {
    return JSON.parse(json) as T;
  } catch (cause) {
    throw new InterlockError('STORE_CORRUPT', `stored ${what} is not valid JSON`, { cause });
  }
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
  async deletePipeline(name: string): Promise<boolean> {
    return this.guard('deletePipeline', () => this.stmts.deletePipeline.run(name).changes > 0);
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
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
