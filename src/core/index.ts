// core: domain types, errors, clock, ids, naming rules, duration and time parsing.

export * from './builtin-config.js';
export * from './clock.js';
export * from './duration.js';
export * from './errors.js';
export * from './expiry.js';
export * from './ids.js';
export * from './invalid.js';
export * from './lists.js';
export * from './names.js';
export * from './run-status.js';
export * from './run-vars.js';
export * from './time.js';
export * from './timeout.js';
export * from './types.js';
