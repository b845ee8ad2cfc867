// Starting the watcher from `serve` and `watch`, and waiting for the signal that stops them.
import type { Context } from '../../runtime/context-type.js';
import type { Watcher } from '../../runtime/watcher/index.js';
import type { Out } from '../output.js';

/**
 * Starts the watcher when a pipeline has schedules and `watcher.enabled` is not false (`force`: also with none, so
 * `interlock watch` keeps running for a reload that adds some). Says what it does on stderr.
 */
export async function startWatcher(
  ctx: Context,
  out: Out,
  opts: { force?: boolean } = {},
): Promise<Watcher | undefined> {
  const n = ctx.project.watch.size;
  if (!ctx.project.watcher.watcher.enabled) {
    out.err('interlock: watcher disabled (watcher.enabled: false): schedules are not watched by this process');
    return undefined;
  }
  if (n === 0 && !opts.force) return undefined;
  const { Watcher } = await import('../../runtime/watcher/index.js');
  const watcher = new Watcher(ctx);
  await watcher.start();
  const s = watcher.status();
  out.err(
    `watching ${n} scheduled pipeline${n === 1 ? '' : 's'} as ${s.holder} (${s.leading ? `leader, epoch ${s.epoch}` : 'standby: another replica leads'})`,
  );
  return watcher;
}

/** Resolves with the first SIGTERM/SIGINT; later ones only say that shutdown is under way. */
export function untilSignal(out: Out): Promise<NodeJS.Signals> {
  return new Promise<NodeJS.Signals>((resolve) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      const again = () => out.err('interlock: already shutting down (at most 10 s)');
      process.on('SIGTERM', again);
      process.on('SIGINT', again);
      resolve(s);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
