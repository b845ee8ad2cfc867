// store/sqlite: the embedded default store.
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
