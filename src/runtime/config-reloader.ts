// The config reloader of a long-running process (`serve`, later `watch`): watches interlock.yaml and the config
// directories, and reloads the project (reloadProject) once changes have settled; reloads never overlap.
import { type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { TimerHandle } from '../core/clock.js';
import type { Context } from './context-type.js';
import { type ReloadResult, reloadProject } from './reload.js';

/** Changes are collected this long after the last one before the project is loaded again. */
export const DEFAULT_RELOAD_DEBOUNCE_MS = 300;

export interface ConfigReloaderOptions {
  /** Quiet time after the last file change before reloading (default 300 ms). */
  debounceMs?: number;
  /** Watch files (default true); false: reload only when asked (reload()). */
  watchFiles?: boolean;
  /** Told about every reload's outcome (after reloadProject has logged failures and published its event). */
  onReload?: (result: ReloadResult) => void;
}

export interface ConfigReloader {
  /**
   * Reloads now (SIGHUP). A call while a reload runs waits for it, then reloads once more for every caller that
   * came meanwhile (so a change made during a reload is never missed).
   */
  reload(reason: string): Promise<ReloadResult>;
  /** The directories watched right now (absolute), sorted. */
  readonly watched: string[];
  /** Stops watching and cancels a pending debounced reload; a reload already running finishes. Idempotent. */
  close(): void;
}

/** A watched directory: its inode (a directory removed and made again is watched anew) and the names that matter. */
interface Watched {
  ino: number;
  watcher: FSWatcher;
  accepts: (name: string | null) => boolean;
}

function inode(dir: string): number | undefined {
  try {
    const s = statSync(dir);
    return s.isDirectory() ? s.ino : undefined;
  } catch {
    return undefined;
  }
}

const isYaml = (name: string) => /\.ya?ml$/.test(name);

/**
 * What to watch for a project: each config directory for its YAML files (evaluator directories for any file: an
 * evaluator appearing or going changes what validates), interlock.yaml in its directory (by name, so an editor that
 * saves by rename is seen), and, for a configured directory that does not exist, its parent for that name to appear.
 */
function targets(ctx: Context): Map<string, Array<(name: string | null) => boolean>> {
  const p = ctx.project;
  const out = new Map<string, Array<(name: string | null) => boolean>>();
  const add = (dir: string, accepts: (name: string | null) => boolean) => {
    out.set(dir, [...(out.get(dir) ?? []), accepts]);
  };
  const configName = basename(p.configFile);
  add(dirname(p.configFile), (n) => n === null || n === configName);
  const dirs: Array<[string, (n: string) => boolean]> = [
    ...p.config.archetypeDirs.map((d): [string, (n: string) => boolean] => [d, isYaml]),
    ...p.config.pipelineDirs.map((d): [string, (n: string) => boolean] => [d, isYaml]),
    ...p.watcher.calendarDirs.map((d): [string, (n: string) => boolean] => [d, isYaml]),
    ...p.config.evaluatorDirs.map((d): [string, (n: string) => boolean] => [d, (n) => !n.startsWith('.')]),
  ];
  for (const [dir, accepts] of dirs) {
    if (inode(dir) !== undefined) {
      add(dir, (n) => n === null || accepts(n));
    } else if (inode(dirname(dir)) !== undefined) {
      const name = basename(dir);
      add(dirname(dir), (n) => n === null || n === name);
    }
  }
  return out;
}

/**
 * Starts reloading ctx's project when its config files change (node:fs.watch per directory, not recursive: the
 * loader reads only the top level of each directory), debounced; `reload()` is for SIGHUP. After each reload the
 * watched set follows the new config (a directory added to pipelineDirs is watched from then on). Close it on
 * shutdown. A watch that fails (the directory was removed) triggers a reload, which watches what exists now.
 */
export function startConfigReloader(ctx: Context, opts: ConfigReloaderOptions = {}): ConfigReloader {
  const debounceMs = opts.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS;
  const watchFiles = opts.watchFiles ?? true;
  const watchers = new Map<string, Watched>();
  let closed = false;
  let timer: TimerHandle | undefined;
  let running: Promise<ReloadResult> | undefined;
  let queued: Promise<ReloadResult> | undefined;

  const schedule = () => {
    if (closed) return;
    ctx.clock.clearTimeout(timer);
    timer = ctx.clock.setTimeout(() => {
      timer = undefined;
      void reload('file change');
    }, debounceMs);
  };

  const unwatch = (dir: string) => {
    watchers.get(dir)?.watcher.close();
    watchers.delete(dir);
  };

  const sync = () => {
    if (closed || !watchFiles) return;
    const want = targets(ctx);
    for (const [dir, w] of watchers) {
      if (!want.has(dir) || inode(dir) !== w.ino) unwatch(dir);
    }
    for (const [dir, filters] of want) {
      const accepts = (n: string | null) => filters.some((f) => f(n));
      const have = watchers.get(dir);
      if (have) {
        have.accepts = accepts;
        continue;
      }
      const ino = inode(dir);
      if (ino === undefined) continue;
      try {
        const watcher = watch(dir, { persistent: false });
        const entry: Watched = { ino, watcher, accepts };
        watcher.on('change', (_type, name) => {
          const n = name === null ? null : String(name);
          if (entry.accepts(n)) schedule();
        });
        watcher.on('error', () => {
          if (watchers.get(dir) === entry) unwatch(dir);
          schedule();
        });
        watchers.set(dir, entry);
      } catch (err) {
        ctx.log.warn(`cannot watch ${dir} for config changes: ${(err as Error).message} (SIGHUP still reloads)`);
      }
    }
  };

  const runOnce = async (reason: string): Promise<ReloadResult> => {
    const result = await reloadProject(ctx, { reason });
    sync();
    try {
      opts.onReload?.(result);
    } catch (err) {
      ctx.log.warn(`config reload listener failed: ${(err as Error).message}`);
    }
    return result;
  };

  function reload(reason: string): Promise<ReloadResult> {
    if (!running) {
      const p = runOnce(reason).finally(() => {
        if (running === p) running = undefined;
      });
      running = p;
      return p;
    }
    // One more reload after the running one, shared by everyone who asks meanwhile.
    queued ??= running.then(
      () => {
        queued = undefined;
        return reload(reason);
      },
      () => {
        queued = undefined;
        return reload(reason);
      },
    );
    return queued;
  }

  sync();
  return {
    reload,
    get watched() {
      return [...watchers.keys()].sort();
    },
    close() {
      closed = true;
      ctx.clock.clearTimeout(timer);
      timer = undefined;
      for (const dir of [...watchers.keys()]) unwatch(dir);
    },
  };
}
