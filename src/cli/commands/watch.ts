// `interlock watch`: the watcher in the foreground, without the HTTP API, until SIGTERM/SIGINT; the project reloads
// on SIGHUP and when a config file changes, as under `serve`.
import type { MetricsServer } from '../../api/index.js';
import { openContext } from '../../runtime/context.js';
import type { Context } from '../../runtime/context-type.js';
import { secretMask } from '../../runtime/log-mask.js';
import { startReloading } from '../config-reload.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions, type LogFlags, serviceLogger } from '../root.js';
import { VERSION } from '../version.js';
import { startWatcher, untilSignal } from './watching.js';

export interface WatchFlags extends LogFlags {
  /** `--metrics-addr host:port`: serve GET /metrics there (off unless given). */
  metricsAddr?: string;
}

/**
 * GET /metrics on `addr` with serve's metrics, token and Host rules (prom-client and the listener load only here).
 */
async function serveMetrics(ctx: Context, addr: string, out: Out): Promise<MetricsServer> {
  const [{ serverSettings }, { startMetricsServer }, { openMetrics }] = await Promise.all([
    import('../../api/settings.js'),
    import('../../api/index.js'),
    import('../../runtime/metrics-feed.js'),
  ]);
  // The listen address does not matter here: only the token, metricsPublic and allowedHostnames are read.
  const settings = serverSettings(ctx.project.config, { addr: '127.0.0.1:0' }, ctx.env);
  const metrics = await openMetrics(ctx, VERSION);
  const server = await startMetricsServer({
    addr,
    metrics,
    metricsPublic: settings.metricsPublic,
    allowedHostnames: settings.allowedHostnames,
    log: (m) => ctx.warn(m),
    ...(settings.token !== undefined ? { token: settings.token } : {}),
  });
  out.err(`metrics listening on ${server.url}/metrics`);
  return server;
}

export async function watch(out: Out, g: GlobalOptions, flags: WatchFlags = {}): Promise<number> {
  const secrets = secretMask(process.env);
  const log = await serviceLogger(flags, process.env, secrets);
  const ctx = await openContext({ ...contextOptions(g), log });
  let metricsServer: MetricsServer | undefined;
  try {
    // Before the watcher: its store calls are timed, its events counted, from the first one.
    if (flags.metricsAddr !== undefined) metricsServer = await serveMetrics(ctx, flags.metricsAddr, out);
    const reloading = startReloading(out, ctx);
    const handle = await startWatcher(ctx, out, { force: true });
    // The watcher's timers do not hold the process open (they must not keep `serve` from exiting): this does, until
    // the signal.
    const keepAlive = setInterval(() => undefined, 2 ** 30);
    const signal = await untilSignal(out, () => reloading.stop()).finally(() => clearInterval(keepAlive));
    out.err(`${signal}: stopping the watcher (finishing what it is doing, giving the lease up)`);
    await handle.stop();
    out.err('stopped');
    return 0;
  } finally {
    await metricsServer?.close();
    await ctx.close();
  }
}
