// core: domain types, errors, clock, ids, naming rules.
export * from './errors.js';
export * from './types.js';
export * from './clock.js';
export * from './ids.js';
export * from './names.js';
