// runtime: the use-cases both adapters (CLI, HTTP API) call, and the context they run in.

export * from './add-pipeline.js';
export * from './alerting.js';
export * from './cancel.js';
export * from './complete.js';
export * from './config-reloader.js';
export * from './context.js';
export * from './evaluate.js';
export * from './event-stream.js';
export * from './log-mask.js';
export * from './metrics-feed.js';
export * from './platform-runs.js';
export * from './push.js';
export * from './register.js';
export * from './reload.js';
export * from './retention.js';
export * from './run.js';
export * from './run-outcome.js';
export * from './runs.js';
export * from './scaffold.js';
export * from './status.js';
export * from './tasks.js';
export * from './touch.js';
export * from './unregister.js';
export * from './validate.js';
export * from './why.js';
export * from './windows.js';
