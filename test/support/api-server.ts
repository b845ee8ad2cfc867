// A REAL listening HTTP API server in-process (127.0.0.1, port 0) over a project, exactly as `serve` builds it, and
// the polls and checks the API tests make against it.
import type { RunningServer } from '../../src/api/index.js';
import { startServer } from '../../src/api/index.js';
import { type ServeFlags, serverSettings } from '../../src/api/settings.js';
import type { Clock } from '../../src/core/clock.js';
import { type Context, openContext } from '../../src/runtime/context.js';
import { openMetrics } from '../../src/runtime/metrics-feed.js';
import type { Store } from '../../src/store/types.js';
import { api, type Reply } from './http-request.js';
import { tempDir } from './temp-dir.js';
import { useCleanups } from './test-cleanups.js';

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
  /** The Context's clock (a FakeClock drives the server's timeouts). */
  clock?: Clock;
  /** Collect metrics and serve them on GET /metrics, as `serve` does. */
  metrics?: boolean;
}

/** Starts the API in-process on 127.0.0.1, port 0, over the project in `root`, exactly as `serve` does. */
export async function startTestServer(root: string, o: StartOptions = {}): Promise<TestServer> {
  const logs: string[] = [];
  const warn = (m: string) => {
    logs.push(m);
  };
  const ctx = await openContext({
    cwd: root,
    env: process.env,
    warn,
    ...(o.store ? { store: o.store } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
  });
  const settings = serverSettings(ctx.project.config, { addr: '127.0.0.1:0', ...o.flags }, o.env ?? {});
  if (o.shutdownTimeoutMs !== undefined) settings.shutdownTimeoutMs = o.shutdownTimeoutMs;
  const metrics = o.metrics ? await openMetrics(ctx, 'test') : undefined;
  const server = await startServer(ctx, settings, { version: 'test', log: warn, ...(metrics ? { metrics } : {}) });
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
