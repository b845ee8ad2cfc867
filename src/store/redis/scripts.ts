// Loads lua/<name>-<numKeys>.lua, splices in their `--- @include "<name>"` lines (lua/includes/<name>.lua), and
// registers each as an ioredis command (EVALSHA, EVAL on NOSCRIPT).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';
import { InterlockError } from '../../core/errors.js';

const LUA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'lua');

/** The scripts this store runs; each name is a file lua/<name>-<numKeys>.lua. */
export type ScriptName =
  | 'create-run'
  | 'cas-run'
  | 'release-lock'
  | 'lock-for-delete'
  | 'unlock-delete'
  | 'save-evaluation'
  | 'claim-alert'
  | 'list'
  | 'put-pipeline'
  | 'delete-pipeline'
  | 'create-window'
  | 'cas-window'
  | 'list-windows'
  | 'window-heads'
  | 'acquire-lease'
  | 'release-lease'
  | 'prune-runs'
  | 'prune-windows';

export interface ScriptDef {
  /** The command name on the client (prefixed so it cannot shadow a real command). */
  command: string;
  /** Fixed key count from the file name; undefined for '-n' (variable: the caller's keys decide). */
  numKeys?: number;
  lua: string;
  readOnly: boolean;
}

const READ_ONLY: ReadonlySet<string> = new Set(['list', 'list-windows', 'window-heads']);

const INCLUDE = /^--- @include "([^"]*)"[ \t]*$/gm;

/**
 * Replaces each `--- @include "<name>"` line of `source` with lua/includes/<name>.lua (itself resolved the same way),
 * each include at most once per script (a later line naming it again is dropped). A missing include, or one that
 * includes itself, is an INTERNAL error: a script must never run without the code it names.
 */
export function resolveIncludes(
  script: string,
  source: string,
  readInclude: (name: string) => string | undefined,
  done: Set<string> = new Set(),
  stack: string[] = [],
): string {
  return source.replace(INCLUDE, (_line, name: string) => {
    if (stack.includes(name)) {
      throw new InterlockError('INTERNAL', `redis script '${script}': include cycle ${[...stack, name].join(' -> ')}`);
    }
    if (done.has(name)) return '';
    const text = /^[a-z][a-z-]*$/.test(name) ? readInclude(name) : undefined;
    if (text === undefined) {
      throw new InterlockError(
        'INTERNAL',
        `redis script '${script}' includes '${name}', which is not in lua/includes`,
        {
          script,
          include: name,
        },
      );
    }
    done.add(name);
    return resolveIncludes(script, text, readInclude, done, [...stack, name]).replace(/\n$/, '');
  });
}

let cache: Map<string, ScriptDef> | undefined;

/** Reads every <dir>/*.lua with its includes resolved (once per process for the store's own folder). */
export function loadScripts(dir: string = LUA_DIR): Map<string, ScriptDef> {
  if (dir === LUA_DIR && cache) return cache;
  const includes = join(dir, 'includes');
  const readInclude = (name: string): string | undefined => {
    try {
      return readFileSync(join(includes, `${name}.lua`), 'utf8');
    } catch {
      return undefined;
    }
  };
  const defs = new Map<string, ScriptDef>();
  for (const file of readdirSync(dir)) {
    const m = /^([a-z][a-z-]*)-(\d+|n)\.lua$/.exec(file);
    if (!m) continue;
    const [, name, keys] = m;
    defs.set(name, {
      command: `interlock_${name.replace(/-/g, '_')}`,
      numKeys: keys === 'n' ? undefined : Number(keys),
      lua: resolveIncludes(name, readFileSync(join(dir, file), 'utf8'), readInclude),
      readOnly: READ_ONLY.has(name),
    });
  }
  if (dir === LUA_DIR) cache = defs;
  return defs;
}

type ScriptFn = (...args: Array<string | number>) => Promise<unknown>;

/** Runs the store's scripts on one client. */
export class Scripts {
  private readonly defs: Map<string, ScriptDef>;

  constructor(private readonly client: Redis | Cluster) {
    this.defs = loadScripts();
    for (const d of this.defs.values()) {
      // numberOfKeys is left out on purpose: run() always passes the key count, which also serves '-n' scripts.
      client.defineCommand(d.command, { lua: d.lua, readOnly: d.readOnly });
    }
  }

  /** Runs a script; checks the key count against the file name so a caller bug fails loudly, not silently. */
  run(name: ScriptName, keys: string[], args: Array<string | number>): Promise<unknown> {
    const d = this.defs.get(name);
    if (!d) throw new InterlockError('INTERNAL', `redis script '${name}' is missing from ${LUA_DIR}`);
    if (d.numKeys !== undefined && keys.length !== d.numKeys) {
      throw new InterlockError('INTERNAL', `redis script '${name}' takes ${d.numKeys} keys, got ${keys.length}`);
    }
    const fn = (this.client as unknown as Record<string, ScriptFn>)[d.command];
    return fn.call(this.client, keys.length, ...keys, ...args);
  }
}
