// Looking into a project's SQLite file from outside the code under test: open it, check its integrity, count rows.
import Database from 'better-sqlite3';

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
export function integrity(path: string, readonly = false): string {
  try {
    return withDb(
      path,
      (db) =>
        (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; '),
      readonly,
    );
  } catch (err) {
    return `cannot check: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Row counts of the tables that hold history (decisions, runs, run events). */
export function counts(path: string, readonly = false): { decisions: number; runs: number; events: number } {
  return withDb(
    path,
    (db) => ({
      decisions: (db.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n,
      runs: (db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n,
      events: (db.prepare('SELECT count(*) AS n FROM run_events').get() as { n: number }).n,
    }),
    readonly,
  );
}
