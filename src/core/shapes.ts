// The shapes shared by config, engine, API and alert sinks, declared once as zod schemas: the TS types in
// core/types.ts are inferred from them, the API (api/schemas.ts) serves them, and config's input forms
// (config/schema.ts) must have the same fields (test/lists.test.ts checks).
import { z } from 'zod';
import {
  AIRFLOW_API_VERSIONS,
  ALERT_KINDS,
  ALERT_LEVELS,
  FAILURE_CATEGORIES,
  TRIGGER_TYPES,
  UCA_CATEGORIES,
} from './lists.js';

/** A command trigger after resolution (durations in seconds). */
export const commandTriggerSpecSchema = z.object({
  type: z.literal('command'),
  command: z.string(),
  timeout: z.number().optional(),
  maxRunSeconds: z.number().optional(),
  /** Environment variables passed to the command besides the minimal set; their values are masked. */
  env: z.array(z.string()).optional(),
});

/** An http trigger after resolution (durations in seconds). */
export const httpTriggerSpecSchema = z.object({
  type: z.literal('http'),
  method: z.string().optional(),
  url: z.string(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  timeout: z.number().optional(),
  async: z.boolean().optional(),
  maxRunSeconds: z.number().optional(),
});

/** An Airflow trigger after resolution (durations in seconds): a DAG run per Interlock run, polled to its end. */
export const airflowTriggerSpecSchema = z.object({
  type: z.literal('airflow'),
  /** The webserver's base URL (without /api/v1); may contain ${VAR}s. */
  url: z.string(),
  dag: z.string(),
  /** The DAG run's conf; string values may contain ${VAR}s. Interlock adds its own under `interlock`. */
  conf: z.record(z.string(), z.unknown()).optional(),
  /** `bearer`, or `username` + `password`; values may be ${VAR}s. */
  auth: z
    .object({ bearer: z.string().optional(), username: z.string().optional(), password: z.string().optional() })
    .optional(),
  apiVersion: z.enum(AIRFLOW_API_VERSIONS).optional(),
  timeout: z.number().optional(),
  maxRunSeconds: z.number().optional(),
  /** Seconds between polls of the DAG run's state. */
  poll: z.number().optional(),
});

/** A Databricks trigger after resolution (durations in seconds): a Jobs API 2.1 run-now per run, polled to its end. */
export const databricksTriggerSpecSchema = z.object({
  type: z.literal('databricks'),
  /** The workspace URL (https://adb-123.azuredatabricks.net); may contain ${VAR}s. */
  host: z.string(),
  jobId: z.number(),
  /** The run's job_parameters; values may contain ${VAR}s. */
  parameters: z.record(z.string(), z.string()).optional(),
  /** A personal access or OAuth token, sent as a bearer token; e.g. ${DATABRICKS_TOKEN}. */
  token: z.string(),
  timeout: z.number().optional(),
  maxRunSeconds: z.number().optional(),
  poll: z.number().optional(),
});

/** Where an AWS trigger's calls go and as whom: region, shared-config profile, an endpoint override (LocalStack, tests). */
const awsTarget = {
  /** The AWS region; else AWS_REGION / AWS_DEFAULT_REGION / the profile's region. */
  region: z.string().optional(),
  /** A profile of the shared config and credentials files. */
  profile: z.string().optional(),
  /** An endpoint override (http(s) URL), e.g. LocalStack. */
  endpoint: z.string().optional(),
  timeout: z.number().optional(),
  maxRunSeconds: z.number().optional(),
};

/** A Glue trigger after resolution: StartJobRun with the run key in `--interlock-run-key`, GetJobRun polled. */
export const glueTriggerSpecSchema = z.object({
  type: z.literal('glue'),
  job: z.string(),
  /** The job run's Arguments; values may contain ${VAR}s. */
  arguments: z.record(z.string(), z.string()).optional(),
  ...awsTarget,
  poll: z.number().optional(),
});

/** A Step Functions trigger after resolution: StartExecution named after the run key, DescribeExecution polled. */
export const stepFunctionsTriggerSpecSchema = z.object({
  type: z.literal('stepfunctions'),
  stateMachineArn: z.string(),
  /** The execution's input (a JSON object); string values may contain ${VAR}s. */
  input: z.record(z.string(), z.unknown()).optional(),
  ...awsTarget,
  poll: z.number().optional(),
});

/** A Lambda trigger after resolution: one synchronous Invoke (RequestResponse) is the whole job. */
export const lambdaTriggerSpecSchema = z.object({
  type: z.literal('lambda'),
  function: z.string(),
  /** The event (a JSON object); string values may contain ${VAR}s. */
  payload: z.record(z.string(), z.unknown()).optional(),
  ...awsTarget,
});

/** A resolved trigger: one variant per entry of TRIGGER_TYPES. */
export const triggerSpecSchema = z.union([
  commandTriggerSpecSchema,
  httpTriggerSpecSchema,
  airflowTriggerSpecSchema,
  databricksTriggerSpecSchema,
  glueTriggerSpecSchema,
  stepFunctionsTriggerSpecSchema,
  lambdaTriggerSpecSchema,
]);

/** The job a native trigger started on its platform, as the run records it. */
export const platformRunSchema = z.object({
  /** The native trigger type that started it (one of NATIVE_TRIGGER_TYPES). */
  type: z.enum(TRIGGER_TYPES),
  /** The platform's id of the job (Airflow: dag_run_id; Databricks: run_id; Glue: JobRunId; Step Functions: executionArn). */
  id: z.string(),
  /** The platform's last reported state (Airflow: queued, running, success, failed; Databricks: life_cycle_state[/result_state]; Glue: JobRunState; Step Functions: status). */
  state: z.string().optional(),
  /** epoch ms of the last poll (or of the trigger). */
  polledAt: z.number().optional(),
  /** Airflow: the API version in use. */
  apiVersion: z.string().optional(),
});

/** What a trigger call produced. Secrets are already redacted. */
export const triggerOutcomeSchema = z.object({
  type: z.enum(TRIGGER_TYPES),
  /** true = the target accepted/finished; false = it failed (see fields). */
  ok: z.boolean(),
  /** The run should stay RUNNING until a completion callback (an accepted async http trigger). */
  async: z.boolean(),
  durationMs: z.number(),
  /** command: exit code / signal. */
  exitCode: z.number().int().nullable().optional(),
  signal: z.string().nullable().optional(),
  timedOut: z.boolean().optional(),
  stdoutTail: z.string().optional(),
  stderrTail: z.string().optional(),
  /** http: method, url (template form, secrets redacted), response status and the first 512 bytes of the body. */
  method: z.string().optional(),
  url: z.string().optional(),
  httpStatus: z.number().int().optional(),
  bodyExcerpt: z.string().optional(),
  /** Why it failed, for humans. */
  error: z.string().optional(),
  /** http, failed: whether the request left Interlock before the failure (then the target may have started the job). */
  requestSent: z.boolean().optional(),
  /** Failed: the failure category retries go by (TRANSIENT, PERMANENT, TIMEOUT, UNKNOWN). */
  category: z.enum(FAILURE_CATEGORIES).optional(),
  /** Native triggers: the platform's job id (Airflow dag_run_id), its state when triggered, the API version. */
  platformRunId: z.string().optional(),
  platformState: z.string().optional(),
  apiVersion: z.string().optional(),
  /** Native triggers: the job already existed under this run's key (a repeat), and was adopted, not re-created. */
  adopted: z.boolean().optional(),
  /** Native triggers: the first outcome was UNKNOWN and the platform was then asked by the run key (found: adopted). */
  reconciled: z.boolean().optional(),
});

/** An alert as every sink receives it. */
export const alertSchema = z.object({
  level: z.enum(ALERT_LEVELS),
  kind: z.enum(ALERT_KINDS),
  pipeline: z.string(),
  runId: z.string().optional(),
  /** The schedule window the alert concerns (`<pipeline>@<schedule>@<ISO>`), when it concerns one. */
  window: z.string().optional(),
  trait: z.string().optional(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
  /** epoch ms */
  timestamp: z.number(),
  uca: z.object({ category: z.enum(UCA_CATEGORIES), description: z.string() }),
});
