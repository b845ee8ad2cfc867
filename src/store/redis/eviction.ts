// The eviction guard: a Redis that may evict keys can silently drop a run's lock, so it is refused unless allowed.
import type { Cluster, Redis } from 'ioredis';
import { InterlockError } from '../../core/errors.js';
import { errorText, type RedisClient } from './connection.js';

/** The only policy under which Redis never drops Interlock's keys on its own (keys without a TTL are safe). */
export const SAFE_POLICY = 'noeviction';

/**
 * One server's maxmemory-policy: CONFIG GET, or INFO memory when CONFIG is renamed, disabled or not permitted
 * (managed Redis services often do that). undefined when neither says.
 */
export async function readEvictionPolicy(node: Redis): Promise<string | undefined> {
  try {
    const reply = await node.call('CONFIG', 'GET', 'maxmemory-policy');
    if (Array.isArray(reply) && reply.length >= 2 && typeof reply[1] === 'string') return reply[1];
  } catch (e) {
    // Only "cannot use CONFIG" falls back to INFO; anything else (connection lost…) is a real failure.
    if (!/unknown command|NOPERM|no permissions|not allowed|disabled/i.test(errorText(e))) throw e;
  }
  try {
    const info = await node.info('memory');
    return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  } catch (e) {
    if (/unknown command|NOPERM|no permissions|not allowed|disabled/i.test(errorText(e))) return undefined;
    throw e;
  }
}

const ADVICE =
  'set `maxmemory-policy noeviction` on the server (redis.conf, or CONFIG SET), or set `redis.allowEviction: true` in interlock.yaml to accept that risk';

/**
 * Refuses (STORE_UNAVAILABLE, exit 3) a Redis whose maxmemory-policy is not noeviction, or whose policy cannot be
 * read: under memory pressure it may evict `…:active` and a second run would fire while the first job still runs.
 * On a cluster every master is checked.
 */
export async function assertNoEviction(client: RedisClient, target: string): Promise<void> {
  const nodes: Redis[] =
    'nodes' in client && typeof (client as Cluster).nodes === 'function' && client.isCluster
      ? (client as Cluster).nodes('master')
      : [client as Redis];
  for (const node of nodes) {
    let policy: string | undefined;
    try {
      policy = await readEvictionPolicy(node);
    } catch (cause) {
      throw new InterlockError(
        'STORE_UNAVAILABLE',
        `cannot read maxmemory-policy of redis at ${target}: ${errorText(cause)}`,
        {
          cause,
          addr: target,
        },
      );
    }
    const where = nodes.length > 1 ? `${target} (node ${node.options.host}:${node.options.port})` : target;
    if (policy === undefined) {
      throw new InterlockError(
        'STORE_UNAVAILABLE',
        `refusing redis at ${where}: cannot read its maxmemory-policy (CONFIG and INFO are both unavailable), so it may evict keys, and an evicted run lock lets a second run fire while the first job still runs; ${ADVICE}`,
        { addr: target },
      );
    }
    if (policy !== SAFE_POLICY) {
      throw new InterlockError(
        'STORE_UNAVAILABLE',
        `refusing redis at ${where}: its maxmemory-policy is '${policy}', so under memory pressure it may evict Interlock's keys, and an evicted run lock lets a second run fire while the first job still runs; ${ADVICE}`,
        { addr: target, policy },
      );
    }
  }
}
