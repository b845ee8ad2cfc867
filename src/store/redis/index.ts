// store/redis: the Redis store (standalone or cluster) and its options.
export type { RedisConnectionOptions } from './connection.js';
export { DEFAULT_KEY_PREFIX, RedisStore, type RedisStoreOptions } from './redis-store.js';
