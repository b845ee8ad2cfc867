// Throwaway Interlock projects for chaos cases: one pipeline `p` with evaluator scripts and a trigger that leaves a
// trace (fired.log), and readers for what the cases assert on (fired.log, alerts, the SQLite file).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

/** A command trigger that appends its run id to fired.log: one line per trigger execution. */
export const RECORD_TRIGGER = 'trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log"\n';

/** Evaluator scripts every project has. */
export const BASE_EVALUATORS: Record<string, string> = {
  pass: '#!/bin/sh\ncat >/dev/null\necho \'{"status":"PASS","value":{"ok":true}}\'\n',
  fail: '#!/bin/sh\ncat >/dev/null\necho \'{"status":"FAIL","reason":"chaos: deliberately failing"}\'\n',
};

export interface TraitDef {
  type: string;
  evaluator: string;
  /** Seconds. */
  timeout?: number;
  optional?: boolean;
}

export interface ProjectOptions {
  /** `provider: sqlite` (default) or redis at addr with a key prefix. */
  redis?: { addr: string; prefix: string; connectTimeout?: number };
  /** sqlite.path (relative to the project). */
  sqlitePath?: string;
  /** Extra evaluator scripts: name → script text. */
  evaluators?: Record<string, string>;
  /** Traits of pipeline p (default: required trait `a` → pass). */
  traits?: TraitDef[];
  /** The trigger block of p (YAML); default RECORD_TRIGGER. */
  trigger?: string;
  /** Extra alert sinks (YAML list items, indented 4), beside the file sink ./alerts.log. */
  alertSinks?: string;
  /** alerts.repeatAfter (seconds). */
  repeatAfter?: number;
}

/** Writes a file (creating directories); executable when under evaluators/. */
export function put(root: string, rel: string, text: string): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  if (rel.startsWith('evaluators/')) chmodSync(p, 0o755);
}

/** Writes the project into `root` and returns root. */
export function makeProject(root: string, o: ProjectOptions = {}): string {
  const traits = o.traits ?? [{ type: 'a', evaluator: 'pass' }];
  const store = o.redis
    ? `provider: redis\nredis:\n  addr: ${o.redis.addr}\n  keyPrefix: "${o.redis.prefix}"\n  connectTimeout: ${o.redis.connectTimeout ?? 2}\n`
    : `provider: sqlite\n${o.sqlitePath ? `sqlite:\n  path: ${o.sqlitePath}\n` : ''}`;
  const alerts = `alerts:\n  repeatAfter: ${o.repeatAfter ?? 3600}\n  sinks:\n    - type: file\n      path: ./alerts.log\n${o.alertSinks ?? ''}`;
  const required = traits.filter((t) => !t.optional);
  const optional = traits.filter((t) => t.optional);
  const archetype = [
    'name: gate',
    'requiredTraits:',
    ...required.map((t) => `  - type: ${t.type}`),
    ...(optional.length ? ['optionalTraits:', ...optional.map((t) => `  - type: ${t.type}`)] : []),
  ].join('\n');
  const pipeline = [
    'name: p',
    'archetype: gate',
    'traits:',
    ...traits.flatMap((t) => [
      `  ${t.type}:`,
      `    evaluator: ${t.evaluator}`,
      ...(t.timeout !== undefined ? [`    timeout: ${t.timeout}`] : []),
    ]),
  ].join('\n');
  put(root, 'interlock.yaml', `${store}${alerts}`);
  put(root, 'archetypes/gate.yaml', `${archetype}\n`);
  put(root, 'pipelines/p.yaml', `${pipeline}\n${o.trigger ?? RECORD_TRIGGER}`);
  for (const [name, text] of Object.entries({ ...BASE_EVALUATORS, ...o.evaluators }))
    put(root, `evaluators/${name}`, text);
  return root;
}

/** Non-empty lines of a file in the project ([] when it does not exist). */
export function lines(root: string, rel: string): string[] {
  const p = join(root, rel);
  return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean) : [];
}

/** Run ids the trigger recorded (one line per execution). */
export const fired = (root: string) => lines(root, 'fired.log');

/** The alert file sink's entries. */
export function alerts(root: string): Array<{ kind: string; runId?: string }> {
  return lines(root, 'alerts.log').map((l) => JSON.parse(l) as { kind: string });
}

/** Opens the SQLite file, runs `fn`, closes it. */
export function withDb<T>(path: string, fn: (db: Database.Database) => T, readonly = false): T {
  const db = new Database(path, { readonly, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** `PRAGMA integrity_check` of the SQLite file: 'ok', or what it reported (or why it could not run). */
export function integrity(path: string): string {
  try {
    return withDb(path, (db) =>
      (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; '),
    );
  } catch (err) {
    return `cannot check: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Row counts of the tables that hold history (decisions, runs, run events). */
export function counts(path: string): { decisions: number; runs: number; events: number } {
  return withDb(path, (db) => ({
    decisions: (db.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n,
    runs: (db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n,
    events: (db.prepare('SELECT count(*) AS n FROM run_events').get() as { n: number }).n,
  }));
}
