// Test helpers for process checks: is a pid alive (zombies count as dead), and wait until a set of pids is gone.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

/**
 * True while `pid` is a live process. A zombie (exited, not yet reaped — common for orphans in containers whose
 * init does not reap) counts as dead.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Polls briefly (a killed process disappears asynchronously), then asserts every pid is dead. */
export async function expectAllDead(pids: number[], withinMs = 1000): Promise<void> {
  expect(pids.length).toBeGreaterThan(0);
  const deadline = performance.now() + withinMs;
  while (pids.some(isAlive) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(pids.filter(isAlive)).toEqual([]);
}
