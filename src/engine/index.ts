// engine: the pure functional core (readiness, trait resolution, trait state, schedules and windows, alert rules). No I/O, no clock reads.
export * from './alert-rules.js';
export * from './catch-up.js';
export * from './due.js';
export * from './exclusions.js';
export * from './local-time.js';
export * from './readiness.js';
export * from './resolve-traits.js';
export * from './retry.js';
export * from './run-state.js';
export * from './schedule.js';
export * from './sla.js';
export * from './sla-due.js';
export * from './trait-state.js';
export * from './why.js';
export * from './window.js';
export * from './window-key.js';
