// core: domain types, errors, clock, ids, naming rules.

export * from './clock.js';
export * from './errors.js';
export * from './ids.js';
export * from './names.js';
export * from './run-status.js';
export * from './types.js';
