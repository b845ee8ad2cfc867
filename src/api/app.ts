// The HTTP API as a hono app: thin adapters from routes to the runtime use-cases; errors as JSON; OpenAPI 3.1.
import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { InterlockError } from '../core/errors.js';
import { parseTime } from '../core/time.js';
import { withTimeout } from '../core/timeout.js';
import {
  allPipelineEntries,
  type Context,
  cancelRun,
  completeRun,
  evaluateWithAlerts,
  evaluationView,
  findPipeline,
  getRunState,
  getWindowView,
  listRuns,
  listWindowsView,
  pipelineHistory,
  pipelineStatus,
  pipelineView,
  pushTraitResult,
  pushView,
  type RegistrationPolicy,
  registerPipeline,
  statusView,
  type Tasks,
  traitResult,
  traitResults,
  unregisterPipeline,
  validatePipelineDocument,
  whyView,
} from '../runtime/index.js';
import { allowedMethods } from './allow.js';
import { bearerAuth } from './auth.js';
import { bodyLimit } from './body-limit.js';
import { sendError, zodProblems } from './errors.js';
import { type GuardOptions, requestGuard } from './request-guard.js';
import {
  cancelRoute,
  completeRoute,
  deletePipelineRoute,
  evaluateRoute,
  eventsRoute,
  getPipelineRoute,
  getRunRoute,
  getWindowRoute,
  healthRoute,
  historyRoute,
  listPipelinesRoute,
  listRunsRoute,
  listWindowsRoute,
  metricsRoute,
  openApiRoute,
  pushRoute,
  ROUTES,
  readinessRoute,
  registerPipelineRoute,
  runRoute,
  traitRoute,
  traitsRoute,
  whyRoute,
} from './routes.js';
import { runRefusal, startRun } from './runs.js';
import type { SseClients } from './sse.js';

export interface ApiOptions {
  ctx: Context;
  /** In-flight work; shutdown aborts and drains it. */
  tasks: Tasks;
  /** When set, every route except /api/health needs `Authorization: Bearer <token>`. */
  token?: string;
  maxBodyBytes: number;
  /** Host, Origin and Content-Type rules (default: loopback names only, no other origins). */
  guard?: GuardOptions;
  policy: RegistrationPolicy;
  /** GET /metrics renders these (absent: 404). */
  metrics?: { render(): Promise<string>; contentType: string };
  /** GET /api/events streams from these (absent: 404). */
  events?: SseClients;
  /** GET /metrics needs no token (server.metricsPublic). */
  metricsPublic?: boolean;
  /** Shown in the OpenAPI document. */
  version: string;
  /** Where 5xx details go (default ctx.warn). */
  log?: (message: string) => void;
}

/** An X-Request-Id the server echoes as given; anything else is replaced by a new id. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Default and largest page of runs / history. */
const DEFAULT_LIMIT = 20;
/** How long the health check waits for the store. */
const PING_TIMEOUT_MS = 2000;

function invalid(target: string, error: Parameters<typeof zodProblems>[0]): InterlockError {
  const problems = zodProblems(error);
  const first = problems[0];
  const what = target === 'json' ? 'request body' : target === 'param' ? 'path' : target;
  return new InterlockError(
    'INVALID_REQUEST',
    `invalid ${what}${first ? `: ${first.path ? `${first.path}: ` : ''}${first.message}` : ''}`,
    { problems },
  );
}

/** `before` as the API accepts it (core/time's forms; already validated) → epoch ms. */
function epochOf(s: string | undefined, now: number): number | undefined {
  return s === undefined ? undefined : parseTime(s, now);
}

/** Builds the app. Every use-case runs as tracked work, so shutdown can abort and wait for it. */
/** Lists longer than this are streamed. */
const STREAM_LIST_OVER = 500;

export function createApi(o: ApiOptions): OpenAPIHono {
  const { ctx, tasks } = o;
  const log = o.log ?? ((m: string) => ctx.warn(m));
  const work = <T>(fn: (signal: AbortSignal) => Promise<T>) => tasks.track(fn);

  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) throw invalid(result.target, result.error);
    },
  });

  app.onError((err, c) => sendError(c, err, log));
  app.notFound((c) => {
    const path = c.req.path.length > 200 ? `${c.req.path.slice(0, 200)}…` : c.req.path;
    const allowed = allowedMethods(ROUTES, c.req.path);
    if (allowed.length > 0) {
      c.header('Allow', allowed.join(', '));
      const message = `${c.req.method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`;
      return sendError(c, new InterlockError('METHOD_NOT_ALLOWED', message), log);
    }
    return sendError(c, new InterlockError('NOT_FOUND', `no route for ${c.req.method} ${path}`), log);
  });

  app.use('*', async (c, next) => {
    // Set before next(): headers added after the handler force a response rebuild (off node-server's fast path).
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
    // The caller's request id when it is a sane one (a proxy's), else a new one; echoed and logged.
    const given = c.req.header('x-request-id');
    const reqId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    c.header('X-Request-Id', reqId);
    const t0 = performance.now();
    await next();
    const durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
    ctx.log.info(`${c.req.method} ${c.req.path} ${c.res.status}`, {
      reqId,
      method: c.req.method,
      path: c.req.path.length > 200 ? `${c.req.path.slice(0, 200)}…` : c.req.path,
      status: c.res.status,
      durationMs,
    });
  });
  // Before authentication: a rebinding or cross-site request is refused the same way with or without a token.
  const guard = o.guard ?? { allowedHostnames: [], allowedOrigins: [], offLoopback: false };
  const hasOperation = (method: string, path: string) => allowedMethods(ROUTES, path).includes(method);
  app.use('*', requestGuard({ hasOperation, ...guard }));
  if (o.token !== undefined) app.use('*', bearerAuth(o.token, new Set(o.metricsPublic ? ['/metrics'] : [])));
  app.use('*', bodyLimit(o.maxBodyBytes));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description:
      'server.authToken, or INTERLOCK_API_TOKEN (which wins). When the server has a token, every operation but ' +
      'getHealth needs it (and getMetrics, unless server.metricsPublic); without one, calls are anonymous (serve ' +
      'allows that only on a loopback address).',
  });
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.openapi(openApiRoute, (c) => {
    // Built on first use, once every route is registered; the routes do not change afterwards.
    document ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'Interlock HTTP API',
        version: o.version,
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
        description:
          'Safety gate for data pipelines. Errors are {"error":{"code","message","details"?}}. A bearer token is ' +
          'needed by every operation but getHealth when the server has one (server.authToken or ' +
          'INTERLOCK_API_TOKEN); getMetrics needs none with server.metricsPublic; without a token on the server, ' +
          'calls are anonymous. A known path asked with another method answers 405 ' +
          'with Allow. Every operation but getHealth answers only a loopback Host or one in server.allowedHostnames ' +
          '(else 421), refuses an Origin other than its own or server.allowedOrigins (403), and needs Content-Type: ' +
          'application/json on every request but GET/HEAD (415; send {} when there is no body). Registration rules ' +
          'and precedence: README, "HTTP API".',
      },
      servers: [{ url: '/', description: 'the server that serves this document' }],
    });
    return c.json(document as never, 200);
  });

  app.openapi(healthRoute, async (c) => {
    try {
      await withTimeout(ctx.store.ping(), PING_TIMEOUT_MS, ctx.clock, () => {
        throw new InterlockError('STORE_UNAVAILABLE', `no answer within ${PING_TIMEOUT_MS} ms`);
      });
      return c.json({ status: 'ok' as const }, 200);
    } catch (err) {
      log(`health check: store unavailable: ${err instanceof Error ? err.message : String(err)}`);
      return c.json({ status: 'degraded' as const }, 503);
    }
  });

  app.openapi(metricsRoute, async (c) => {
    if (!o.metrics) throw new InterlockError('NOT_FOUND', 'this server collects no metrics');
    const text = await work(() => (o.metrics as NonNullable<ApiOptions['metrics']>).render());
    return c.body(text, 200, { 'Content-Type': o.metrics.contentType }) as never;
  });

  app.openapi(eventsRoute, (c) => {
    if (!o.events) throw new InterlockError('NOT_FOUND', 'this server streams no events');
    return o.events.respond(c) as never;
  });

  app.openapi(listPipelinesRoute, async (c) => {
    const list = await work(() => allPipelineEntries(ctx));
    if (list.length <= STREAM_LIST_OVER) return c.json(list.map(pipelineView), 200);
    // A long list streams in chunks, so the whole serialized array never sits in memory at once (10k pipelines).
    const encoder = new TextEncoder();
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const end = Math.min(i + 200, list.length);
        let chunk = i === 0 ? '[' : '';
        for (; i < end; i++) chunk += (i === 0 ? '' : ',') + JSON.stringify(pipelineView(list[i]));
        if (i === list.length) chunk += ']';
        controller.enqueue(encoder.encode(chunk));
        if (i === list.length) controller.close();
      },
    });
    return c.body(stream, 200, { 'Content-Type': 'application/json' }) as never;
  });

  app.openapi(
    registerPipelineRoute,
    async (c) => {
      const r = await work(() => registerPipeline(ctx, c.req.valid('json'), o.policy));
      c.header('Location', `/api/pipelines/${encodeURIComponent(r.pipeline.name)}`);
      return c.json({ ...r, pipeline: pipelineView(r.pipeline) }, r.created ? 201 : 200);
    },
    (result, c) => {
      if (result.success) return undefined;
      // Word the problems exactly as the YAML loader does (same schema, same messages).
      const reject = async (): Promise<never> => {
        if (result.target === 'json') {
          // No body (or one the validator read as {}): judge the empty document, as the validator did.
          const doc: unknown = await c.req.json().catch(() => ({}));
          validatePipelineDocument(ctx, doc);
        }
        throw invalid(result.target, result.error);
      };
      return reject();
    },
  );

  app.openapi(getPipelineRoute, async (c) => {
    const p = await work(() => findPipeline(ctx, c.req.valid('param').id));
    return c.json(pipelineView(p), 200);
  });

  app.openapi(deletePipelineRoute, async (c) => {
    const p = await work(() => unregisterPipeline(ctx, c.req.valid('param').id));
    return c.json(pipelineView(p), 200);
  });

  app.openapi(evaluateRoute, async (c) => {
    const { id } = c.req.valid('param');
    const ev = await work((signal) => evaluateWithAlerts(ctx, id, { source: 'api', signal }));
    return c.json(evaluationView(ev), 200);
  });

  app.openapi(readinessRoute, async (c) => {
    const [s] = await work(() => pipelineStatus(ctx, c.req.valid('param').id));
    return c.json(statusView(s as NonNullable<typeof s>), 200);
  });

  app.openapi(traitsRoute, async (c) => {
    return c.json(await work(() => traitResults(ctx, c.req.valid('param').id)), 200);
  });

  app.openapi(traitRoute, async (c) => {
    const { id, type } = c.req.valid('param');
    return c.json(await work(() => traitResult(ctx, id, type)), 200);
  });

  app.openapi(pushRoute, async (c) => {
    const { id, type } = c.req.valid('param');
    const pushed = await work(() => pushTraitResult(ctx, id, type, c.req.valid('json')));
    c.header('Location', `/api/pipelines/${encodeURIComponent(id)}/traits/${encodeURIComponent(type)}`);
    return c.json(pushView(pushed), 201);
  });

  app.openapi(runRoute, async (c) => {
    const started = await startRun(ctx, tasks, c.req.valid('param').id, 'api');
    if (started.kind === 'finished') throw runRefusal(started.result);
    c.header('Location', `/api/runs/${started.run.runId}`);
    return c.json({ run: started.run, readiness: started.evaluation.readiness }, 202);
  });

  app.openapi(listRunsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const opts = { limit: q.limit ?? DEFAULT_LIMIT, before: epochOf(q.before, ctx.clock.now()) };
    return c.json(await work(() => listRuns(ctx, id, opts)), 200);
  });

  app.openapi(historyRoute, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const opts = { limit: q.limit ?? DEFAULT_LIMIT, before: epochOf(q.before, ctx.clock.now()) };
    return c.json(await work(() => pipelineHistory(ctx, id, opts)), 200);
  });

  app.openapi(listWindowsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const opts = {
      limit: q.limit ?? DEFAULT_LIMIT,
      ...(q.before !== undefined ? { before: epochOf(q.before, ctx.clock.now()) } : {}),
      ...(q.state !== undefined ? { state: q.state } : {}),
    };
    return c.json(await work(() => listWindowsView(ctx, id, opts)), 200);
  });

  app.openapi(whyRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { window } = c.req.valid('query');
    return c.json(await work(() => whyView(ctx, id, window !== undefined ? { window } : {})), 200);
  });

  app.openapi(getWindowRoute, async (c) => {
    return c.json(await work(() => getWindowView(ctx, c.req.valid('param').key)), 200);
  });

  app.openapi(getRunRoute, async (c) => {
    return c.json(await work(() => getRunState(ctx, c.req.valid('param').runId)), 200);
  });

  app.openapi(completeRoute, async (c) => {
    const { runId } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await work(() => completeRun(ctx, runId, body.status, body.metadata)), 200);
  });

  app.openapi(cancelRoute, async (c) => {
    const { runId } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await work(() => cancelRun(ctx, runId, body.reason ?? 'cancelled via the API')), 200);
  });

  return app;
}
