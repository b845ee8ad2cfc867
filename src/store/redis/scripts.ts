// Loads lua/<name>-<numKeys>.lua and registers each as an ioredis command (EVALSHA, EVAL on NOSCRIPT).
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
  | 'list';

interface ScriptDef {
  /** The command name on the client (prefixed so it cannot shadow a real command). */
  command: string;
  /** Fixed key count from the file name; undefined for '-n' (variable: the caller's keys decide). */
  numKeys?: number;
  lua: string;
  readOnly: boolean;
}

const READ_ONLY: ReadonlySet<string> = new Set(['list']);

let cache: Map<string, ScriptDef> | undefined;

/** Reads every lua/*.lua once per process. */
function loadScripts(): Map<string, ScriptDef> {
  if (cache) return cache;
  const defs = new Map<string, ScriptDef>();
  for (const file of readdirSync(LUA_DIR)) {
    const m = /^([a-z][a-z-]*)-(\d+|n)\.lua$/.exec(file);
    if (!m) continue;
    const [, name, keys] = m;
    defs.set(name, {
      command: `interlock_${name.replace(/-/g, '_')}`,
      numKeys: keys === 'n' ? undefined : Number(keys),
      lua: readFileSync(join(LUA_DIR, file), 'utf8'),
      readOnly: READ_ONLY.has(name),
    });
  }
  cache = defs;
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
