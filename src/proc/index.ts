// proc: process-group spawn with stdin JSON, capped stdout, stderr tail and group kill on timeout.

export { API_TOKEN_ENV, type ChildEnv, childEnv } from './env.js';
export type { JobState, StopOptions } from './job.js';
export { describeJob, describeWhere, jobState, machineId, stopJob, waitGone } from './job.js';
export type { ProcessResult, RunProcessOptions } from './spawn.js';
export { runProcess } from './spawn.js';
