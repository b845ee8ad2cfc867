// Opens an ioredis client (standalone or cluster) that connects within a deadline and then fails fast when down.
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { type Clock, systemClock } from '../../core/clock.js';
import { InterlockError } from '../../core/errors.js';
import { withTimeout } from '../../core/timeout.js';

/** How to reach Redis. Mirrors the `redis` block of interlock.yaml (src/config/schema.ts). */
export interface RedisConnectionOptions {
  /** host:port; default localhost:6379. */
  addr?: string;
  /** redis:// or rediss:// URL; overrides addr, password, db and tls. */
  url?: string;
  password?: string;
  db?: number;
  tls?: boolean;
  /** Cluster seed nodes as host:port; when set, an ioredis Cluster is used (addr, url and db are ignored). */
  cluster?: string[];
  /** How long connect() may take, ms; default 5000. */
  connectTimeoutMs?: number;
  /** Longest a single command may wait for its reply, ms; default 5000. The last guard against a hang. */
  commandTimeoutMs?: number;
  /** Bounds the wait for the first connection (default: the host's clock). */
  clock?: Clock;
}

export type RedisClient = Redis | Cluster;

export const DEFAULT_ADDR = 'localhost:6379';
const DEFAULT_TIMEOUT_MS = 5000;

/** Reconnect backoff of a long-running process: 100 ms, 200 ms, … capped at 2 s, forever. */
export const reconnectDelay = (attempt: number): number => Math.min(attempt * 100, 2000);

/** Parses host:port, [v6]:port, or a bare host (port 6379). */
export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:[\]]*):(\d+)$/.exec(addr);
  const host = m ? m[1] || 'localhost' : addr;
  const port = m ? Number(m[2]) : 6379;
  if (!host || /[\s/]/.test(host) || (!m && host.includes(':')) || !(port >= 1 && port <= 65535)) {
    throw new InterlockError('CONFIG_INVALID', `redis address '${addr}' is not host:port`);
  }
  return { host, port };
}

/** Where we connect, for messages: the URL without its password, the address, or the cluster seeds. */
export function describeTarget(opts: RedisConnectionOptions): string {
  if (opts.cluster?.length) return opts.cluster.join(',');
  if (opts.url) {
    try {
      const u = new URL(opts.url);
      if (u.password) u.password = '***';
      return u.toString();
    } catch {
      return '<invalid url>';
    }
  }
  return opts.addr ?? DEFAULT_ADDR;
}

function build(opts: RedisConnectionOptions): RedisClient {
  const connectTimeout = opts.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Shared by both client kinds. The offline queue stays on only until the first 'ready' (see openClient).
  const common = {
    lazyConnect: true,
    connectTimeout,
    commandTimeout: opts.commandTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    // A command that cannot be written is retried across at most one reconnect, then rejected.
    maxRetriesPerRequest: 1,
    // Never re-send a command that was in flight when the connection dropped: a script may already have run,
    // and running createRun/casRun/saveEvaluation twice would turn a success into a refusal or a duplicate.
    // Such a command is rejected (MaxRetriesPerRequest or commandTimeout) and the caller sees STORE_UNAVAILABLE.
    autoResendUnfulfilledCommands: false,
    // disconnect() ends the socket and waits this long for its 'close' before destroying it. A socket that already
    // closed (connection refused, Redis gone) never closes again, and ioredis' default 2 s timer then kept a failed
    // CLI alive 2 s after its error.
    disconnectTimeout: 100,
  } satisfies RedisOptions;
  const auth = {
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.tls ? { tls: {} } : {}),
  };
  if (opts.cluster?.length) {
    if (opts.db) throw new InterlockError('CONFIG_INVALID', 'redis.db must be 0 (or unset) with redis.cluster');
    const clusterOpts: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: true,
      clusterRetryStrategy: reconnectDelay,
      redisOptions: { ...common, ...auth },
    };
    return new Cluster(
      opts.cluster.map((a) => parseAddr(a)),
      clusterOpts,
    );
  }
  const redisOpts: RedisOptions = { ...common, enableOfflineQueue: true, retryStrategy: reconnectDelay };
  if (opts.url) return new Redis(opts.url, redisOpts);
  return new Redis({ ...redisOpts, ...parseAddr(opts.addr ?? DEFAULT_ADDR), ...auth, db: opts.db ?? 0 });
}

const FATAL = /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username/i;

/**
 * Connects, or rejects within connectTimeoutMs with STORE_UNAVAILABLE ("cannot reach redis at …"). Until then a
 * refused connection is retried (Redis may be starting); a bad password fails at once. Once up, the offline queue
 * is switched off so a command while Redis is down fails fast instead of waiting; the retry strategy keeps
 * reconnecting in the background, and the same client works again when Redis is back.
 */
export async function openClient(opts: RedisConnectionOptions): Promise<{ client: RedisClient; target: string }> {
  const target = describeTarget(opts);
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  let client: RedisClient;
  try {
    client = build(opts);
  } catch (cause) {
    if (cause instanceof InterlockError) throw cause;
    throw new InterlockError('CONFIG_INVALID', `bad redis options for ${target}: ${errorText(cause)}`, { cause });
  }

  let lastError: unknown;
  const remember = (e: unknown) => {
    lastError = e;
  };
  // Kept for the client's life: an ioredis 'error' without a listener is printed to the console.
  client.on('error', remember);
  client.on('node error', remember);

  try {
    let onReady: (() => void) | undefined;
    let onError: ((e: unknown) => void) | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      onReady = () => resolve();
      onError = (e: unknown) => {
        if (FATAL.test(errorText(e))) reject(e);
      };
      client.once('ready', onReady);
      client.on('error', onError);
      // A first failure rejects this promise; the retry strategy keeps trying until 'ready' or the deadline.
      client.connect().catch((e: unknown) => {
        lastError ??= e; // keep the first, most telling error (ECONNREFUSED…), not "Connection is closed."
      });
    });
    await withTimeout(ready, timeoutMs, opts.clock ?? systemClock, () => {
      throw lastError ?? new Error(`no answer within ${timeoutMs} ms`);
    }).finally(() => {
      if (onReady) client.off('ready', onReady);
      if (onError) client.off('error', onError);
    });
  } catch (cause) {
    client.disconnect();
    throw new InterlockError('STORE_UNAVAILABLE', `cannot reach redis at ${target}: ${errorText(cause)}`, {
      cause,
      addr: target,
    });
  }
  client.options.enableOfflineQueue = false;
  return { client, target };
}

/** The message of a thrown value; ioredis cluster errors carry the real cause in lastNodeError. */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const node = (e as { lastNodeError?: unknown }).lastNodeError;
    return node instanceof Error ? `${e.message} (${node.message})` : e.message;
  }
  return String(e);
}
