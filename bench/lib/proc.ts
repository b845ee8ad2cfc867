// What the benchmarks run: the code under test (the repository, or a private snapshot of it), one-shot commands
// timed from spawn to exit, and servers started with the bench's environment (the server harness is test/support).
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { onExit } from '../../test/support/exit-cleanups.js';
import { REPO } from '../../test/support/paths.js';
import { childEnv, ServerProcess } from '../../test/support/server-process.js';

export const NODE = process.execPath;

/**
 * Where the code under test is: the repository, or (after `useSnapshot`) a private copy of bin/, dist/ and the
 * floors, so that an `npm run build` elsewhere (which empties dist/ first) cannot change or break a run half-way.
 */
export const code = {
  root: REPO,
  get bin() {
    return join(this.root, 'bin', 'interlock');
  },
  get floor() {
    return join(this.root, 'bench', 'floor');
  },
};

/** Copies bin/, dist/, package.json and bench/floor/ to a temp dir (node_modules linked) and runs from there. */
export function useSnapshot(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'interlock-bench-code-'));
  const forget = onExit(() => rmSync(dir, { recursive: true, force: true }));
  try {
    for (const rel of ['bin', 'dist', 'package.json', join('bench', 'floor')]) {
      cpSync(join(REPO, rel), join(dir, rel), { recursive: true, preserveTimestamps: true });
    }
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    forget();
    throw e;
  }
  code.root = dir;
  return {
    dir,
    remove: () => {
      code.root = REPO;
      rmSync(dir, { recursive: true, force: true });
      forget();
    },
  };
}

/** Imports a built module from dist/ (typed by the caller with `as typeof import('../../src/…')`). */
export function importDist(rel: string): Promise<unknown> {
  return import(pathToFileURL(join(code.root, 'dist', rel)).href);
}

/**
 * The environment of every process the bench starts: ours without NODE_OPTIONS (the bench itself runs under tsx;
 * its children must not), no colours, no API token.
 */
export function benchEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = childEnv(extra);
  delete env.NODE_OPTIONS;
  return env;
}

export interface Timed {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `file args` to completion; `ms` is the wall time from just before spawn to 'close' (output drained). */
export function timeProcess(
  file: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? benchEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // Bounded: a hung command fails the bench instead of hanging it.
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - start, code, stdout, stderr });
    });
  });
}

/** Runs a command and throws (with its output) unless it exits with `expect` (default 0). */
export async function mustRun(
  file: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; expect?: number },
): Promise<Timed> {
  const r = await timeProcess(file, args, opts);
  if (r.code !== (opts.expect ?? 0)) {
    throw new Error(
      `${[file, ...args].join(' ')} exited ${r.code} (expected ${opts.expect ?? 0})\n${r.stderr.slice(-2000)}\n${r.stdout.slice(-1000)}`,
    );
  }
  return r;
}

/** Starts a server (`interlock serve`, a floor) with the bench's environment and waits for `listening on`. */
export function startServer(
  file: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<ServerProcess> {
  return ServerProcess.start(file, args, { ...opts, env: opts.env ?? benchEnv() });
}
