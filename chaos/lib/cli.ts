// Running the real built CLI (`node bin/interlock …`) and `interlock serve` for chaos cases, and talking to the API.
import { type ChildProcess, spawn } from 'node:child_process';
import { MARK_VAR } from '../../test/support/leftover-processes.js';
import { BIN } from '../../test/support/paths.js';
import { peakRssKb as peakRssOf } from '../../test/support/processes.js';
import { childEnv, ServerProcess } from '../../test/support/server-process.js';
import type { CaseContext } from './harness.js';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** The CLI itself outlived `timeoutMs` and was SIGKILLed by the harness. */
  hung: boolean;
  pid: number | undefined;
  /** Peak resident set size of the CLI process (VmHWM, KiB), when sampled. */
  peakRssKb?: number;
}

export interface CliOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this uid/gid (via setpriv); the CLI then cannot write what only root may. */
  asUser?: { uid: number; gid: number };
  /** The harness SIGKILLs the CLI after this long (default 60 s) and reports it as hung. */
  timeoutMs?: number;
  /** Prefix the command with `sh -c 'ulimit …; exec "$@"'` arguments (resource limits). */
  shellPrefix?: string;
  /** Sample the CLI's peak RSS (VmHWM) while it runs. */
  sampleRss?: boolean;
  /** Called with the child right after spawn (to pause, kill…). */
  onSpawn?: (child: ChildProcess) => void;
}

/** The environment of every CLI a case starts: no colours, the case's mark, no token. */
export function cliEnv(t: CaseContext, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return childEnv({ [MARK_VAR]: t.mark, ...extra });
}

/** The command line that runs the CLI with `args` (as another user, under a shell prefix). */
function commandLine(args: string[], o: CliOptions): { file: string; argv: string[] } {
  let argv = [process.execPath, BIN, ...args];
  if (o.shellPrefix !== undefined) argv = ['/bin/sh', '-c', `${o.shellPrefix}; exec "$@"`, 'sh', ...argv];
  if (o.asUser) {
    argv = ['setpriv', `--reuid=${o.asUser.uid}`, `--regid=${o.asUser.gid}`, '--clear-groups', '--', ...argv];
  }
  return { file: argv[0] as string, argv: argv.slice(1) };
}

/** Runs `interlock …args` to completion (or SIGKILL after timeoutMs). Never rejects on a non-zero exit. */
export function cli(t: CaseContext, args: string[], o: CliOptions): Promise<CliRun> {
  const { file, argv } = commandLine(args, o);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { cwd: o.cwd, env: cliEnv(t, o.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < 4 * 1024 * 1024) stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4 * 1024 * 1024) stderr += d;
    });
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, o.timeoutMs ?? 60_000);
    let peakRssKb: number | undefined;
    const sampler = o.sampleRss
      ? setInterval(() => {
          const hwm = child.pid === undefined ? undefined : peakRssOf(child.pid);
          if (hwm !== undefined) peakRssKb = Math.max(peakRssKb ?? 0, hwm);
        }, 20)
      : undefined;
    child.on('error', (e) => {
      clearTimeout(timer);
      clearInterval(sampler);
      reject(e);
    });
    child.on('exit', () => clearInterval(sampler));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(sampler);
      const r: CliRun = { code, signal, stdout, stderr, ms: performance.now() - start, hung, pid: child.pid };
      if (peakRssKb !== undefined) r.peakRssKb = peakRssKb;
      resolve(r);
    });
    o.onSpawn?.(child);
  });
}

/** Parses a CLI's stdout as JSON; undefined when it is not JSON. */
// biome-ignore lint/suspicious/noExplicitAny: CLI JSON is checked field by field by the cases.
export function jsonOf(r: CliRun): any {
  try {
    return JSON.parse(r.stdout);
  } catch {
    return undefined;
  }
}

/** One line describing a CLI run, for check details. */
export function show(r: CliRun): string {
  const clip = (s: string) => (s.length > 400 ? `${s.slice(0, 400)}…` : s).trim();
  return `exit ${r.code ?? r.signal}${r.hung ? ' (hung, killed)' : ''} in ${Math.round(r.ms)} ms; stdout: ${clip(r.stdout)}; stderr: ${clip(r.stderr)}`;
}

/** A running `interlock serve` of a case. */
export type Serve = ServerProcess;

/** Starts `interlock serve --addr 127.0.0.1:<port>` (port 0 = any) and waits for `listening on`. Killed at the end. */
export async function serve(t: CaseContext, cwd: string, port = 0, env: NodeJS.ProcessEnv = {}): Promise<Serve> {
  const s = await ServerProcess.start(process.execPath, [BIN, 'serve', '--addr', `127.0.0.1:${port}`], {
    cwd,
    env: cliEnv(t, env),
    timeoutMs: 15_000,
  });
  t.defer(() => s.kill());
  return s;
}

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response JSON is checked field by field.
  body: any;
  text: string;
}

/** One API request (JSON in, JSON out); status 0 with the error text when the request itself failed. */
export async function api(
  base: string,
  method: string,
  path: string,
  json?: unknown,
  timeoutMs = 15_000,
): Promise<Reply> {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      // The server requires the JSON content type on every request but GET/HEAD, body or not.
      headers: json === undefined && method === 'GET' ? {} : { 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, body, text };
  } catch (err) {
    return {
      status: 0,
      body: undefined,
      text: err instanceof Error ? `${err.message} ${String(err.cause ?? '')}` : String(err),
    };
  }
}
