// A long-running server process (`interlock serve`, a bench floor server) started and waited for until it prints
// `listening on <url>`, then stopped by pid: SIGTERM with a grace period, or SIGKILL as a crash.
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { onExit } from './exit-cleanups.js';
import { BIN } from './paths.js';

export interface ServerStartOptions {
  cwd: string;
  /** The whole environment of the server (default: ours, see {@link childEnv}). */
  env?: NodeJS.ProcessEnv;
  /** Killed and rejected when it has not printed `listening on` by then (default 60 s). */
  timeoutMs?: number;
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** Our environment for a child Interlock process: no colours, no API token (unless `extra` sets them). */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: '1', INTERLOCK_API_TOKEN: '', ...extra };
}

/** Output kept per stream (the tail): enough for every assertion on what a server said, bounded for long runs. */
const KEEP = 4 * 1024 * 1024;

/** A server process that printed `listening on <url>` (on stdout or stderr). */
export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    /** From spawn to `listening on`, ms. */
    readonly startMs: number,
    /** Resolves with the exit code/signal once the process has exited. */
    readonly exited: Promise<Exit>,
    private readonly streams: { stdout: string; stderr: string },
  ) {}

  get pid(): number {
    return this.child.pid as number;
  }

  /** stderr so far. */
  stderr(): string {
    return this.streams.stderr;
  }

  /** stderr and stdout so far (the last 8 KiB of each). */
  output(): string {
    return `${this.streams.stderr.slice(-8192)}${this.streams.stdout.slice(-8192)}`;
  }

  /** Starts `file args` in `cwd` and resolves once it prints `listening on <url>` (rejects if it exits first). */
  static start(file: string, args: string[], opts: ServerStartOptions): Promise<ServerProcess> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const start = performance.now();
      const child = spawn(file, args, {
        cwd: opts.cwd,
        env: opts.env ?? childEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<Exit>((res) => child.once('exit', (code, signal) => res({ code, signal })));
      // Whatever ends the harness, the server is not left behind (for tools that run the exit cleanups).
      const forget = onExit(() => child.kill('SIGTERM'));
      void exited.then(forget);
      const streams = { stdout: '', stderr: '' };
      let settled = false;
      const keep = (which: 'stdout' | 'stderr') => (d: Buffer) => {
        streams[which] = (streams[which] + d.toString()).slice(-KEEP);
        const m = /listening on (http:\/\/\S+)/.exec(streams[which]);
        if (m && !settled) {
          settled = true;
          clearTimeout(timer);
          resolve(new ServerProcess(child, m[1] as string, performance.now() - start, exited, streams));
        }
      };
      child.stdout?.on('data', keep('stdout'));
      child.stderr?.on('data', keep('stderr'));
      const said = () => `${streams.stderr}\n${streams.stdout}`.trim();
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        child.kill('SIGKILL');
        reject(new Error(`${file} ${args.join(' ')} did not listen within ${timeoutMs} ms:\n${said()}`));
      }, timeoutMs);
      child.on('error', (e) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e);
      });
      void exited.then(({ code, signal }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new Error(`${file} ${args.join(' ')} exited (${code ?? signal}) before listening:\n${said()}`));
      });
    });
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM by pid (graceful shutdown), SIGKILL after `graceMs`; resolves with how it exited. */
  async stop(graceMs = 12_000): Promise<Exit> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(killer);
    }
    return this.exited;
  }

  /** SIGKILL (a crash); resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** What {@link serveProcess} gives: the `interlock serve` process and where it listens. */
export type ServeProcess = ServerProcess;

/**
 * Starts the built CLI `interlock serve ...args` in `cwd` (our environment, no colours, no token, plus `env`) and
 * resolves once it prints `listening on <url>`; rejects with its output if it exits first.
 */
export function serveProcess(
  cwd: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  timeoutMs?: number,
): Promise<ServeProcess> {
  return ServerProcess.start(process.execPath, [BIN, 'serve', ...args], {
    cwd,
    env: childEnv(env),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}
