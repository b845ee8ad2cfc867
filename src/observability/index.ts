// Observability: the logger interface (later metrics, fed by the event bus).
export * from './logger.js';
