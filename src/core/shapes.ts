// The shapes shared by config, engine, API and alert sinks, declared once as zod schemas: the TS types in
// core/types.ts are inferred from them, the API (api/schemas.ts) serves them, and config's input forms
// (config/schema.ts) must have the same fields (test/lists.test.ts checks).
import { z } from 'zod';
import { ALERT_KINDS, ALERT_LEVELS, FAILURE_CATEGORIES, TRIGGER_TYPES, UCA_CATEGORIES } from './lists.js';

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

/** A resolved trigger: one variant per entry of TRIGGER_TYPES. */
export const triggerSpecSchema = z.union([commandTriggerSpecSchema, httpTriggerSpecSchema]);

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
