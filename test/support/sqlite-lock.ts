// A real second process that holds a SQLite database's write lock (BEGIN IMMEDIATE) for a while, stopped by pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { REPO } from './paths.js';

export interface LockHolder {
  pid: number;
  /** Resolves when the holder has rolled back and exited. */
  released: Promise<void>;
  /** Ends the hold early (SIGKILL by pid; SQLite releases a dead process's lock). */
  kill(): void;
}

const SCRIPT = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('ROLLBACK'); db.close(); process.exit(0); }, Number(process.argv[2]));
`;

/** Starts a node process that takes the write lock of `dbPath` and keeps it `holdMs`; resolves once it holds it. */
export function holdWriteLock(dbPath: string, holdMs: number): Promise<LockHolder> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT, dbPath, String(holdMs)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    const released = new Promise<void>((r) => child.once('exit', () => r()));
    child.stderr?.on('data', (d) => (err += d));
    child.stdout?.on('data', (d) => {
      if (String(d).includes('locked') && child.pid !== undefined) {
        const pid = child.pid;
        resolve({
          pid,
          released,
          kill: () => {
            if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited (${code}) before locking: ${err}`)));
    child.once('error', reject);
  });
}
