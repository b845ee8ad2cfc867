// One trigger wins over HTTP, on Redis: two servers, two connections, one real redis-server.
import { afterAll, beforeAll } from 'vitest';
import { type RedisServer, requireRedis, startRedis } from '../support/redis.js';
import { concurrentRunSuite } from './race.js';

let redis: RedisServer;
beforeAll(async () => {
  requireRedis();
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.destroy();
});

concurrentRunSuite(
  'redis',
  () => `provider: redis\nredis:\n  addr: ${redis.addr}\n  keyPrefix: "race${Math.random().toString(36).slice(2)}:"\n`,
);
