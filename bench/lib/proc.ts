// Processes the benchmarks time or talk to: one-shot commands (wall time from spawn to exit) and long-running
// servers (`interlock serve`, the floor servers) that print `listening on <url>`, stopped by pid.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { REPO } from '../../test/helpers/cli.js';

export { REPO };
export const NODE = process.execPath;

/** Synchronous last-resort cleanups, run when the bench process exits however it exits (crash, EPIPE, signal). */
const atExit = new Set<() => void>();

/** Registers `fn` to run at exit unless unregistered (call the returned function once it is done normally). */
export function onExit(fn: () => void): () => void {
  atExit.add(fn);
  return () => {
    atExit.delete(fn);
  };
}

/** Runs every registered exit cleanup (servers get SIGTERM by pid, temp dirs are removed). Never throws. */
export function runExitCleanups(): void {
  for (const fn of [...atExit].reverse()) {
    try {
      fn();
    } catch {}
  }
  atExit.clear();
}

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
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', INTERLOCK_API_TOKEN: '', ...extra };
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

/** Resident set size now and at its peak (VmRSS, VmHWM from /proc), in MB. */
export function rssOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

let clockTicks: number | undefined;

/** CPU time (user + system) the process `pid` has used so far, in ms (from /proc; 10 ms resolution). */
export function cpuMsOf(pid: number): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) in parentheses; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** A server process that printed `listening on <url>`. */
export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    /** From spawn to `listening on`, ms. */
    readonly startMs: number,
    private readonly log: () => string,
  ) {}

  get pid(): number {
    return this.child.pid as number;
  }

  /** stderr and stdout so far (last 8 KiB). */
  output(): string {
    return this.log();
  }

  /** Starts `file args` in `cwd` and resolves once it prints `listening on <url>` (rejects if it exits first). */
  static start(
    file: string,
    args: string[],
    opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
  ): Promise<ServerProcess> {
    return new Promise((resolve, reject) => {
      const start = performance.now();
      const child = spawn(file, args, {
        cwd: opts.cwd,
        env: opts.env ?? benchEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const forget = onExit(() => child.kill('SIGTERM'));
      child.once('exit', forget);
      let out = '';
      let settled = false;
      const keep = (d: Buffer) => {
        out = (out + d.toString()).slice(-8192);
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m && !settled) {
          settled = true;
          clearTimeout(timer);
          resolve(new ServerProcess(child, m[1] as string, performance.now() - start, () => out));
        }
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        child.kill('SIGKILL');
        reject(new Error(`${file} ${args.join(' ')} did not listen within ${opts.timeoutMs ?? 60_000} ms:\n${out}`));
      }, opts.timeoutMs ?? 60_000);
      child.on('error', (e) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e);
      });
      child.on('exit', (code, signal) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new Error(`${file} ${args.join(' ')} exited (${code ?? signal}) before listening:\n${out}`));
      });
    });
  }

  /** SIGTERM by pid (graceful shutdown), SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 12_000): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(killer);
  }
}
