// What the watcher benchmarks share: a trigger recorder (an http server in the bench process that timestamps each
// request as it arrives), a reader of the project's store through the built code (to check window states from
// outside `serve`), and CPU/settling measurements of a server process.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { WindowRecord } from '../../src/engine/index.js';
import { cpuMsOf } from '../../test/support/processes.js';
import type { CaseContext } from './figure.js';
import { importDist } from './proc.js';

export interface Hit {
  /** performance.now() when the request's headers arrived. */
  at: number;
  /** X-Interlock-Run-Key, or '' without one. */
  key: string;
}

export interface Recorder {
  /** POST here: the trigger URL. */
  url: string;
  hits: Hit[];
  /** Resolves with the first hit (from now on) whose key starts with `prefix`; rejects after `timeoutMs`. */
  next(prefix: string, timeoutMs: number): Promise<Hit>;
}

/** Starts the recorder in this process (answers 200 `{}` at once); stopped when the run ends. */
export async function startRecorder(ctx: CaseContext): Promise<Recorder> {
  const hits: Hit[] = [];
  const waiters: Array<{ prefix: string; resolve: (h: Hit) => void }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    const at = performance.now();
    const key = String(req.headers['x-interlock-run-key'] ?? '');
    const hit = { at, key };
    hits.push(hit);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i] as (typeof waiters)[number];
      if (key.startsWith(w.prefix)) {
        waiters.splice(i, 1);
        w.resolve(hit);
      }
    }
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ctx.defer(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/fire`,
    hits,
    next: (prefix, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.findIndex((w) => w.resolve === done);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`no trigger request for ${prefix} within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = (h: Hit) => {
          clearTimeout(timer);
          resolve(h);
        };
        waiters.push({ prefix, resolve: done });
      }),
  };
}

type ConfigModule = typeof import('../../src/config/index.js');
type StoreModule = typeof import('../../src/store/index.js');

/**
 * A reader of the window heads (live windows, and the newest of each schedule) of the project in `root`, through
 * dist/: the project is loaded once (10k pipeline files take seconds), the store stays open until `close`.
 */
export async function windowReader(
  root: string,
): Promise<{ heads(): Promise<WindowRecord[]>; close(): Promise<void> }> {
  const config = (await importDist('config/index.js')) as ConfigModule;
  const { createStore } = (await importDist('store/index.js')) as StoreModule;
  const project = config.loadProject(config.findConfigFile(root));
  const store = await createStore(project.config);
  return { heads: () => store.windowHeads(), close: () => store.close() };
}

/** The window heads of the project in `root` (one look). */
export async function windowHeads(root: string): Promise<WindowRecord[]> {
  const r = await windowReader(root);
  try {
    return await r.heads();
  } finally {
    await r.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `pid` has used less than `quietPct` % of one core over each of `quietSeconds` consecutive seconds
 * (start-up work done); returns how long that took (ms, to the start of the quiet stretch). Throws after `maxMs`.
 */
export async function settle(pid: number, opts: { quietPct: number; quietSeconds: number; maxMs: number }) {
  const t0 = performance.now();
  let quiet = 0;
  let quietSince = t0;
  let last = cpuMsOf(pid);
  while (performance.now() - t0 < opts.maxMs) {
    const s = performance.now();
    await sleep(1000);
    const now = cpuMsOf(pid);
    const pct = ((now - last) / (performance.now() - s)) * 100;
    last = now;
    if (pct < opts.quietPct) {
      if (quiet === 0) quietSince = s;
      if (++quiet >= opts.quietSeconds) return quietSince - t0;
    } else quiet = 0;
  }
  throw new Error(`process ${pid} did not settle (< ${opts.quietPct} % CPU) within ${opts.maxMs} ms`);
}

/** CPU used by `pid` over `ms` of wall time, as % of one core (and the raw numbers). */
export async function cpuOver(pid: number, ms: number): Promise<{ pct: number; cpuMs: number; wallMs: number }> {
  const c0 = cpuMsOf(pid);
  const t0 = performance.now();
  await sleep(ms);
  const cpuMs = cpuMsOf(pid) - c0;
  const wallMs = performance.now() - t0;
  return { pct: (cpuMs / wallMs) * 100, cpuMs, wallMs };
}
