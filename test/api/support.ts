// Helpers of the HTTP API tests: projects in temp dirs, a REAL listening server (in-process on port 0, or the built
// CLI `interlock serve` as a subprocess), raw HTTP requests, and a store whose outage a test can switch on and off.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type RunningServer, startServer } from '../../src/api/index.js';
import { InterlockError } from '../../src/core/errors.js';
import { type Context, openContext } from '../../src/runtime/context.js';
import { type ServeFlags, serverSettings } from '../../src/runtime/server-settings.js';
import type { Store } from '../../src/store/types.js';
import { BIN, copyFixtureEvaluators, tempDir, writeFiles } from '../helpers/cli.js';

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

export interface ProjectOptions {
  /** interlock.yaml body (default `provider: sqlite`). */
  config?: string;
  /** Evaluator of trait `a` of pipeline `p` (fixture name; default pass). */
  evaluator?: string;
  /** Trigger YAML block of `p` (default: a command appending its run id to fired.log). */
  trigger?: string;
  /** Extra files (relative path → content). */
  files?: Record<string, string>;
}

/** Appends the run id to fired.log: one line per trigger execution. */
export const RECORD_TRIGGER = 'trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log"\n';

/**
 * A project: archetype `gate` (required trait `a`, optional trait `b`), pipeline `p` (trait a → evaluator) with a
 * trigger, and pipeline `no-trigger` without one. Fixture evaluators are in evaluators/.
 */
export function makeProject(root: string, o: ProjectOptions = {}): string {
  copyFixtureEvaluators(root);
  writeFiles(root, {
    'interlock.yaml': o.config ?? 'provider: sqlite\n',
    'archetypes/gate.yaml':
      'name: gate\nrequiredTraits:\n  - type: a\n    defaultTtl: 600\noptionalTraits:\n  - type: b\n',
    'pipelines/p.yaml': `name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: ${o.evaluator ?? 'pass'}\n${o.trigger ?? RECORD_TRIGGER}`,
    'pipelines/no-trigger.yaml': 'name: no-trigger\narchetype: gate\ntraits:\n  a:\n    evaluator: pass\n',
    ...o.files,
  });
  return root;
}

/** Lines of fired.log (one per trigger execution). */
export function fired(root: string): string[] {
  const f = join(root, 'fired.log');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

export interface TestServer {
  url: string;
  ctx: Context;
  server: RunningServer;
  /** What the server logged (warnings, 5xx details). */
  logs: string[];
  /** Shuts the server down gracefully and closes its store. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Use this store instead of the configured one. */
  store?: Store;
  flags?: ServeFlags;
  env?: NodeJS.ProcessEnv;
  shutdownTimeoutMs?: number;
}

/** Starts the API in-process on 127.0.0.1, port 0, over the project in `root`, exactly as `serve` does. */
export async function startTestServer(root: string, o: StartOptions = {}): Promise<TestServer> {
  const logs: string[] = [];
  const warn = (m: string) => {
    logs.push(m);
  };
  const ctx = await openContext({ cwd: root, warn, ...(o.store ? { store: o.store } : {}) });
  const settings = serverSettings(ctx.project.config, { addr: '127.0.0.1:0', ...o.flags }, o.env ?? {});
  if (o.shutdownTimeoutMs !== undefined) settings.shutdownTimeoutMs = o.shutdownTimeoutMs;
  const server = await startServer(ctx, settings, { version: 'test', log: warn });
  let stopped = false;
  return {
    url: server.url,
    ctx,
    server,
    logs,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.close();
      await ctx.close();
    },
  };
}

/** A temp dir removed after the test, and a started server over a project in it, stopped after the test. */
export function useServers(prefix = 'interlock-api-') {
  const cleanup = useCleanups();
  const dir = () => {
    const t = tempDir(prefix);
    cleanup(t.cleanup);
    return t.dir;
  };
  const start = async (root: string, o: StartOptions = {}) => {
    const s = await startTestServer(root, o);
    cleanup(s.stop);
    return s;
  };
  return { dir, start, cleanup };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: response JSON is checked by the assertions, not by types.
  body: any;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  /** Sent as is; with `chunked`, in pieces without a Content-Length. */
  body?: string | Buffer;
  chunked?: boolean;
}

/** One HTTP request with node:http (any method, any header, chunked bodies), on a fresh connection. */
export function raw(base: string, r: RawRequest): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    const headers: Record<string, string | number> = { ...r.headers };
    if (body && !r.chunked && headers['content-length'] === undefined) headers['content-length'] = body.length;
    const req = httpRequest(
      { host: u.hostname, port: u.port, method: r.method ?? 'GET', path: r.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body && r.chunked) {
      // Several writes so the body really streams in chunks.
      const step = Math.max(1, Math.ceil(body.length / 8));
      for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/**
 * JSON request helper: `api(url, 'POST', '/api/…', {…})`. Every request but GET/HEAD declares
 * `Content-Type: application/json`, as the server requires (with no body when `json` is undefined).
 */
export function api(base: string, method: string, path: string, json?: unknown, headers: Record<string, string> = {}) {
  const typed = json !== undefined || (method !== 'GET' && method !== 'HEAD');
  return raw(base, {
    method,
    path,
    headers: typed ? { 'content-type': 'application/json', ...headers } : headers,
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
}

/** Polls GET /api/runs/{id} until the run is in one of `statuses` (or fails after `ms`). */
export async function waitForRun(
  base: string,
  runId: string,
  statuses: string[],
  headers: Record<string, string> = {},
  ms = 15_000,
): Promise<Reply> {
  const until = Date.now() + ms;
  for (;;) {
    const r = await api(base, 'GET', `/api/runs/${runId}`, undefined, headers);
    if (statuses.includes(r.body?.run?.status ?? r.body?.status)) return r;
    if (Date.now() > until) throw new Error(`run ${runId} did not reach ${statuses.join('|')}: ${r.text}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** The shape every error response has. */
export function expectErrorShape(r: Reply): void {
  if (typeof r.body?.error?.code !== 'string' || typeof r.body?.error?.message !== 'string') {
    throw new Error(`not an error body (status ${r.status}): ${r.text}`);
  }
  if (/\n\s+at /.test(r.text)) throw new Error(`stack trace in a response: ${r.text}`);
}

/**
 * A real store whose outage can be switched on: while `down`, every call but close() rejects with
 * STORE_UNAVAILABLE (as a backend does when its server is unreachable), or never answers when `hang` is set.
 */
export function outageStore(real: Store): { store: Store; down: boolean; hang: boolean } {
  const state = { store: undefined as unknown as Store, down: false, hang: false };
  state.store = new Proxy(real, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof v !== 'function' || key === 'close') return typeof v === 'function' ? v.bind(target) : v;
      return (...args: unknown[]) => {
        if (state.hang) return new Promise(() => {});
        if (state.down) {
          return Promise.reject(
            new InterlockError('STORE_UNAVAILABLE', `injected outage: ${String(key)}: connect ECONNREFUSED`),
          );
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return state;
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** stderr so far. */
  stderr(): string;
  /** Resolves with the exit code/signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the built CLI `interlock serve ...args` in `cwd` and resolves once it prints `listening on <url>`;
 * rejects with its stderr if it exits first.
 */
export function serveProcess(cwd: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', INTERLOCK_API_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
      child.on('exit', (code, signal) => res({ code, signal }));
    });
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => {
      stderr += d;
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve({ child, url: m[1] as string, stderr: () => stderr, exited });
    });
    child.on('error', reject);
    void exited.then(({ code, signal }) =>
      reject(new Error(`serve exited (${code ?? signal}) before listening:\n${stderr}\n${stdout}`)),
    );
  });
}
