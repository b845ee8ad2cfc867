// Processes a run left behind: every process a harness starts carries a marker in its environment, which evaluators
// and triggers inherit, so whatever is still running afterwards can be found (and killed) through /proc.
import { readFileSync } from 'node:fs';
import { sleep } from './poll.js';
import { isAlive, pids } from './processes.js';

/** Environment variable that the chaos runner puts in every CLI it starts; evaluators and triggers inherit it. */
export const MARK_VAR = 'INTERLOCK_CHAOS_MARK';

/** Live processes (not this one) whose environment holds MARK_VAR=mark, with their command lines. */
export function markedProcesses(mark: string): Array<{ pid: number; cmd: string }> {
  const needle = `\0${MARK_VAR}=${mark}\0`;
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const pid of pids()) {
    if (pid === process.pid) continue;
    let env: string;
    try {
      env = `\0${readFileSync(`/proc/${pid}/environ`, 'latin1')}`;
    } catch {
      continue;
    }
    if (!env.includes(needle) || !isAlive(pid)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {}
    out.push({ pid, cmd });
  }
  return out;
}

/** Waits up to `ms` for every marked process to be gone; returns the ones left. */
export async function waitMarkedGone(mark: string, ms: number): Promise<Array<{ pid: number; cmd: string }>> {
  const end = Date.now() + ms;
  for (;;) {
    const left = markedProcesses(mark);
    if (left.length === 0 || Date.now() >= end) return left;
    await sleep(50);
  }
}

/** SIGKILLs every marked process (cleanup after a run). Returns how many there were. */
export function killMarked(mark: string): number {
  const left = markedProcesses(mark);
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {}
  }
  return left.length;
}
