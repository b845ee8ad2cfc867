// `interlock watch`: the watcher in the foreground, without the HTTP API, until SIGTERM/SIGINT; the project reloads
// on SIGHUP and when a config file changes, as under `serve`.
import { openContext } from '../../runtime/context.js';
import { secretMask } from '../../runtime/log-mask.js';
import { startReloading } from '../config-reload.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions, type LogFlags, serviceLogger } from '../root.js';
import { startWatcher, untilSignal } from './watching.js';

export async function watch(out: Out, g: GlobalOptions, flags: LogFlags = {}): Promise<number> {
  const log = await serviceLogger(flags, process.env, secretMask(process.env));
  const ctx = await openContext({ ...contextOptions(g), log });
  try {
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
    await ctx.close();
  }
}
