// `interlock watch`: the watcher in the foreground, without the HTTP API, until SIGTERM/SIGINT.
import { openContext } from '../../runtime/context.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';
import { startWatcher, untilSignal } from './watching.js';

export async function watch(out: Out, g: GlobalOptions): Promise<number> {
  const ctx = await openContext(contextOptions(g));
  try {
    const watcher = await startWatcher(ctx, out, { force: true });
    const signal = await untilSignal(out);
    out.err(`${signal}: stopping the watcher (finishing what it is doing)`);
    await watcher?.stop();
    out.err('stopped');
    return 0;
  } finally {
    await ctx.close();
  }
}
