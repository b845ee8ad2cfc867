// Store identity: a random id kept in Redis and remembered per project, so a Redis that lost its data (FLUSHALL,
// eviction, a restart without persistence) is refused instead of read as a fresh, empty store with no lock held.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InterlockError } from '../../core/errors.js';
import type { RedisClient } from './connection.js';

/** The file under `stateDir` that remembers the id of the store at `target` + `prefix`. */
export function identityFile(stateDir: string, target: string, prefix: string): string {
  const h = createHash('sha256').update(`${target}\u0000${prefix}`).digest('hex').slice(0, 16);
  return join(stateDir, `redis-store-${h}.id`);
}

/**
 * Reads `<prefix>store-id` (creating it once, SET NX, on a new store) and compares it with the id this project saw
 * last (remembered in `stateDir`). A missing or different id where one was remembered means the data this project
 * wrote is gone — and with it every run lock: STORE_UNAVAILABLE until an operator removes the file.
 */
export async function checkIdentity(
  client: RedisClient,
  key: string,
  target: string,
  prefix: string,
  stateDir: string,
): Promise<void> {
  const file = identityFile(stateDir, target, prefix);
  const known = existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  let current = await client.get(key);
  if (known && current !== known) {
    const what = current === null ? 'is gone' : `was replaced by '${current}'`;
    throw new InterlockError(
      'STORE_UNAVAILABLE',
      `refusing redis at ${target}: it lost its data — the store id this project last saw ('${known}') ${what} (FLUSHALL, eviction, or a restart without persistence). Every run lock went with it: a job started before may still be running. Check that none is, then delete ${file} to accept the store as it is now.`,
      { addr: target },
    );
  }
  if (current === null) {
    await client.set(key, randomUUID(), 'NX');
    current = await client.get(key);
  }
  if (!known && current !== null) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${current}\n`, { mode: 0o600 });
  }
}
