// `interlock serve`: run the HTTP API until SIGTERM/SIGINT, then shut down gracefully (exit 0); reload the project
// on SIGHUP and when a config file changes.

import { type ServeFlags, serverSettings } from '../../api/settings.js';
import { formatDiagnostic } from '../../core/errors.js';
import { openContext } from '../../runtime/context.js';
import { secretMask } from '../../runtime/log-mask.js';
import { startReloading } from '../config-reload.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions, type LogFlags, serviceLogger } from '../root.js';
import { VERSION } from '../version.js';
import { startWatcher, untilSignal } from './watching.js';

/** After shutdown, anything still holding the event loop (a stray socket) gets this long before we exit anyway. */
const EXIT_GRACE_MS = 2000;

export async function serve(out: Out, g: GlobalOptions, flags: ServeFlags & LogFlags): Promise<number> {
  const secrets = secretMask(process.env);
  const log = await serviceLogger(flags, process.env, secrets);
  const ctx = await openContext({ ...contextOptions(g), log });
  try {
    const settings = serverSettings(ctx.project.config, flags, ctx.env);
    // server.authToken from interlock.yaml is a secret too (INTERLOCK_API_TOKEN already is, by its name).
    if (settings.token !== undefined) secrets.add(settings.token);
    // hono and prom-client load only here, so other commands start without them.
    const { startServer } = await import('../../api/index.js');
    const { openMetrics } = await import('../../runtime/metrics-feed.js');
    const metrics = await openMetrics(ctx, VERSION);
    const server = await startServer(ctx, settings, { version: VERSION, metrics, mask: secrets.mask });
    // Before `listening on`: from then on a SIGHUP reloads instead of killing the process.
    const reloading = startReloading(out, ctx);
    out.err(`listening on ${server.url}`);
    // Config warnings (a ${VAR} a trigger needs is unset, a trait without an evaluator…) would otherwise only show
    // when a run is refused.
    for (const d of ctx.project.diagnostics) {
      if (d.severity === 'warning') out.err(`interlock: ${formatDiagnostic(d)}`);
    }
    if (server.insecure) {
      out.err(
        `interlock: warning: no API token and listening on ${server.url}: anyone who can reach it can register pipelines and trigger runs`,
      );
    } else if (settings.token === undefined) {
      out.err(
        'interlock: no API token set (loopback only); set server.authToken or INTERLOCK_API_TOKEN to require one',
      );
    }
    const watcher = flags.watch === false ? undefined : await startWatcher(ctx, out);
    const signal = await untilSignal(out, () => reloading.stop());
    out.err(
      `${signal}: shutting down (finishing in-flight requests and runs, at most ${settings.shutdownTimeoutMs / 1000} s)`,
    );
    // The watcher first: it starts no new run once stopping, and gives its lease to another replica.
    await watcher?.stop();
    await server.close();
    out.err('stopped');
    setTimeout(() => process.exit(process.exitCode ?? 0), EXIT_GRACE_MS).unref();
    return 0;
  } finally {
    await ctx.close();
  }
}
