// store/postgres: the PostgreSQL store (several hosts on one database) and its options.
export {
  DEFAULT_POOL_SIZE,
  DEFAULT_SCHEMA,
  PostgresStore,
  type PostgresStoreOptions,
  SCHEMA_PATTERN,
} from './postgres-store.js';
