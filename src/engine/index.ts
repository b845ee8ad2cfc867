// engine: the pure functional core (readiness, trait resolution, trait state). No I/O, no clock reads.
export * from './readiness.js';
export * from './resolve-traits.js';
export * from './run-state.js';
export * from './trait-state.js';
