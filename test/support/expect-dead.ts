// An assertion on processes: every pid of a set is gone (zombies count as gone). Imports vitest: test files only.
import { expect } from 'vitest';
import { isAlive } from './processes.js';

/** Polls briefly (a killed process disappears asynchronously), then asserts every pid is dead. */
export async function expectAllDead(pids: number[], withinMs = 1000): Promise<void> {
  expect(pids.length).toBeGreaterThan(0);
  const deadline = performance.now() + withinMs;
  while (pids.some(isAlive) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(pids.filter(isAlive)).toEqual([]);
}
