// The CLI side of config reload for long-running commands (`serve`, later `watch`): SIGHUP and file changes reload
// the project (runtime's startConfigReloader); a good reload's summary goes to stderr.
import { startConfigReloader } from '../runtime/config-reloader.js';
import type { Context } from '../runtime/context.js';
import type { ReloadResult } from '../runtime/reload.js';
import type { Out } from './output.js';

export interface Reloading {
  /** Stops watching and handling SIGHUP (call on shutdown; a SIGHUP after it needs its own handler). Idempotent. */
  stop(): void;
}

/**
 * Reloads ctx's project on SIGHUP and when its config files change, until stop(). Start it before announcing that
 * the process is up: from then on a SIGHUP reloads instead of killing the process.
 */
export function startReloading(out: Out, ctx: Context): Reloading {
  const reloader = startConfigReloader(ctx, { onReload: (r) => reportReload(out, r) });
  const onHangup = () => void reloader.reload('SIGHUP');
  process.on('SIGHUP', onHangup);
  return {
    stop() {
      process.off('SIGHUP', onHangup);
      reloader.close();
    },
  };
}

/**
 * A good reload's summary on stderr (a failed one was logged as a warning by reloadProject already). A file change
 * that changed nothing says nothing; a SIGHUP always answers.
 */
function reportReload(out: Out, r: ReloadResult): void {
  if (!r.applied || r.failed.length > 0 || r.restartNeeded.length > 0) return;
  const changed = r.added.length + r.removed.length + r.changed.length > 0;
  if (changed || r.reason === 'SIGHUP') out.err(`interlock: ${r.summary}`);
}
