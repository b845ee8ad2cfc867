// Shared helpers of the CLI end-to-end tests: temp dirs cleaned after each test, raw spawns, pid checks, JSON output.
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { afterEach, type TestContext } from 'vitest';
import { BIN, type CliResult, cli, tempDir } from '../helpers/cli.js';

/** Matches any ANSI escape sequence (colours, cursor movement). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point.
export const ANSI = /\x1b\[/;

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

/** Runs the CLI and also measures its wall time (spawn to close). */
export async function timedCli(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult & { ms: number }> {
  const t0 = performance.now();
  const r = await cli(args, opts);
  return { ...r, ms: performance.now() - t0 };
}

/** Parses the CLI's stdout as JSON, with the whole result in the error when it is not JSON. */
// biome-ignore lint/suspicious/noExplicitAny: CLI JSON is checked by the assertions, not by types.
export function json<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr:\n${r.stderr}`);
  }
}

/** A one-line summary of a CLI result for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.code} signal ${r.signal}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;
}

import { isAlive } from '../helpers/proc.js';

export { isAlive };

/** Polls until `pid` is dead or `ms` have passed; returns whether it died. */
export async function waitDead(pid: number, ms = 1000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await sleep(20);
  }
  return !isAlive(pid);
}

/** Kills a pid we caused to exist, ignoring "no such process" (test cleanup only). */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Spawns the built CLI with stdout piped and closes the read side after the first chunk, like `| head -c N`.
 * Resolves with the exit code/signal, the stderr text and the size of the first chunk.
 */
export function cliClosingStdout(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; firstChunk: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let firstChunk = 0;
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', (d: Buffer) => {
      firstChunk = d.length;
      child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stderr, firstChunk }));
  });
}

/** Runs `sh -c script` in `cwd` (node's directory first on PATH, so `#!/usr/bin/env node` finds this node). */
export function sh(script: string, opts: { cwd: string; env?: NodeJS.ProcessEnv; shell?: string }): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(opts.shell ?? 'sh', ['-c', script], {
      cwd: opts.cwd,
      env: {
        ...process.env,
        NO_COLOR: '1',
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** Removes SGR (colour/style) escape sequences. */
export function stripAnsi(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point.
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}
