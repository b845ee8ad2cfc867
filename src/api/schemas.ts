// Zod schemas of the HTTP API: they validate requests and, through @hono/zod-openapi, generate /api/openapi.json.
import { z } from '@hono/zod-openapi';
import { pipelineDocumentSchema } from '../config/schema.js';
import { DURATION_FORMS, parseDuration } from '../core/duration.js';
import {
  DECISION_SOURCES,
  EVAL_STATUSES,
  FAILURE_CATEGORIES,
  OUTCOMES,
  PIPELINE_ORIGINS,
  READINESS_RULES,
  REASON_CODES,
  TRAIT_STATES,
  TRIGGER_TYPES,
} from '../core/lists.js';
import { RUN_STATUSES } from '../core/run-status.js';
import { platformRunSchema, triggerOutcomeSchema, triggerSpecSchema } from '../core/shapes.js';
import { parseTime, TIME_FORMS } from '../core/time.js';
import { MAX_PUSH_REASON_CHARS } from '../runtime/push.js';
import { ATTEMPT_RESULTS, CATCHUP_POLICIES, WINDOW_STATES } from '../runtime/windows.js';

// ---------------------------------------------------------------- shared pieces

const epochMs = z.number().int().openapi({ description: 'epoch milliseconds' });
const jsonObject = z.record(z.string(), z.unknown());

/**
 * A component that may be null here: `anyOf: [{$ref}, {type: 'null'}]`. Not `.nullable()`, which renders a named
 * component as `allOf: [{$ref}, {type: [object, null]}]` (null fails the $ref) and can mark the component itself
 * nullable everywhere it is used.
 */
const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'PIPELINE_NOT_FOUND' }),
      message: z.string(),
      details: jsonObject.optional().openapi({
        description:
          'Depends on the code: problems (400/403), runId and run (409), blocking traits (412), pipeline, trait…',
      }),
    }),
  })
  .openapi('Error');

export const HealthSchema = z.object({ status: z.enum(['ok', 'degraded']) }).openapi('Health');

const runStatus = z.enum(RUN_STATUSES);
const source = z.enum(DECISION_SOURCES);
const traitState = z.enum(TRAIT_STATES);
const outcome = z.enum(OUTCOMES);
const reasonCode = z.enum(REASON_CODES);
const triggerType = z.enum(TRIGGER_TYPES);

// Cloned: the core schema may have been built before @hono/zod-openapi extended zod (see PipelineDocument).
export const TriggerOutcomeSchema = triggerOutcomeSchema.clone().openapi('TriggerOutcome');

export const JobProcessSchema = z
  .object({
    pgid: z.number().int().openapi({ description: "the command's process group id (its leader's pid)" }),
    host: z.string().openapi({ description: 'os.hostname() of the machine running it' }),
    machine: z.string().optional().openapi({ description: 'kernel boot id and pid namespace there' }),
    startTicks: z.number().optional().openapi({ description: "the leader's start time, clock ticks after boot" }),
    startedAt: epochMs,
  })
  .openapi('JobProcess');

export const RunSchema = z
  .object({
    runId: z.string(),
    pipeline: z.string(),
    status: runStatus,
    version: z.number().int().openapi({ description: 'successful transitions + 1' }),
    createdAt: epochMs,
    updatedAt: epochMs,
    triggeredAt: epochMs.optional(),
    finishedAt: epochMs.optional(),
    source,
    decisionId: z.string().optional(),
    reason: z.string().optional(),
    trigger: TriggerOutcomeSchema.optional(),
    metadata: jsonObject.optional(),
    deadlineAt: epochMs,
    triggerType: triggerType.optional(),
    job: JobProcessSchema.optional().openapi({ description: "a command trigger's process, recorded once it runs" }),
    lockHeldUntil: epochMs.optional().openapi({
      description: 'an ended run whose command may still run keeps the lock until then (or until it is seen gone)',
    }),
    runKey: z.string().optional().openapi({
      description:
        "a watcher run's `<window key>#<attempt>`: at most one run ever has it (sent as X-Interlock-Run-Key)",
    }),
    window: z
      .object({ key: z.string(), attempt: z.number().int() })
      .optional()
      .openapi({ description: 'the schedule window this run is an attempt of (watcher runs only)' }),
    outcome: z.literal('UNKNOWN').optional().openapi({
      description:
        'FAILED, but the trigger may have started the job (request sent, no answer): never retried automatically',
    }),
    platform: platformRunSchema.clone().optional().openapi({
      description:
        "a native trigger's job (Airflow DAG run): its id, last polled state and when; a RUNNING run is completed by polling it and cancelled there",
    }),
  })
  .openapi('Run');

export const RunChangeSchema = z
  .object({ run: RunSchema, changed: z.boolean().openapi({ description: 'false: nothing changed (no-op)' }) })
  .openapi('RunChange');

export const TraitResultSchema = z
  .object({
    pipeline: z.string(),
    trait: z.string(),
    status: z.enum(EVAL_STATUSES),
    value: jsonObject.optional(),
    reason: z.string().optional(),
    reasonCode: reasonCode.optional(),
    durationMs: z.number(),
    exitCode: z.number().int().nullable().optional(),
    signal: z.string().nullable().optional(),
    evaluatedAt: epochMs,
    expiresAt: epochMs.optional(),
    source: z
      .literal('push')
      .optional()
      .openapi({ description: 'push: stored by a push (API or CLI); absent: an evaluator result' }),
    expired: z
      .literal(true)
      .optional()
      .openapi({ description: 'set when the store already dropped the result at its expiry (Redis): always STALE' }),
  })
  .openapi('TraitResult');

export const TraitResultViewSchema = TraitResultSchema.extend({
  state: traitState.openapi({ description: 'at the time of the request: an expired result is STALE' }),
  required: z.boolean(),
}).openapi('TraitResultView');

const blocking = z
  .object({ trait: z.string(), state: traitState, reasonCode, reason: z.string() })
  .openapi('BlockingTrait');
const rule = z.object({ type: z.enum(READINESS_RULES), threshold: z.number().optional() }).openapi('ReadinessRule');

export const ReadinessSchema = z
  .object({
    pipeline: z.string(),
    outcome,
    rule,
    traits: z.array(
      z
        .object({
          trait: z.string(),
          required: z.boolean(),
          state: traitState,
          result: TraitResultSchema.optional(),
          ttlLeftMs: z.number().optional(),
        })
        .openapi({
          description: 'result is absent when there is none yet; ttlLeftMs when there is none or it never expires',
        }),
    ),
    blocking: z.array(blocking),
    note: z.string().optional(),
    decidedAt: epochMs,
  })
  .openapi('Readiness');

export const EvaluationSchema = z
  .object({ pipeline: z.string(), outcome, readiness: ReadinessSchema, decisionId: z.string() })
  .openapi('Evaluation');

// ---------------------------------------------------------------- schedule windows

const windowState = z.enum(WINDOW_STATES);
const failureCategory = z.enum(FAILURE_CATEGORIES);

export const InstantSchema = z
  .object({
    at: epochMs,
    utc: z.string().openapi({ example: '2026-06-01T03:00:00Z' }),
    local: z.string().openapi({
      description: "the wall clock of the schedule's timezone, with its offset",
      example: '2026-06-01T05:00:00+02:00',
    }),
  })
  .openapi('Instant');

export const WakeSchema = InstantSchema.extend({
  reason: z.string().openapi({ example: 'upstream-dependency expires 06:10' }),
  key: z.string().optional().openapi({ description: 'the window it concerns' }),
}).openapi('WakeUp');

export const DueSchema = z
  .object({
    kind: z.enum(['create', 'gap', 'open', 'miss', 'retry', 'evaluate', 'trigger', 'shadow', 'run-overdue']),
    key: z.string().optional(),
    what: z.string(),
  })
  .openapi('DueNow', {
    description: 'What the watcher has due right now (it acts at once; if this stays due, no watcher is running)',
  });

const terminalDetail = z
  .union([
    z.object({ state: z.literal('COMPLETED'), attempt: z.number().int(), runId: z.string() }),
    z.object({
      state: z.literal('FAILED'),
      cause: z.enum(['not-retryable', 'unknown-outcome', 'attempts-exhausted']),
      category: failureCategory,
      attempt: z.number().int(),
      error: z.string().optional(),
    }),
    z.object({
      state: z.literal('MISSED'),
      cause: z.literal('blocked'),
      blocking: z.array(blocking),
      note: z.string().optional(),
      decisionId: z.string().optional(),
    }),
    z.object({
      state: z.literal('MISSED'),
      cause: z.literal('ready-not-triggered'),
      decisionId: z.string().optional(),
    }),
    z.object({ state: z.literal('MISSED'), cause: z.literal('never-evaluated') }),
    z.object({
      state: z.literal('MISSED'),
      cause: z.literal('retries-exhausted'),
      attempts: z.number().int(),
      lastError: z.string().optional(),
    }),
    z.object({
      state: z.literal('EXCLUDED'),
      match: z.object({
        rule: z.enum(['day', 'date', 'calendar']),
        value: z.string(),
        calendar: z.string().optional(),
        reason: z.string(),
      }),
    }),
    z.object({
      state: z.literal('SKIPPED'),
      policy: z.enum(CATCHUP_POLICIES as ['skip', 'latest', 'all']),
      supersededBy: z.string().optional(),
      note: z.string().optional(),
    }),
    z.object({ state: z.literal('SHADOW'), decisionId: z.string().optional() }),
  ])
  .openapi('WindowEndDetail');

export const WindowSchema = z
  .object({
    key: z.string().openapi({ example: 'orders@daily@2026-06-01T03:00:00Z' }),
    pipeline: z.string(),
    schedule: z.string(),
    timezone: z.string().openapi({ description: "the schedule's timezone (UTC when it is no longer configured)" }),
    mode: z.enum(['live', 'shadow']),
    state: windowState,
    terminal: z.boolean(),
    version: z.number().int(),
    date: z.string().openapi({ description: "YYYY-MM-DD of the open instant in the schedule's timezone" }),
    open: InstantSchema,
    after: InstantSchema.openapi({ description: 'earliest trigger' }),
    deadline: InstantSchema.openapi({ description: 'not triggered by then: MISSED' }),
    createdAt: epochMs,
    updatedAt: epochMs,
    retryAt: InstantSchema.optional().openapi({ description: 'RETRY_WAIT: when the next attempt is due' }),
    nextEvaluationAt: InstantSchema.optional().openapi({ description: 'not re-evaluated before (watch backoff)' }),
    attempts: z.array(
      z.object({
        attempt: z.number().int(),
        runId: z.string(),
        runKey: z.string(),
        claimedAt: InstantSchema,
        runDeadlineAt: InstantSchema.optional(),
        finishedAt: InstantSchema.optional(),
        result: z.enum(ATTEMPT_RESULTS).optional(),
        category: failureCategory.optional(),
        error: z.string().optional(),
        run: z
          .union([
            z.object({
              runId: z.string(),
              status: runStatus,
              reason: z.string().optional(),
              trigger: z
                .object({
                  type: triggerType,
                  ok: z.boolean(),
                  async: z.boolean(),
                  httpStatus: z.number().int().optional(),
                  exitCode: z.number().int().nullable().optional(),
                  error: z.string().optional(),
                })
                .optional(),
            }),
            z.null(),
          ])
          .openapi({
            description: 'the run as stored now (all of it at GET /api/runs/{runId}); null: the store lost it',
          }),
      }),
    ),
    lastDecision: z
      .union([
        z.object({
          outcome,
          blocking: z.array(blocking),
          note: z.string().optional(),
          decisionId: z.string().optional(),
          decidedAt: InstantSchema,
        }),
        z.null(),
      ])
      .openapi({ description: 'the last readiness decision and why; null before the first' }),
    end: z
      .union([z.object({ at: InstantSchema, reason: z.string(), detail: terminalDetail }), z.null()])
      .openapi({ description: 'how it ended and why; null while it is live' }),
    nextWake: orNull(WakeSchema).openapi({ description: 'null: terminal, or nothing will wake it' }),
    due: z.array(DueSchema),
    note: z.string().optional(),
  })
  .openapi('Window');

export const WindowListSchema = z
  .object({
    pipeline: z.string(),
    schedules: z.array(z.object({ name: z.string(), timezone: z.string() })),
    windows: z.array(WindowSchema),
    nextWake: orNull(WakeSchema).openapi({ description: "the pipeline's next wake-up; null without schedules" }),
    note: z.string().optional(),
  })
  .openapi('WindowList');

const nextWindow = z.object({
  key: z.string(),
  open: InstantSchema,
  after: InstantSchema,
  deadline: InstantSchema,
  date: z.string(),
});

export const ScheduledStatusSchema = z
  .object({
    pipeline: z.string(),
    mode: z.enum(['live', 'shadow']),
    schedules: z.array(
      z.object({
        schedule: z.string(),
        timezone: z.string(),
        current: orNull(WindowSchema).openapi({ description: 'the live window; null when none is' }),
        next: z
          .union([nextWindow, z.null()])
          .openapi({ description: 'the window that opens next; null when none will' }),
        last: z
          .union([
            z.object({
              key: z.string(),
              state: windowState,
              reason: z.string(),
              open: InstantSchema,
              at: InstantSchema.openapi({ description: 'when it ended' }),
            }),
            z.null(),
          ])
          .openapi({ description: 'the newest window that ended, and why' }),
        deadlineInMs: z
          .number()
          .nullable()
          .openapi({ description: 'ms to the deadline of the current window (negative: past it); null: none' }),
      }),
    ),
    nextWake: orNull(WakeSchema),
    due: z.array(DueSchema),
    note: z.string().optional(),
  })
  .openapi('ScheduledStatus');

const whyTrait = z
  .object({
    trait: z.string(),
    required: z.boolean(),
    state: traitState,
    reasonCode,
    reason: z.string(),
    value: orNull(jsonObject),
    source: z.enum(['push-only', 'evaluator', 'none']).openapi({ description: 'where its results come from' }),
    blockingSince: orNull(InstantSchema).openapi({
      description:
        'since when it has been blocking: the oldest decision of the unbroken run of decisions it blocked, or when its result went STALE; null: never evaluated',
    }),
    sinceFrom: z.enum(['decisions', 'ttl']).nullable(),
    sinceAtLeast: z.boolean().openapi({ description: 'every decision read blocked on it: it may be older' }),
    ttlLeftMs: z.number().nullable().openapi({ description: 'how long the failing result still counts' }),
    unblock: z.string().openapi({ description: 'what would unblock it, in words' }),
    unblockBy: z.enum(['push-pass', 'next-evaluation', 'evaluation-due', 'evaluate-on-demand', 'no-evaluator']),
    unblockAt: orNull(InstantSchema).openapi({
      description: "the window's next evaluation (unblockBy next-evaluation)",
    }),
  })
  .openapi('WhyTrait');

export const WhySchema = z
  .object({
    pipeline: z.string(),
    now: InstantSchema,
    summary: z.string(),
    outcome,
    note: z.string().nullable(),
    scheduled: z.boolean().openapi({ description: 'false: an on-demand pipeline (readiness only)' }),
    window: orNull(WindowSchema).openapi({
      description: 'the window asked for, else the live window with the nearest deadline; null when none is live',
    }),
    deadlineInMs: z.number().nullable(),
    nextWindow: z
      .union([
        z.object({ key: z.string(), open: InstantSchema, after: InstantSchema, deadline: InstantSchema }),
        z.null(),
      ])
      .openapi({ description: 'when no window is live: the next to open' }),
    blocking: z.array(whyTrait),
    activeRun: orNull(RunSchema),
    lastRuns: z.array(RunSchema).openapi({ description: 'the last runs, newest first' }),
  })
  .openapi('Why');

export const WhyQuery = z.object({
  window: z
    .string()
    .optional()
    .openapi({
      param: { name: 'window', in: 'query' },
      description: 'a window key of this pipeline (default: the live window)',
      example: 'orders@daily@2026-06-01T03:00:00Z',
    }),
});

export const StatusSchema = z
  .object({
    pipeline: z.string(),
    archetype: z.string(),
    source: z.string(),
    outcome,
    lastEvaluatedAt: epochMs.nullable(),
    lastOutcome: outcome.nullable(),
    blocking: z.array(blocking),
    note: z.string().optional(),
    activeRun: orNull(RunSchema).openapi({ description: 'null: no run holds the lock' }),
    lastRun: orNull(RunSchema).openapi({ description: 'null: never run' }),
    traits: z.array(
      z.object({
        trait: z.string(),
        required: z.boolean(),
        state: traitState,
        ttlLeftMs: z.number().nullable().openapi({ description: 'null: no result, or it never expires' }),
        result: orNull(TraitResultSchema).openapi({ description: 'null: never evaluated' }),
      }),
    ),
    scheduled: orNull(ScheduledStatusSchema).openapi({
      description: 'a pipeline with schedules: its windows and the next wake-up; null: on demand only',
    }),
  })
  .openapi('PipelineReadiness');

const triggerView = triggerSpecSchema.clone();

export const PipelineSchema = z
  .object({
    name: z.string(),
    archetype: z.string(),
    tier: z.number().int().optional(),
    description: z.string().optional(),
    traits: z.array(
      z.object({
        type: z.string(),
        description: z.string().optional(),
        required: z.boolean(),
        evaluator: z.string().optional().openapi({ description: 'absolute path on the server' }),
        evaluatorRef: z.string().optional(),
        push: z
          .literal(true)
          .optional()
          .openapi({ description: '`evaluator: push`: only pushed results count; no evaluator runs' }),
        builtin: z
          .string()
          .optional()
          .openapi({ description: '`evaluator: builtin:<name>`: the built-in check run in the server process' }),
        config: jsonObject,
        ttlSeconds: z.number().optional(),
        timeoutSeconds: z.number(),
        env: z
          .array(z.string())
          .optional()
          .openapi({ description: 'environment variables passed to the evaluator (values masked in results)' }),
      }),
    ),
    readinessRule: rule,
    trigger: triggerView.optional().openapi({ description: 'literal credentials are masked (***)' }),
    source: z.string().openapi({ description: "the YAML file, or 'api'" }),
    origin: z.enum(PIPELINE_ORIGINS),
  })
  .openapi('Pipeline');

export const InvalidPipelineSchema = z
  .object({
    name: z.string(),
    status: z.literal('INVALID'),
    source: z
      .string()
      .openapi({ description: "the YAML file(s) defining it, or 'api' (a registered one read back from the store)" }),
    origin: z.enum(PIPELINE_ORIGINS),
    problems: z
      .array(
        z.object({
          path: z.string(),
          message: z.string(),
          file: z.string().optional(),
          line: z.number().int().optional(),
          col: z.number().int().optional(),
        }),
      )
      .openapi({ description: 'every reason it is blocked' }),
  })
  .openapi('InvalidPipeline', {
    description:
      'A pipeline blocked by config errors in its YAML file, or a registered one that fails the checks a new registration passes (checked each time it is read): listed, never evaluated or triggered.',
  });

/** A pipeline as listed: valid, or INVALID with its problems. */
export const PipelineEntrySchema = z.union([PipelineSchema, InvalidPipelineSchema]).openapi('PipelineListEntry');

export const RegistrationSchema = z
  .object({
    pipeline: PipelineSchema,
    created: z.boolean().openapi({ description: 'false: the same document was already registered' }),
    warnings: z.array(z.object({ path: z.string(), message: z.string() })),
  })
  .openapi('Registration');

const decisionTrait = z.object({
  trait: z.string(),
  required: z.boolean(),
  status: traitState,
  value: jsonObject.optional(),
  reason: z.string().optional(),
  reasonCode: reasonCode.optional(),
  durationMs: z.number().optional(),
});

export const HistoryEntrySchema = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('decision'),
      id: z.string(),
      pipeline: z.string(),
      source,
      rule,
      outcome,
      traits: z.array(decisionTrait),
      blocking: z.array(blocking),
      note: z.string().optional(),
      decidedAt: epochMs,
      runId: z.string().optional(),
    }),
    z.object({
      type: z.literal('run'),
      runId: z.string(),
      pipeline: z.string(),
      from: runStatus.nullable(),
      to: runStatus,
      version: z.number().int(),
      at: epochMs,
      reason: z.string().optional(),
    }),
  ])
  .openapi('HistoryEntry');

export const RunAcceptedSchema = z
  .object({
    run: RunSchema.openapi({ description: 'TRIGGERING: the trigger is firing; poll GET /api/runs/{runId}' }),
    readiness: ReadinessSchema,
  })
  .openapi('RunAccepted');

// ---------------------------------------------------------------- requests

export const PipelineParams = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'daily-sales-rollup' }),
});
export const TraitParams = PipelineParams.extend({
  type: z.string().openapi({ param: { name: 'type', in: 'path' }, example: 'source-freshness' }),
});
export const RunParams = z.object({
  runId: z.string().openapi({ param: { name: 'runId', in: 'path' }, example: '01JD2Q1X9K3V8P6T4R2N0M5B7C' }),
});

const limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .optional()
  .openapi({ param: { name: 'limit', in: 'query' }, example: 20 });
const before = z
  .string()
  .refine((s) => parseTime(s, 0) !== undefined, { error: `expected a time: ${TIME_FORMS}` })
  .optional()
  .openapi({
    param: { name: 'before', in: 'query' },
    description: `only entries strictly before this time: ${TIME_FORMS}; times without an offset are the server's local time`,
    example: '2026-12-01T06:02:00Z',
  });

export const ListQuery = z.object({ limit, before });

export const WindowListQuery = z.object({
  limit,
  before: before.openapi({
    param: { name: 'before', in: 'query' },
    description: `only windows that opened strictly before this time: ${TIME_FORMS}`,
    example: '2026-06-01T03:00:00Z',
  }),
  state: windowState.optional().openapi({ param: { name: 'state', in: 'query' }, example: 'MISSED' }),
});

export const WindowParams = z.object({
  key: z.string().openapi({
    param: { name: 'key', in: 'path' },
    description: '<pipeline>@<schedule>@<open instant, UTC ISO 8601>, URL-encoded',
    example: 'orders@daily@2026-06-01T03:00:00Z',
  }),
});

export const CompleteBody = z
  .strictObject({
    status: z.enum(['success', 'failed']),
    metadata: jsonObject.optional().openapi({ description: 'kept on the run (at most 64 KiB as JSON)' }),
  })
  .openapi('CompletionCallback', { example: { status: 'success', metadata: { rows_processed: 150000 } } });

const PUSH_TTL_MESSAGE = `expected a positive duration: ${DURATION_FORMS}`;

export const PushBody = z
  .strictObject({
    status: z.enum(EVAL_STATUSES).openapi({ description: 'only PASS passes' }),
    value: jsonObject.optional().openapi({ description: 'evidence kept with the result (at most 64 KiB as JSON)' }),
    reason: z.string().max(MAX_PUSH_REASON_CHARS).optional(),
    ttl: z
      .union(
        [
          z.number().positive({ error: PUSH_TTL_MESSAGE }),
          z.string().refine((s) => (parseDuration(s) ?? 0) > 0, { error: PUSH_TTL_MESSAGE }),
        ],
        { error: PUSH_TTL_MESSAGE },
      )
      .optional()
      .openapi({
        description: `how long the result counts: ${DURATION_FORMS} (at most 30 days, and at most the trait's ttl); default the trait's ttl (none: it never expires)`,
        example: '10m',
      }),
  })
  .openapi('TraitPush', { example: { status: 'PASS', value: { rows: 150000 }, ttl: '1h' } });

export const CancelBody = z.strictObject({ reason: z.string().max(1000).optional() }).openapi('CancelRequest');

/**
 * The pipeline document: the same zod schema the YAML loader validates pipeline files with. Cloned because it may
 * have been built before @hono/zod-openapi extended zod (the CLI loads config first), and only later-built schemas
 * have `.openapi()`.
 */
export const PipelineDocument = pipelineDocumentSchema.clone().openapi('PipelineDocument', {
  description:
    'A pipeline document, the shape of a pipeline YAML file without schedules, exclusions, watch, retry and mode (YAML-only in this version: a registered pipeline runs on demand).',
});

/** GET /api/openapi.json: the document itself (only its top level is described). */
export const OpenApiDocumentSchema = z
  .looseObject({
    openapi: z.string().openapi({ example: '3.1.0' }),
    info: jsonObject,
    paths: jsonObject,
  })
  .openapi('OpenApiDocument');

/** GET /api/events: `?pipeline=` (repeatable) filters. */
export const EventsQuery = z.object({
  pipeline: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .openapi({
      param: { name: 'pipeline', in: 'query', style: 'form', explode: true },
      description: 'only events of these pipelines (repeat the parameter for several)',
      example: 'daily-sales-rollup',
    }),
});

/** GET /api/events: where a reconnecting client resumes. */
export const EventsHeaders = z.object({
  'last-event-id': z
    .string()
    .optional()
    .openapi({
      param: { name: 'last-event-id', in: 'header' },
      description: 'the id of the last event received (EventSource sends it when it reconnects)',
      example: '42',
    }),
});
