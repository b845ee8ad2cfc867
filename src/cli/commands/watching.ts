// Starting the watcher from `serve` and `watch`, and waiting for the signal that stops them.
import type { Context } from '../../runtime/context-type.js';
import type { Watcher } from '../../runtime/watcher/index.js';
import type { Out } from '../output.js';

export interface WatcherHandle {
  /** The running watcher, once started (a project without schedules starts it when a reload brings one). */
  readonly watcher: Watcher | undefined;
  /** Stops it (or stops waiting to start it). */
  stop(): Promise<void>;
}

/**
 * Runs the watcher in this process unless `watcher.enabled` is false: at once when a pipeline has schedules (or
 * with `force`), otherwise as soon as a config reload brings one. Says what it does on stderr.
 */
export async function startWatcher(ctx: Context, out: Out, opts: { force?: boolean } = {}): Promise<WatcherHandle> {
  let watcher: Watcher | undefined;
  let stopped = false;
  let starting: Promise<void> | undefined;
  const start = async () => {
    const { Watcher } = await import('../../runtime/watcher/index.js');
    if (stopped) return;
    watcher = new Watcher(ctx);
    await watcher.start();
    const s = watcher.status();
    const n = ctx.project.watch.size;
    out.err(
      `watching ${n} scheduled pipeline${n === 1 ? '' : 's'} as ${s.holder} (${s.leading ? `leader, lease epoch ${s.epoch}` : 'standby: another replica leads'})`,
    );
  };
  let off: (() => void) | undefined;
  if (!ctx.project.watcher.watcher.enabled) {
    out.err('interlock: watcher disabled (watcher.enabled: false): schedules are not watched by this process');
  } else if (ctx.project.watch.size > 0 || opts.force) {
    await start();
  } else {
    off = ctx.events.subscribe('project.reloaded', (e) => {
      if (!e.applied || ctx.project.watch.size === 0 || starting) return;
      off?.();
      starting = start();
    });
  }
  return {
    get watcher() {
      return watcher;
    },
    async stop() {
      stopped = true;
      off?.();
      await starting?.catch(() => undefined);
      await watcher?.stop();
    },
  };
}

/** Resolves with the first SIGTERM/SIGINT (after `onSignal`); later ones only say that shutdown is under way. */
export function untilSignal(out: Out, onSignal?: () => void): Promise<NodeJS.Signals> {
  return new Promise<NodeJS.Signals>((resolve) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      onSignal?.();
      // Later signals while draining only say so: the drain is bounded anyway.
      const again = () => out.err('interlock: already shutting down (at most 10 s)');
      process.on('SIGTERM', again);
      process.on('SIGINT', again);
      process.on('SIGHUP', again);
      resolve(s);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
