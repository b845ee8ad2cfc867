// The Redis change feed across processes and outages: a write by another process (its own node, its own RedisStore)
// reaches a listener here within a second, and the feed carries on after the redis-server is restarted under it.
// This file starts its own redis-server (it restarts it), shared by no other file.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/index.js';
import type { StoreChange } from '../../src/store/types.js';
import { window } from '../store-conformance-watch.js';
import { REPO } from '../support/paths.js';
import { sleep, waitFor } from '../support/poll.js';
import { type RedisServer, startRedis } from '../support/redis.js';

const T0 = 1_700_000_000_000;
let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
}, 30_000);
afterAll(async () => {
  await server?.destroy();
});

/** Runs test/redis/feed-writer.ts in a child `node` process: one createWindow through its own store. */
function writeFromChild(opts: {
  keyPrefix: string;
  pipeline: string;
  openAt?: number;
}): Promise<{ startedAt: number; ok: boolean }> {
  const args = ['--import', 'tsx', join(REPO, 'test', 'redis', 'feed-writer.ts')];
  args.push(JSON.stringify({ addr: server.addr, openAt: T0, ...opts }));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: REPO, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`feed writer failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim()) as { startedAt: number; ok: boolean });
    });
  });
}

/** A listener that records what arrived, and when. */
function recorder(store: RedisStore) {
  const seen: Array<StoreChange & { at: number }> = [];
  const stop = store.watchChanges((c) => seen.push({ ...c, at: Date.now() }));
  return { seen, stop, has: (p: string) => seen.some((c) => c.pipeline === p) };
}

/** Writes (and rewrites, while nothing arrives) until the listener sees `pipeline`: proves the feed is live. */
async function untilLive(writer: RedisStore, has: (p: string) => boolean, pipeline: string, ms: number) {
  let n = 0;
  await waitFor(`a notification for ${pipeline}`, ms, async () => {
    if (has(pipeline)) return true;
    // A write may fail while the client reconnects: that is the outage, try again.
    await writer.createWindow(window(pipeline, T0 + n++ * 60_000)).catch(() => undefined);
    await sleep(100);
    return has(pipeline);
  });
}

describe('redis change feed across processes', () => {
  it('a write by another node process reaches a listener here within 1 s, with its kind and pipeline', async () => {
    const keyPrefix = `feed-${randomUUID().slice(0, 8)}:`;
    const store = await RedisStore.connect({ addr: server.addr, keyPrefix, connectTimeoutMs: 3000 });
    const feed = recorder(store);
    try {
      await untilLive(store, feed.has, 'warm-up', 5000);
      const written = await writeFromChild({ keyPrefix, pipeline: 'from-child' });
      expect(written.ok).toBe(true);
      await waitFor('the child write to be notified', 1000, async () => feed.has('from-child'));
      const got = feed.seen.find((c) => c.pipeline === 'from-child');
      expect(got?.kind).toBe('window');
      expect((got?.at ?? Number.POSITIVE_INFINITY) - written.startedAt).toBeLessThan(1000);
      // Another prefix is another store: its writes are not this feed's.
      await writeFromChild({ keyPrefix: `other-${keyPrefix}`, pipeline: 'elsewhere' });
      await sleep(300);
      expect(feed.has('elsewhere')).toBe(false);
    } finally {
      feed.stop();
      await store.close();
    }
  }, 60_000);

  it('the feed survives a redis-server restart: the subscriber reconnects and subscribes again', async () => {
    const keyPrefix = `feed-${randomUUID().slice(0, 8)}:`;
    const listener = await RedisStore.connect({ addr: server.addr, keyPrefix, connectTimeoutMs: 3000 });
    const feed = recorder(listener);
    try {
      await untilLive(listener, feed.has, 'before', 5000);
      const pid = server.pid;
      await server.restart();
      expect(server.pid).not.toBe(pid);
      // A fresh process writes once the server is back; the listener's subscription must be back too.
      // Each try writes a new window (a second create of one key is refused, and a refusal publishes nothing).
      let n = 0;
      await waitFor('a notification after the restart', 20_000, async () => {
        if (feed.has('after-restart')) return true;
        const openAt = T0 + n++ * 60_000;
        await writeFromChild({ keyPrefix, pipeline: 'after-restart', openAt }).catch(() => undefined);
        await sleep(200);
        return feed.has('after-restart');
      });
      // And writes through the listener's own (reconnected) client are notified as before.
      await untilLive(listener, feed.has, 'own-after-restart', 10_000);
    } finally {
      feed.stop();
      await listener.close();
    }
  }, 60_000);
});
