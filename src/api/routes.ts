// Route declarations (method, path, request and response schemas): they drive validation and /api/openapi.json.
import { createRoute, type z } from '@hono/zod-openapi';
import {
  CancelBody,
  CompleteBody,
  ErrorSchema,
  EvaluationSchema,
  HealthSchema,
  HistoryEntrySchema,
  ListQuery,
  PipelineDocument,
  PipelineParams,
  PipelineSchema,
  RegistrationSchema,
  RunAcceptedSchema,
  RunChangeSchema,
  RunParams,
  RunSchema,
  StatusSchema,
  TraitParams,
  TraitResultViewSchema,
} from './schemas.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
const error = (description: string) => json(ErrorSchema, description);

/** Error responses every authenticated route can give. */
const common = {
  401: error('missing or wrong bearer token (when the server has one)'),
  503: error('the store is unavailable, or the server is shutting down'),
} as const;
const notFound = error('unknown pipeline');
const security = [{ bearerAuth: [] }];

export const healthRoute = createRoute({
  method: 'get',
  path: '/api/health',
  summary: 'Health check (no token needed)',
  responses: {
    200: json(HealthSchema, 'the store answers'),
    503: json(HealthSchema, 'the store does not answer (degraded); recovers by itself'),
  },
});

export const listPipelinesRoute = createRoute({
  method: 'get',
  path: '/api/pipelines',
  summary: 'List all pipelines (YAML-defined and registered)',
  security,
  responses: { 200: json(PipelineSchema.array(), 'pipelines by name'), ...common },
});

export const registerPipelineRoute = createRoute({
  method: 'post',
  path: '/api/pipelines',
  summary: 'Register a pipeline (same document shape as a pipeline YAML file)',
  security,
  request: { body: { content: { 'application/json': { schema: PipelineDocument } }, required: true } },
  responses: {
    201: json(RegistrationSchema, 'registered'),
    200: json(RegistrationSchema, 'the same document was already registered; nothing changed'),
    400: error('invalid document: details.problems lists every problem'),
    403: error('refused by the registration policy: details.problems says why'),
    409: error('the name is defined in YAML, or registered with a different definition'),
    413: error('body over 1 MiB'),
    415: error('not application/json'),
    ...common,
  },
});

export const getPipelineRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}',
  summary: 'Get a pipeline',
  security,
  request: { params: PipelineParams },
  responses: { 200: json(PipelineSchema, 'the pipeline'), 404: notFound, ...common },
});

export const deletePipelineRoute = createRoute({
  method: 'delete',
  path: '/api/pipelines/{id}',
  summary: 'Remove a registered pipeline (its history stays)',
  security,
  request: { params: PipelineParams },
  responses: {
    200: json(PipelineSchema, 'removed'),
    404: notFound,
    409: error('YAML-defined (cannot be deleted here), or a run is in progress'),
    ...common,
  },
});

export const evaluateRoute = createRoute({
  method: 'post',
  path: '/api/pipelines/{id}/evaluate',
  summary: "Evaluate readiness now (runs the pipeline's evaluators; recorded like `interlock evaluate`)",
  security,
  request: { params: PipelineParams },
  responses: { 200: json(EvaluationSchema, 'READY or NOT_READY, and why'), 404: notFound, ...common },
});

export const readinessRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/readiness',
  summary: 'Cached readiness, recomputed at the time of the request (expired results are STALE)',
  security,
  request: { params: PipelineParams },
  responses: { 200: json(StatusSchema, 'readiness as `interlock status <id> --json`'), 404: notFound, ...common },
});

export const traitsRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/traits',
  summary: "Latest result of each of the pipeline's traits ([] when none)",
  security,
  request: { params: PipelineParams },
  responses: { 200: json(TraitResultViewSchema.array(), 'results in trait order'), 404: notFound, ...common },
});

export const traitRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/traits/{type}',
  summary: "One trait's latest result",
  security,
  request: { params: TraitParams },
  responses: {
    200: json(TraitResultViewSchema, 'the result'),
    404: error('unknown pipeline, unknown trait, or no result yet'),
    ...common,
  },
});

export const runRoute = createRoute({
  method: 'post',
  path: '/api/pipelines/{id}/run',
  summary: 'Evaluate afresh and, only if READY, fire the trigger',
  description:
    'Waits for the evaluation (bounded by the evaluator timeouts). READY: answers 202 once the run is TRIGGERING; the ' +
    'trigger runs in the background and the final state is at GET /api/runs/{runId}. NOT_READY: 412 (the run is BLOCKED).',
  security,
  request: { params: PipelineParams },
  responses: {
    202: json(RunAcceptedSchema, 'READY: the trigger is firing (Location: /api/runs/{runId})'),
    400: error('the pipeline has no trigger, or its trigger needs an unset environment variable'),
    404: notFound,
    409: error('another run is active (details.runId), or the run was cancelled before the trigger'),
    412: error('NOT_READY: the run is BLOCKED; details.blocking lists the traits and why'),
    ...common,
  },
});

export const listRunsRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/runs',
  summary: 'Recent runs, newest first',
  security,
  request: { params: PipelineParams, query: ListQuery },
  responses: { 200: json(RunSchema.array(), 'runs'), 400: error('bad limit or before'), 404: notFound, ...common },
});

export const historyRoute = createRoute({
  method: 'get',
  path: '/api/pipelines/{id}/history',
  summary: 'Decision records and run transitions, newest first (as `interlock history --json`)',
  security,
  request: { params: PipelineParams, query: ListQuery },
  responses: {
    200: json(HistoryEntrySchema.array(), 'history'),
    400: error('bad limit or before'),
    404: notFound,
    ...common,
  },
});

export const getRunRoute = createRoute({
  method: 'get',
  path: '/api/runs/{runId}',
  summary: 'A run',
  security,
  request: { params: RunParams },
  responses: { 200: json(RunSchema, 'the run'), 404: error('unknown run'), ...common },
});

export const completeRoute = createRoute({
  method: 'post',
  path: '/api/runs/{runId}/complete',
  summary: 'Completion callback (idempotent; same code as `interlock complete`)',
  security,
  request: { params: RunParams, body: { content: { 'application/json': { schema: CompleteBody } }, required: true } },
  responses: {
    200: json(RunChangeSchema, 'the run, changed or not (the same status again is a no-op)'),
    400: error('invalid body'),
    404: error('unknown run'),
    409: error('conflicting: the run has ended differently, or was never triggered'),
    413: error('body over 1 MiB'),
    415: error('not application/json'),
    ...common,
  },
});

export const cancelRoute = createRoute({
  method: 'post',
  path: '/api/runs/{runId}/cancel',
  summary: "Cancel a run that has not ended (frees the pipeline's lock)",
  security,
  request: {
    params: RunParams,
    body: { content: { 'application/json': { schema: CancelBody } }, required: false },
  },
  responses: {
    200: json(RunChangeSchema, 'cancelled (or already cancelled)'),
    400: error('invalid body'),
    404: error('unknown run'),
    409: error('the run has already ended'),
    ...common,
  },
});
