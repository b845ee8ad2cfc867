// store: the port, and createStore() which picks a backend by config and imports it lazily.
import type { Clock } from '../core/clock.js';
import { InterlockError } from '../core/errors.js';
import type { PostgresStoreOptions } from './postgres/index.js';
import type { RedisStoreOptions } from './redis/index.js';
import type { Store } from './types.js';

export type {
  AlertClaim,
  AlertKey,
  CasOptions,
  CasResult,
  CreateRunResult,
  EvaluationWrite,
  Lease,
  LeaseFence,
  LeaseResult,
  ListOptions,
  Store,
  StoreChange,
  StoredPipeline,
  WindowListOptions,
  WindowWriteResult,
} from './types.js';
export { runEvent } from './types.js';

export interface StoreConfig {
  provider: 'sqlite' | 'redis' | 'postgres' | 'memory';
  sqlite?: { path: string };
  /** url (already ${VAR}-expanded), schema, poolSize, connectTimeout (seconds): see PostgresStoreOptions. */
  postgres?: Omit<PostgresStoreOptions, 'clock' | 'url'> & { url?: string | undefined; connectTimeout?: number };
  /** addr (host:port), url, password, db, tls, keyPrefix, cluster seeds, connectTimeoutMs: see RedisStoreOptions. */
  redis?: RedisStoreOptions & { connectTimeout?: number };
  /** The store's timers and timestamps (default: the host's clock). */
  clock?: Clock;
}

/** Opens the configured store. Backends load lazily so the CLI starts fast. */
export async function createStore(cfg: StoreConfig): Promise<Store> {
  switch (cfg.provider) {
    case 'memory': {
      const { MemoryStore } = await import('./memory/index.js');
      return new MemoryStore();
    }
    case 'sqlite': {
      const { SqliteStore } = await import('./sqlite/index.js');
      if (!cfg.sqlite?.path) throw new InterlockError('CONFIG_INVALID', 'sqlite.path is not set');
      return new SqliteStore({ path: cfg.sqlite.path, ...(cfg.clock ? { clock: cfg.clock } : {}) });
    }
    case 'redis': {
      const { RedisStore } = await import('./redis/index.js');
      const { connectTimeout, ...opts } = cfg.redis ?? {};
      const ms = connectTimeout !== undefined ? connectTimeout * 1000 : undefined;
      return RedisStore.connect({
        ...opts,
        ...(cfg.clock ? { clock: cfg.clock } : {}),
        connectTimeoutMs: opts.connectTimeoutMs ?? ms,
        commandTimeoutMs: opts.commandTimeoutMs ?? ms,
      });
    }
    case 'postgres': {
      const { PostgresStore } = await import('./postgres/index.js');
      const { connectTimeout, url, ...opts } = cfg.postgres ?? {};
      if (!url) throw new InterlockError('CONFIG_INVALID', 'postgres.url is not set');
      const ms = connectTimeout !== undefined ? connectTimeout * 1000 : undefined;
      return PostgresStore.connect({
        ...opts,
        url,
        ...(cfg.clock ? { clock: cfg.clock } : {}),
        ...((opts.connectTimeoutMs ?? ms) !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs ?? ms } : {}),
      });
    }
    default:
      throw new InterlockError('CONFIG_INVALID', `unknown provider '${String((cfg as StoreConfig).provider)}'`);
  }
}
