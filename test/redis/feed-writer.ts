// A separate process that writes through its own RedisStore (for redis-change-feed.test.ts):
// `node --import tsx test/redis/feed-writer.ts '<{"addr","keyPrefix","pipeline","openAt"}>'`. Prints one JSON line
// {"startedAt": <epoch ms just before the write>, "ok": <createWindow's answer>} and exits 0, or exits 1 with the
// error on stderr.
import { newWindow } from '../../src/engine/window.js';
import { windowKey } from '../../src/engine/window-key.js';
import { RedisStore } from '../../src/store/redis/index.js';

const { addr, keyPrefix, pipeline, openAt } = JSON.parse(process.argv[2] ?? '{}') as {
  addr: string;
  keyPrefix: string;
  pipeline: string;
  openAt: number;
};
const store = await RedisStore.connect({ addr, keyPrefix, connectTimeoutMs: 3000 });
try {
  const w = newWindow({
    key: windowKey(pipeline, 'daily', openAt),
    pipeline,
    times: { schedule: 'daily', openAt, afterAt: openAt, deadlineAt: openAt + 3_600_000, date: '2023-11-14' },
    mode: 'live',
    now: openAt,
  });
  const startedAt = Date.now();
  const r = await store.createWindow(w);
  process.stdout.write(`${JSON.stringify({ startedAt, ok: r.ok })}\n`);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
} finally {
  await store.close();
}
