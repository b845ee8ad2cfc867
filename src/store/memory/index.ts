// store/memory: the in-memory store.
export { MemoryStore } from './memory-store.js';
