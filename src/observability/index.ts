// Observability: the logger interface and its stderr and JSON (pino, loaded lazily) forms. Metrics (prom-client) are
// in metrics.ts, imported by `serve` only.
export * from './json-logger.js';
export * from './logger.js';
