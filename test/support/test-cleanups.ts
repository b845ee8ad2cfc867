// Cleanups tied to vitest's lifecycle: work undone after each test, temp dirs removed when their test ends.
// Imports vitest: for test files only (bench, chaos and soak use temp-dir.ts).
import { afterEach, type TestContext } from 'vitest';
import { tempDir } from './temp-dir.js';

/** Registers an afterEach that runs every cleanup registered through the returned function (last first). */
export function useCleanups(): (fn: () => unknown) => void {
  const fns: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of fns.splice(0).reverse()) await fn();
  });
  return (fn) => {
    fns.push(fn);
  };
}

/**
 * Registers an afterEach that removes every temp dir made through the returned function during the test.
 * Call once at the top of a test file. Not for concurrent tests (afterEach would remove a neighbour's dirs):
 * use {@link tempDirFor} there.
 */
export function useTempDirs(prefix = 'interlock-e2e-'): () => string {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  return () => {
    const t = tempDir(prefix);
    cleanups.push(t.cleanup);
    return t.dir;
  };
}

/** A fresh temp dir, removed when the test that made it finishes (pass the test's context; safe with concurrent tests). */
export function tempDirFor(ctx: Pick<TestContext, 'onTestFinished'>, prefix = 'interlock-e2e-'): string {
  const t = tempDir(prefix);
  ctx.onTestFinished(() => t.cleanup());
  return t.dir;
}
