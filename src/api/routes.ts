// Route declarations (method, path, request and response schemas): they drive validation and /api/openapi.json.
import { createRoute, type z } from '@hono/zod-openapi';
import {
  CancelBody,
  CompleteBody,
  ErrorSchema,
  EvaluationSchema,
  EventsHeaders,
  EventsQuery,
  HealthSchema,
  HistoryEntrySchema,
  ListQuery,
  OpenApiDocumentSchema,
  PipelineDocument,
  PipelineEntrySchema,
  PipelineParams,
  PushBody,
  RegistrationSchema,
  RunAcceptedSchema,
  RunChangeSchema,
  RunParams,
  RunSchema,
  StatusSchema,
  TraitParams,
  TraitResultViewSchema,
  WhyQuery,
  WhySchema,
  WindowListQuery,
  WindowListSchema,
  WindowParams,
  WindowSchema,
} from './schemas.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
const error = (description: string) => json(ErrorSchema, description);
/** A response header the server always sends with that response. */
const header = (description: string, example: string) => ({
  description,
  required: true,
  schema: { type: 'string' as const, example },
});
const withHeaders = <R extends object>(response: R, headers: Record<string, ReturnType<typeof header>>) => ({
  ...response,
  headers,
});

/** Error responses every route but the health check can give. */
const common = {
  401: withHeaders(error('missing or wrong bearer token (only when the server has a token)'), {
    'WWW-Authenticate': header('the scheme to use', 'Bearer realm="interlock"'),
  }),
  403: error("an Origin header that is neither this server's origin nor in server.allowedOrigins"),
  421: error('a Host header that is neither a loopback name or address nor in server.allowedHostnames'),
  500: error('internal error (the detail is in the server log, never in the answer)'),
  503: error('the store is unavailable, or the server is shutting down'),
} as const;
/** Every route that is not a GET reads (and caps) whatever body is sent. */
const tooLarge = { 413: error('body over 1 MiB (declared by Content-Length, or counted as it streams)') } as const;
/** Every request but GET/HEAD must declare Content-Type: application/json, body or not (send {} when none). */
const jsonOnly = {
  ...tooLarge,
  415: withHeaders(error('not Content-Type: application/json (send {} when there is no body)'), {
    Accept: header('the media type the body must have', 'application/json'),
  }),
} as const;
const notFound = error('unknown pipeline');
/** A pipeline blocked by config errors (INVALID) is never evaluated or triggered. */
const invalidPipeline = error('CONFIG_INVALID: the pipeline is INVALID (config errors); details.problems says why');
/**
 * The token is optional in the document: a server without one answers anonymous calls, a server with one
 * (server.authToken or INTERLOCK_API_TOKEN) answers 401 without it.
 */
const security: Array<Record<string, string[]>> = [{ bearerAuth: [] }, {}];

export const healthRoute = createRoute({
  method: 'get',
  path: '/api/health',
  operationId: 'getHealth',
  summary: 'Health check (no token needed)',
  security: [],
  responses: {
    200: json(HealthSchema, 'the store answers'),
    503: json(HealthSchema, 'the store does not answer (degraded); recovers by itself'),
  },
});

export const listPipelinesRoute = createRoute({
  method: 'get',
  path: '/api/pipelines',
  operationId: 'listPipelines',
  summary: 'List all pipelines (YAML-defined and registered)',
  security,
  responses: {
    200: json(PipelineEntrySchema.array(), 'pipelines by name (INVALID ones with their problems)'),
    ...common,
  },
});

export const registerPipelineRoute = createRoute({
  method: 'post',
  path: '/api/pipelines',
  operationId: 'registerPipeline',
  summary: 'Register a pipeline (same document shape as a pipeline YAML file)',
  security,
  request: { body: { content: { 'application/json': { schema: PipelineDocument } }, required: true } },
  responses: {
    201: withHeaders(json(RegistrationSchema, 'registered'), {
      Location: header('the registered pipeline', '/api/pipelines/daily-sales-rollup'),
    }),
    200: json(RegistrationSchema, 'the same document was already registered; nothing changed'),
    400: error('invalid document (details.problems lists every problem), or nested deeper than 64 levels'),
    409: error('the name is defined in YAML, or registered with a different definition'),
    ...jsonOnly,
    ...common,
    403: error('refused by the registration policy (details.problems says why), or a cross-site Origin'),
  },
});

export const getPipelineRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}',
  operationId: 'getPipeline',
  summary: 'Get a pipeline',
  security,
  request: { params: PipelineParams },
  responses: {
    200: json(PipelineEntrySchema, 'the pipeline (or INVALID, with its problems)'),
    404: notFound,
    409: error('PIPELINE_INVALID: a registered pipeline that fails its checks (details.problems)'),
    ...common,
  },
});

export const deletePipelineRoute = createRoute({
  method: 'delete',
  path: '/api/pipelines/{id}',
  operationId: 'deletePipeline',
  summary: 'Remove a registered pipeline (its history stays)',
  security,
  request: { params: PipelineParams },
  responses: {
    200: json(PipelineEntrySchema, 'removed (an INVALID one too)'),
    400: error('a body nested deeper than 64 levels (the route reads none)'),
    404: notFound,
    409: error('YAML-defined (cannot be deleted here), or a run holds its lock (checked atomically with the delete)'),
    ...jsonOnly,
    ...common,
  },
});

export const evaluateRoute = createRoute({
  method: 'post',
  path: '/api/pipelines/{id}/evaluate',
  operationId: 'evaluatePipeline',
  summary: "Evaluate readiness now (runs the pipeline's evaluators; recorded like `interlock evaluate`)",
  security,
  request: { params: PipelineParams },
  responses: {
    200: json(EvaluationSchema, 'READY or NOT_READY, and why'),
    400: error(
      'the pipeline is INVALID (details.problems), or a body nested deeper than 64 levels (the route reads none)',
    ),
    404: notFound,
    ...jsonOnly,
    ...common,
  },
});

export const readinessRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/readiness',
  operationId: 'getReadiness',
  summary: 'Cached readiness, recomputed at the time of the request (expired results are STALE)',
  security,
  request: { params: PipelineParams },
  responses: {
    200: json(StatusSchema, 'readiness as `interlock status <id> --json`'),
    400: invalidPipeline,
    404: notFound,
    ...common,
  },
});

export const traitsRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/traits',
  operationId: 'listTraits',
  summary: "Latest result of each of the pipeline's traits ([] when none)",
  security,
  request: { params: PipelineParams },
  responses: {
    200: json(TraitResultViewSchema.array(), 'results in trait order'),
    400: invalidPipeline,
    404: notFound,
    ...common,
  },
});

export const traitRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/traits/{type}',
  operationId: 'getTrait',
  summary: "One trait's latest result",
  security,
  request: { params: TraitParams },
  responses: {
    200: json(TraitResultViewSchema, 'the result'),
    400: invalidPipeline,
    404: error('unknown pipeline, unknown trait, or no result yet'),
    ...common,
  },
});

export const pushRoute = createRoute({
  method: 'post',
  path: '/api/pipelines/{id}/traits/{type}',
  operationId: 'pushTraitResult',
  summary: "Push a trait's result (stored with source push; readiness re-decided and recorded; no evaluator runs)",
  description:
    "The result counts like an evaluated one until its ttl (default the trait's) passes; a FAIL alerts like an " +
    'evaluated FAIL. The decision it makes (source push) is in the history. Traits with `evaluator: push` get their ' +
    'results only this way.',
  security,
  request: { params: TraitParams, body: { content: { 'application/json': { schema: PushBody } }, required: true } },
  responses: {
    201: withHeaders(json(TraitResultViewSchema, 'stored; the pipeline was re-decided'), {
      Location: header('the trait result', '/api/pipelines/daily-sales-rollup/traits/source-freshness'),
    }),
    400: error(
      'invalid body (details.problems names the field), a YAML-defined pipeline that is INVALID, or a body nested deeper than 64 levels',
    ),
    404: error('unknown pipeline, or a trait the pipeline does not have'),
    409: error('PIPELINE_INVALID: a registered pipeline that fails its checks (details.problems)'),
    ...jsonOnly,
    ...common,
  },
});

export const runRoute = createRoute({
  method: 'post',
  path: '/api/pipelines/{id}/run',
  operationId: 'runPipeline',
  summary: 'Evaluate afresh and, only if READY, fire the trigger',
  description:
    'Waits for the evaluation (bounded by the evaluator timeouts). READY: answers 202 once the run is TRIGGERING; the ' +
    'trigger runs in the background and the final state is at GET /api/runs/{runId}. NOT_READY: 412 (the run is BLOCKED).',
  security,
  request: { params: PipelineParams },
  responses: {
    202: withHeaders(json(RunAcceptedSchema, 'READY: the trigger is firing'), {
      Location: header('the run to poll', '/api/runs/01JD2Q1X9K3V8P6T4R2N0M5B7C'),
    }),
    400: error(
      'the pipeline has no trigger, its trigger needs an unset environment variable, or it is INVALID (details.problems); a body nested deeper than 64 levels',
    ),
    404: notFound,
    409: error('another run is active (details.runId), or the run was cancelled before the trigger'),
    412: error('NOT_READY: the run is BLOCKED; details.blocking lists the traits and why'),
    ...jsonOnly,
    ...common,
  },
});

export const listRunsRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/runs',
  operationId: 'listRuns',
  summary: 'Recent runs, newest first',
  security,
  request: { params: PipelineParams, query: ListQuery },
  responses: {
    200: json(RunSchema.array(), 'runs'),
    400: error('bad limit or before, or the pipeline is INVALID (details.problems)'),
    404: notFound,
    ...common,
  },
});

export const historyRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/history',
  operationId: 'getHistory',
  summary: 'Decision records and run transitions, newest first (as `interlock history --json`)',
  security,
  request: { params: PipelineParams, query: ListQuery },
  responses: {
    200: json(HistoryEntrySchema.array(), 'history'),
    400: error('bad limit or before, or the pipeline is INVALID (details.problems)'),
    404: notFound,
    ...common,
  },
});

export const listWindowsRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/windows',
  operationId: 'listWindows',
  summary: "Schedule windows, newest first, with the pipeline's next wake-up (as `interlock windows --json`)",
  description:
    'Each window: state, open/after/deadline instants (UTC and the schedule timezone), attempts and their runs, the ' +
    'last decision and why, how it ended, and for a live one the next wake-up and why. A pipeline without schedules ' +
    'answers 200 with a note (and any windows left from schedules since removed).',
  security,
  request: { params: PipelineParams, query: WindowListQuery },
  responses: {
    200: json(WindowListSchema, 'windows'),
    400: error('bad limit (1–1000), before or state, or the pipeline is INVALID (details.problems)'),
    404: notFound,
    ...common,
  },
});

export const whyRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/why',
  operationId: 'whyPipeline',
  summary: "Why hasn't it run? (as `interlock why --json`)",
  description:
    'The current window and its deadline, READY or the blocking traits (reason, value, since when — from the ' +
    'decision history —, TTL left, what would unblock each), the active run and the last runs. A pipeline without ' +
    'schedules gets the readiness part only (window null).',
  security,
  request: { params: PipelineParams, query: WhyQuery },
  responses: {
    200: json(WhySchema, 'why'),
    400: error('window is not a window key of this pipeline, or the pipeline is INVALID (details.problems)'),
    404: error('unknown pipeline (PIPELINE_NOT_FOUND), or no such window (NOT_FOUND)'),
    ...common,
  },
});

export const getWindowRoute = createRoute({
  method: 'get',
  path: '/api/windows/{key}',
  operationId: 'getWindow',
  summary: 'One schedule window by key (URL-encoded), with its next wake-up and why',
  security,
  request: { params: WindowParams },
  responses: {
    200: json(WindowSchema, 'the window'),
    400: error('not a window key (<pipeline>@<schedule>@<UTC ISO 8601 instant>)'),
    404: error('unknown window (NOT_FOUND), or its pipeline is unknown (PIPELINE_NOT_FOUND)'),
    ...common,
  },
});

export const getRunRoute = createRoute({
  method: 'get',
  path: '/api/runs/{runId}',
  operationId: 'getRun',
  summary: 'A run',
  security,
  request: { params: RunParams },
  responses: { 200: json(RunSchema, 'the run'), 404: error('unknown run'), ...common },
});

export const completeRoute = createRoute({
  method: 'post',
  path: '/api/runs/{runId}/complete',
  operationId: 'completeRun',
  summary: 'Completion callback (idempotent; same code as `interlock complete`)',
  security,
  request: { params: RunParams, body: { content: { 'application/json': { schema: CompleteBody } }, required: true } },
  responses: {
    200: json(RunChangeSchema, 'the run, changed or not (the same status again is a no-op)'),
    400: error('invalid body, or nested deeper than 64 levels'),
    404: error('unknown run'),
    409: error(
      'conflicting: the run has ended differently, was never triggered, or is a command run still TRIGGERING (its exit status decides)',
    ),
    ...jsonOnly,
    ...common,
  },
});

export const cancelRoute = createRoute({
  method: 'post',
  path: '/api/runs/{runId}/cancel',
  operationId: 'cancelRun',
  summary: "Cancel a run that has not ended (frees the pipeline's lock)",
  description:
    "A run whose trigger command runs is CANCELLED after its process group is stopped (SIGTERM, grace, SIGKILL). A command that cannot be signalled from this server (another host) leaves the run CANCELLED with a reason saying so, and the lock held (lockHeldUntil) until it is gone or the run's deadline passes.",
  security,
  request: {
    params: RunParams,
    body: { content: { 'application/json': { schema: CancelBody } }, required: false },
  },
  responses: {
    200: json(RunChangeSchema, 'cancelled (or already cancelled)'),
    400: error('invalid body, or nested deeper than 64 levels'),
    404: error('unknown run'),
    409: error('the run has already ended'),
    ...jsonOnly,
    ...common,
  },
});

export const openApiRoute = createRoute({
  method: 'get',
  path: '/api/openapi.json',
  operationId: 'getOpenApi',
  summary: 'This document (OpenAPI 3.1)',
  security,
  responses: { 200: json(OpenApiDocumentSchema, 'the OpenAPI document'), ...common },
});

export const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  summary: 'Prometheus metrics (text exposition format); no token needed with server.metricsPublic',
  security,
  responses: {
    200: {
      content: {
        'text/plain': { schema: { type: 'string' as const, example: 'interlock_pipeline_ready{pipeline="p"} 1\n' } },
      },
      description: 'the metrics, Prometheus text format 0.0.4 (README, "Observing Interlock", lists them)',
    },
    404: error('this server collects no metrics'),
    ...common,
  },
});

export const eventsRoute = createRoute({
  method: 'get',
  path: '/api/events',
  operationId: 'streamEvents',
  summary: 'Live domain events as Server-Sent Events (resumable with Last-Event-ID)',
  description:
    'A text/event-stream that starts with `retry: 2000` and sends a `: keepalive` comment every 15 s. Each event has ' +
    '`id` (an integer, monotonic per server process), `event` (evaluation.decided, trait.pushed, run.created, ' +
    'run.transitioned, window.transitioned, alert.raised, store.changed: another process wrote to the same store) and ' +
    '`data`: one JSON line with `pipeline` and `at` (epoch ms) and the fields README "Observing Interlock" lists. ' +
    'Last-Event-ID resumes from the last 1,000 events; when the id is older than that (or not from this process) the ' +
    'stream first sends `event: reset` with `data: {"reason":…}`: refetch everything. A client too slow to read is ' +
    'disconnected (it reconnects and resumes). The stream ends when the server shuts down.',
  security,
  request: {
    query: EventsQuery,
    headers: EventsHeaders,
  },
  responses: {
    200: {
      content: {
        'text/event-stream': {
          schema: {
            type: 'string' as const,
            example:
              'retry: 2000\n\nid: 7\nevent: evaluation.decided\ndata: {"pipeline":"p","at":1764650000000,"outcome":"READY",' +
              '"source":"api","blocking":[],"decisionId":"d1"}\n\n',
          },
        },
      },
      description: 'the event stream (never ends by itself while the server runs)',
    },
    400: error('more than 100 pipeline filters, or an empty or over-long name'),
    ...common,
  },
});

/** Every route, for the 405 answer's Allow header (a known path asked with a method it does not have). */
export const ROUTES: ReadonlyArray<{ method: string; path: string }> = [
  healthRoute,
  metricsRoute,
  eventsRoute,
  openApiRoute,
  listPipelinesRoute,
  registerPipelineRoute,
  getPipelineRoute,
  deletePipelineRoute,
  evaluateRoute,
  readinessRoute,
  traitsRoute,
  traitRoute,
  pushRoute,
  runRoute,
  listRunsRoute,
  historyRoute,
  listWindowsRoute,
  whyRoute,
  getWindowRoute,
  getRunRoute,
  completeRoute,
  cancelRoute,
];
