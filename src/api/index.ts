// api: the HTTP API (hono + @hono/zod-openapi) over the runtime use-cases, and the server that listens with it.
export { type ApiOptions, createApi } from './app.js';
export { type ErrorBody, errorResponse } from './errors.js';
export { type MetricsServer, startMetricsServer } from './metrics-server.js';
export { type RunningServer, type StartOptions, startServer } from './server.js';
