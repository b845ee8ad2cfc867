import { storeConformance } from '../../../test/store-conformance.js';
import { MemoryStore } from './memory-store.js';

storeConformance('memory', { open: async () => new MemoryStore() });
