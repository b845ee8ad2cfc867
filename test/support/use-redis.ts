// One redis-server per test file (or describe block): started in beforeAll, destroyed in afterAll (vitest).
import { afterAll, beforeAll } from 'vitest';
import { type RedisServer, requireRedis, startRedis } from './redis.js';

/** What useRedis returns: `.server` is the running server once beforeAll has run. */
export interface UsedRedis {
  readonly server: RedisServer;
}

/**
 * Registers beforeAll/afterAll hooks in the current scope that start a single redis-server and destroy it.
 * A missing redis-server fails the hook (requireRedis), so the tests in scope fail; they never skip.
 */
export function useRedis(opts: { extraArgs?: string[] } = {}): UsedRedis {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    requireRedis();
    server = await startRedis(opts);
  });
  afterAll(async () => {
    await server?.destroy();
  });
  return {
    get server(): RedisServer {
      if (!server) throw new Error('useRedis: redis-server is not started (read .server inside a test or hook)');
      return server;
    },
  };
}
