// A small typed client of the HTTP API and the flow it drives. It is type-checked (by test/api/contract.test.ts)
// against the types openapi-typescript generates from the served /api/openapi.json into `openapi-types.ts` beside a
// copy of this file, so it is left out of tsconfig.test.json. It imports nothing at run time; only globals.
import type { components, paths } from './openapi-types.js';

type Method = 'get' | 'post' | 'delete';
/** The methods path P declares (the others are `?: never` in the generated types). */
type MethodsOf<P extends keyof paths> = { [M in Method]: paths[P][M] extends undefined ? never : M }[Method];
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type Responses<O> = O extends { responses: infer R } ? R : never;
type JsonOf<R> = R extends { content: { 'application/json': infer B } }
  ? B
  : R extends { content: { 'text/plain': infer T } }
    ? T
    : undefined;

/** One answer per declared status: `status` narrows `body` to that status's schema. */
export type Reply<O> = {
  [S in keyof Responses<O>]: { status: S; body: JsonOf<Responses<O>[S]>; headers: Headers };
}[keyof Responses<O>];

type PathParams<O> = O extends { parameters: { path: infer X } } ? X : never;
type QueryParams<O> = O extends { parameters: { query?: infer Q } } ? Q : never;
type JsonBody<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

export interface Request<O> {
  path?: PathParams<O>;
  query?: QueryParams<O>;
  body?: JsonBody<O>;
  /** Sent as is instead of `body` (what the types forbid: a wrong status, not JSON, too large). */
  raw?: { contentType?: string; text: string };
  /** null: no Authorization header; a string: this token instead of the client's. */
  token?: string | null;
}

/** What was asked and answered, for the test to check against the document. */
export interface Exchange {
  method: string;
  /** The path template (`/api/runs/{runId}`), or the concrete path of a call outside the document. */
  path: string;
  /** false: a method the path does not have (405), so no operation of the document applies. */
  declared: boolean;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export class Client {
  constructor(
    readonly base: string,
    readonly token: string | undefined,
    readonly seen: (e: Exchange) => void,
  ) {}

  /** Calls the operation at `method path`; the reply is typed by the document. */
  async call<P extends keyof paths, M extends MethodsOf<P>>(
    method: M,
    path: P,
    req: Request<Op<P, M>> = {},
  ): Promise<Reply<Op<P, M>>> {
    const params = (req.path ?? {}) as Record<string, string>;
    const concrete = String(path).replace(/\{(\w+)\}/g, (_, k: string) => {
      if (params[k] === undefined) throw new Error(`${String(path)}: path parameter ${k} missing`);
      return encodeURIComponent(params[k]);
    });
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
      if (v !== undefined) query.set(k, String(v));
    }
    const url = `${concrete}${query.size ? `?${query}` : ''}`;
    const r = await this.send(method, url, req);
    this.seen({ ...r, method, path: String(path), declared: true });
    return { status: r.status, body: r.body, headers: r.response.headers } as Reply<Op<P, M>>;
  }

  /** A request outside the document (a method the path does not have). */
  async undeclared(method: string, path: string): Promise<{ status: number; body: unknown; headers: Headers }> {
    const r = await this.send(method, path, {});
    this.seen({ ...r, method, path, declared: false });
    return { status: r.status, body: r.body, headers: r.response.headers };
  }

  private async send(method: string, url: string, req: Request<unknown>) {
    const headers: Record<string, string> = {};
    const token = req.token === undefined ? this.token : req.token;
    if (token !== null && token !== undefined) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (req.raw) {
      body = req.raw.text;
      if (req.raw.contentType !== undefined) headers['content-type'] = req.raw.contentType;
    } else if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    } else if (method.toUpperCase() !== 'GET' && method.toUpperCase() !== 'HEAD') {
      // The server requires the JSON content type on every operation but GET, with or without a body.
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.base}${url}`, { method: method.toUpperCase(), headers, body });
    if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      // GET /api/events never ends: its first chunk (retry: …) is the answer, then the client goes away.
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      await reader.cancel();
      const text = new TextDecoder().decode(first.value);
      return { response, status: response.status, headers: Object.fromEntries(response.headers), body: text };
    }
    const text = await response.text();
    let parsed: unknown;
    // A text answer (GET /metrics) stays text; every other body must be JSON.
    if ((response.headers.get('content-type') ?? '').startsWith('text/plain')) {
      return { response, status: response.status, headers: Object.fromEntries(response.headers), body: text };
    }
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new Error(`${method} ${url}: ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    return { response, status: response.status, headers: Object.fromEntries(response.headers), body: parsed };
  }
}

/** The reply narrowed to `status`, or an error saying what came instead. */
export function want<R extends { status: unknown; body: unknown }, S extends number>(
  r: R,
  status: S,
  what: string,
): Extract<R, { status: S }> {
  if (r.status !== status)
    throw new Error(`${what}: expected ${String(status)}, got ${String(r.status)}: ${JSON.stringify(r.body)}`);
  return r as Extract<R, { status: S }>;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

type Schemas = components['schemas'];
/** Compile-time facts about the generated types: a wrong nullability fails tsc, not only a run. */
type Is<T extends true> = T;
export type NullableFacts = [
  Is<null extends Schemas['PipelineReadiness']['traits'][number]['result'] ? true : false>,
  Is<null extends Schemas['PipelineReadiness']['activeRun'] ? true : false>,
  Is<null extends Schemas['Run'] ? false : true>,
  Is<null extends Schemas['TraitResult'] ? false : true>,
  Is<
    undefined extends paths['/api/pipelines/{id}/run']['post']['responses'][202]['headers']['Location'] ? false : true
  >,
];

export interface Flow {
  /** The pipeline with an async http trigger (stays RUNNING until its callback). */
  pipeline: string;
  /** A pipeline whose required trait fails. */
  blocked: string;
  /** A pipeline without a trigger. */
  noTrigger: string;
  /** A document the registration policy accepts, and one it refuses. */
  register: JsonBody<Op<'/api/pipelines', 'post'>>;
  refused: JsonBody<Op<'/api/pipelines', 'post'>>;
  /** Larger than the server's body limit. */
  tooLarge: string;
}

/** Polls the run until it is in `status`. */
async function waitFor(c: Client, runId: string, status: Schemas['Run']['status']): Promise<Schemas['Run']> {
  const until = Date.now() + 15_000;
  for (;;) {
    const run = want(await c.call('get', '/api/runs/{runId}', { path: { runId } }), 200, 'getRun').body;
    if (run.status === status) return run;
    if (Date.now() > until) throw new Error(`run ${runId} is ${run.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Every operation, and every error status the API answers with, in one flow on a fresh project: register,
 * evaluate, readiness before and after, traits, run, get run, runs, history, complete, cancel.
 */
export async function driveEverything(c: Client, f: Flow): Promise<void> {
  const id = { path: { id: f.pipeline } };

  // Open, document, auth.
  const health = want(await c.call('get', '/api/health', { token: null }), 200, 'getHealth');
  check(health.body.status === 'ok', 'health ok');
  const doc = want(await c.call('get', '/api/openapi.json'), 200, 'getOpenApi');
  check(doc.body.openapi === '3.1.0', 'OpenAPI 3.1');
  const metrics = want(await c.call('get', '/metrics'), 200, 'getMetrics');
  check(metrics.body.includes(`interlock_pipeline_ready{pipeline="${f.pipeline}"}`), 'metrics text');
  want(await c.call('get', '/metrics', { token: null }), 401, 'getMetrics without the token');
  const stream = want(await c.call('get', '/api/events', { query: { pipeline: f.pipeline } }), 200, 'streamEvents');
  check(String(stream.body).startsWith('retry: 2000\n'), 'event stream starts with retry');
  want(await c.call('get', '/api/events', { token: null }), 401, 'streamEvents without the token');
  for (const token of [null, 'wrong-token']) {
    const denied = want(await c.call('get', '/api/pipelines', { token }), 401, 'listPipelines without the token');
    check(denied.body.error.code === 'UNAUTHORIZED', 'UNAUTHORIZED');
    check(/^Bearer/.test(denied.headers.get('www-authenticate') ?? ''), 'WWW-Authenticate: Bearer');
  }

  // Readiness and traits before any evaluation: nothing is known, so results are null.
  const fresh = want(await c.call('get', '/api/pipelines/{id}/readiness', id), 200, 'getReadiness (fresh)').body;
  check(fresh.outcome === 'NOT_READY' && fresh.lastEvaluatedAt === null && fresh.lastRun === null, 'fresh status');
  check(fresh.traits.length > 0 && fresh.traits.every((t) => t.result === null && t.state === 'STALE'), 'no results');
  const noTraits = want(await c.call('get', '/api/pipelines/{id}/traits', id), 200, 'listTraits (fresh)').body;
  check(noTraits.length === 0, 'no trait results yet');
  const trait = fresh.traits[0]?.trait ?? '';
  want(
    await c.call('get', '/api/pipelines/{id}/traits/{type}', { path: { id: f.pipeline, type: trait } }),
    404,
    'getTrait (none yet)',
  );

  // Evaluate; then readiness and traits have results.
  const ev = want(await c.call('post', '/api/pipelines/{id}/evaluate', id), 200, 'evaluatePipeline').body;
  check(ev.outcome === 'READY' && ev.readiness.blocking.length === 0, 'READY');
  const after = want(await c.call('get', '/api/pipelines/{id}/readiness', id), 200, 'getReadiness (after)').body;
  const first = after.traits[0];
  check(first?.result !== null && first?.result?.status === 'PASS', 'a PASS result after evaluation');
  const results = want(await c.call('get', '/api/pipelines/{id}/traits', id), 200, 'listTraits').body;
  check(results.length > 0 && results.every((r) => r.state === 'PASS'), 'trait results');
  const one = want(
    await c.call('get', '/api/pipelines/{id}/traits/{type}', { path: { id: f.pipeline, type: trait } }),
    200,
    'getTrait',
  ).body;
  check(one.trait === trait && one.required, 'the trait');
  want(
    await c.call('get', '/api/pipelines/{id}/traits/{type}', { path: { id: f.pipeline, type: 'zzz' } }),
    404,
    'getTrait unknown',
  );
  // Push a result: 201 with the stored result and Location; 400 names the field; 404 unknown trait or pipeline.
  const traitPath = { path: { id: f.pipeline, type: trait } };
  const pushed = want(
    await c.call('post', '/api/pipelines/{id}/traits/{type}', {
      ...traitPath,
      body: { status: 'PASS', value: { rows: 1 }, reason: 'pushed', ttl: '5m' },
    }),
    201,
    'pushTraitResult',
  );
  check(pushed.body.source === 'push' && pushed.body.state === 'PASS', 'the pushed result');
  check(pushed.headers.get('location') === `/api/pipelines/${f.pipeline}/traits/${trait}`, 'push Location');
  const badPush = want(
    await c.call('post', '/api/pipelines/{id}/traits/{type}', {
      ...traitPath,
      raw: { contentType: 'application/json', text: '{"status":"PASS","ttl":"soon"}' },
    }),
    400,
    'pushTraitResult bad ttl',
  );
  check(JSON.stringify(badPush.body.error.details?.problems ?? []).includes('ttl'), 'the field is named');
  want(
    await c.call('post', '/api/pipelines/{id}/traits/{type}', {
      path: { id: f.pipeline, type: 'zzz' },
      body: { status: 'PASS' },
    }),
    404,
    'pushTraitResult unknown trait',
  );
  want(
    await c.call('post', '/api/pipelines/{id}/traits/{type}', {
      path: { id: 'nope', type: trait },
      body: { status: 'FAIL' },
    }),
    404,
    'pushTraitResult unknown pipeline',
  );
  want(
    await c.call('post', '/api/pipelines/{id}/traits/{type}', {
      ...traitPath,
      raw: { contentType: 'application/json', text: f.tooLarge },
    }),
    413,
    'pushTraitResult too large',
  );
  want(
    await c.call('post', '/api/pipelines/{id}/traits/{type}', {
      ...traitPath,
      raw: { contentType: 'text/plain', text: 'PASS' },
    }),
    415,
    'pushTraitResult as text',
  );
  want(await c.call('post', '/api/pipelines/{id}/evaluate', { path: { id: 'nope' } }), 404, 'evaluatePipeline unknown');
  want(await c.call('get', '/api/pipelines/{id}/readiness', { path: { id: 'nope' } }), 404, 'getReadiness unknown');
  want(await c.call('get', '/api/pipelines/{id}/traits', { path: { id: 'nope' } }), 404, 'listTraits unknown');

  // Pipelines: list, register (201, again 200, clash 409, invalid 400, refused 403, 413, 415), get, delete.
  const list = want(await c.call('get', '/api/pipelines'), 200, 'listPipelines').body;
  check(
    list.some((p) => p.name === f.pipeline && p.origin === 'yaml'),
    'listed',
  );
  const reg = want(await c.call('post', '/api/pipelines', { body: f.register }), 201, 'registerPipeline');
  check(reg.body.created && reg.headers.get('location') === `/api/pipelines/${reg.body.pipeline.name}`, 'Location');
  const name = reg.body.pipeline.name;
  want(await c.call('post', '/api/pipelines', { body: f.register }), 200, 'registerPipeline again');
  want(await c.call('post', '/api/pipelines', { body: { ...f.register, tier: 9 } }), 409, 'registerPipeline clash');
  const bad = want(
    await c.call('post', '/api/pipelines', { raw: { contentType: 'application/json', text: '{"name":"Bad Name"}' } }),
    400,
    'registerPipeline invalid',
  );
  check(Array.isArray(bad.body.error.details?.problems), 'problems listed');
  want(await c.call('post', '/api/pipelines', { body: f.refused }), 403, 'registerPipeline refused');
  want(
    await c.call('post', '/api/pipelines', { raw: { contentType: 'application/json', text: f.tooLarge } }),
    413,
    'registerPipeline too large',
  );
  const media = want(
    await c.call('post', '/api/pipelines', { raw: { contentType: 'text/yaml', text: 'name: x' } }),
    415,
    'registerPipeline as YAML',
  );
  check(media.body.error.message.includes('application/json'), '415 names application/json');
  check(media.headers.get('accept') === 'application/json', '415 Accept: application/json');
  want(await c.call('get', '/api/pipelines/{id}', { path: { id: name } }), 200, 'getPipeline');
  want(await c.call('delete', '/api/pipelines/{id}', { path: { id: name } }), 200, 'deletePipeline');
  want(await c.call('get', '/api/pipelines/{id}', { path: { id: name } }), 404, 'getPipeline deleted');
  want(await c.call('delete', '/api/pipelines/{id}', { path: { id: name } }), 404, 'deletePipeline again');
  want(await c.call('delete', '/api/pipelines/{id}', id), 409, 'deletePipeline of a YAML pipeline');
  want(
    await c.call('delete', '/api/pipelines/{id}', {
      ...id,
      raw: { text: f.tooLarge, contentType: 'application/json' },
    }),
    413,
    'deletePipeline body too large',
  );

  // Run: 202 with Location, RUNNING; 409 while it runs; 412 NOT_READY; 400 no trigger; 404; 413.
  const started = want(await c.call('post', '/api/pipelines/{id}/run', id), 202, 'runPipeline');
  const runId = started.body.run.runId;
  check(started.headers.get('location') === `/api/runs/${runId}`, '202 Location');
  check(started.body.run.status === 'TRIGGERING' && started.body.readiness.outcome === 'READY', 'TRIGGERING');
  await waitFor(c, runId, 'RUNNING');
  const busy = want(await c.call('post', '/api/pipelines/{id}/run', id), 409, 'runPipeline while running');
  check(busy.body.error.details?.runId === runId, 'the active run');
  const during = want(await c.call('get', '/api/pipelines/{id}/readiness', id), 200, 'getReadiness (running)').body;
  check(during.activeRun?.runId === runId, 'activeRun while running');
  const blocked = want(
    await c.call('post', '/api/pipelines/{id}/run', { path: { id: f.blocked } }),
    412,
    'runPipeline NOT_READY',
  );
  check(blocked.body.error.code === 'NOT_READY', 'NOT_READY');
  want(
    await c.call('post', '/api/pipelines/{id}/run', { path: { id: f.noTrigger } }),
    400,
    'runPipeline without a trigger',
  );
  want(await c.call('post', '/api/pipelines/{id}/run', { path: { id: 'nope' } }), 404, 'runPipeline unknown');
  want(
    await c.call('post', '/api/pipelines/{id}/run', {
      ...id,
      raw: { text: f.tooLarge, contentType: 'application/json' },
    }),
    413,
    'runPipeline body too large',
  );
  want(
    await c.call('post', '/api/pipelines/{id}/evaluate', {
      ...id,
      raw: { text: f.tooLarge, contentType: 'application/json' },
    }),
    413,
    'evaluatePipeline body too large',
  );

  // Complete: 200 changed, 200 unchanged, 409 conflicting, 400, 404, 413, 415.
  const runPath = { path: { runId } };
  const done = want(
    await c.call('post', '/api/runs/{runId}/complete', {
      ...runPath,
      body: { status: 'success', metadata: { rows: 1 } },
    }),
    200,
    'completeRun',
  ).body;
  check(done.changed && done.run.status === 'COMPLETED', 'COMPLETED');
  const same = want(
    await c.call('post', '/api/runs/{runId}/complete', { ...runPath, body: { status: 'success' } }),
    200,
    'completeRun again',
  );
  check(!same.body.changed, 'no-op');
  want(
    await c.call('post', '/api/runs/{runId}/complete', { ...runPath, body: { status: 'failed' } }),
    409,
    'completeRun conflicting',
  );
  want(
    await c.call('post', '/api/runs/{runId}/complete', {
      ...runPath,
      raw: { contentType: 'application/json', text: '{"status":"ok"}' },
    }),
    400,
    'completeRun bad status',
  );
  want(
    await c.call('post', '/api/runs/{runId}/complete', {
      ...runPath,
      raw: { contentType: 'application/json', text: '{"status":' },
    }),
    400,
    'completeRun not JSON',
  );
  want(
    await c.call('post', '/api/runs/{runId}/complete', { path: { runId: '01NOPE' }, body: { status: 'success' } }),
    404,
    'completeRun unknown',
  );
  want(
    await c.call('post', '/api/runs/{runId}/complete', {
      ...runPath,
      raw: { contentType: 'application/json', text: f.tooLarge },
    }),
    413,
    'completeRun too large',
  );
  const text = want(
    await c.call('post', '/api/runs/{runId}/complete', {
      ...runPath,
      raw: { contentType: 'text/plain', text: 'status=success' },
    }),
    415,
    'completeRun as text',
  );
  check(text.body.error.message.includes('application/json'), '415 names application/json');

  // Cancel: a second run, cancelled (200), again (200 unchanged); an ended run → 409; 400, 404, 413, 415.
  const second = want(await c.call('post', '/api/pipelines/{id}/run', id), 202, 'runPipeline (second)').body.run.runId;
  await waitFor(c, second, 'RUNNING');
  const cancelled = want(
    await c.call('post', '/api/runs/{runId}/cancel', { path: { runId: second }, body: { reason: 'contract test' } }),
    200,
    'cancelRun',
  ).body;
  check(cancelled.changed && cancelled.run.status === 'CANCELLED', 'CANCELLED');
  want(await c.call('post', '/api/runs/{runId}/cancel', { path: { runId: second } }), 200, 'cancelRun again');
  want(await c.call('post', '/api/runs/{runId}/cancel', runPath), 409, 'cancelRun of an ended run');
  want(
    await c.call('post', '/api/runs/{runId}/cancel', {
      path: { runId: second },
      raw: { contentType: 'application/json', text: '{"reason":5}' },
    }),
    400,
    'cancelRun bad reason',
  );
  want(await c.call('post', '/api/runs/{runId}/cancel', { path: { runId: '01NOPE' } }), 404, 'cancelRun unknown');
  want(
    await c.call('post', '/api/runs/{runId}/cancel', {
      path: { runId: second },
      raw: { contentType: 'application/json', text: f.tooLarge },
    }),
    413,
    'cancelRun too large',
  );
  want(
    await c.call('post', '/api/runs/{runId}/cancel', {
      path: { runId: second },
      raw: { contentType: 'text/plain', text: 'why' },
    }),
    415,
    'cancelRun as text',
  );

  // Runs, one run, history.
  const run = want(await c.call('get', '/api/runs/{runId}', runPath), 200, 'getRun').body;
  check(run.status === 'COMPLETED' && run.metadata?.rows === 1, 'the completed run');
  want(await c.call('get', '/api/runs/{runId}', { path: { runId: '01NOPE' } }), 404, 'getRun unknown');
  const runs = want(
    await c.call('get', '/api/pipelines/{id}/runs', { ...id, query: { limit: 10 } }),
    200,
    'listRuns',
  ).body;
  check(runs.map((r) => r.runId).join() === [second, runId].join(), 'runs newest first');
  want(await c.call('get', '/api/pipelines/{id}/runs', { ...id, query: { limit: 0 } }), 400, 'listRuns limit 0');
  want(await c.call('get', '/api/pipelines/{id}/runs', { path: { id: 'nope' } }), 404, 'listRuns unknown');
  const history = want(
    await c.call('get', '/api/pipelines/{id}/history', { ...id, query: { limit: 50 } }),
    200,
    'getHistory',
  ).body;
  const decisions = history.filter((e) => e.type === 'decision');
  const transitions = history.flatMap((e) => (e.type === 'run' ? [e.to] : []));
  check(decisions.length >= 3 && transitions.includes('CANCELLED') && transitions.includes('COMPLETED'), 'history');
  want(
    await c.call('get', '/api/pipelines/{id}/history', { ...id, query: { before: 'yesterday' } }),
    400,
    'getHistory bad before',
  );
  want(await c.call('get', '/api/pipelines/{id}/history', { path: { id: 'nope' } }), 404, 'getHistory unknown');
  // Schedule windows (the contract project has no schedules: an empty list with a note).
  const windows = want(
    await c.call('get', '/api/pipelines/{id}/windows', { ...id, query: { limit: 5, state: 'MISSED' } }),
    200,
    'listWindows',
  ).body;
  check(
    windows.schedules.length === 0 && windows.nextWake === null && typeof windows.note === 'string',
    'no schedules',
  );
  want(
    await c.call('get', '/api/windows/{key}', { path: { key: `${f.pipeline}@daily@2026-06-01T03:00:00Z` } }),
    404,
    'getWindow unknown',
  );
  want(await c.call('get', '/api/pipelines/{id}/windows', { ...id, query: { limit: 0 } }), 400, 'listWindows limit 0');
  want(await c.call('get', '/api/pipelines/{id}/windows', { path: { id: 'nope' } }), 404, 'listWindows unknown');
  want(await c.call('get', '/api/windows/{key}', { path: { key: 'garbage' } }), 400, 'getWindow bad key');
  want(
    await c.call('get', '/api/windows/{key}', { path: { key: 'nope@daily@2026-06-01T03:00:00Z' } }),
    404,
    'getWindow unknown pipeline',
  );
  // Why: on demand, so the readiness part only; a window of another pipeline is refused, an unknown one is 404.
  const why = want(await c.call('get', '/api/pipelines/{id}/why', id), 200, 'whyPipeline').body;
  check(why.scheduled === false && why.window === null && Array.isArray(why.lastRuns), 'why: readiness only');
  const whyBlocked = want(
    await c.call('get', '/api/pipelines/{id}/why', { path: { id: f.blocked } }),
    200,
    'why blocked',
  ).body;
  check(whyBlocked.outcome === 'NOT_READY' && whyBlocked.blocking.length > 0, 'why: blocking traits');
  want(
    await c.call('get', '/api/pipelines/{id}/why', { ...id, query: { window: 'other@daily@2026-06-01T03:00:00Z' } }),
    400,
    'why other window',
  );
  want(
    await c.call('get', '/api/pipelines/{id}/why', {
      ...id,
      query: { window: `${f.pipeline}@daily@2026-06-01T03:00:00Z` },
    }),
    404,
    'why unknown window',
  );
  want(await c.call('get', '/api/pipelines/{id}/why', { path: { id: 'nope' } }), 404, 'why unknown pipeline');
  const finished = want(await c.call('get', '/api/pipelines/{id}/readiness', id), 200, 'getReadiness (end)').body;
  check(finished.activeRun === null && finished.lastRun?.runId === second, 'no active run; the last one');

  // A known path asked with a method it does not have: 405 with Allow.
  for (const [method, path, allow] of [
    ['PUT', `/api/pipelines/${f.pipeline}`, 'DELETE, GET, HEAD'],
    ['GET', `/api/pipelines/${f.pipeline}/run`, 'POST'],
    ['DELETE', `/api/runs/${runId}`, 'GET, HEAD'],
    ['POST', '/api/health', 'GET, HEAD'],
  ] as const) {
    const r = await c.undeclared(method, path);
    check(
      r.status === 405 && r.headers.get('allow') === allow,
      `${method} ${path}: 405 Allow: ${allow}, got ${r.status} ${r.headers.get('allow')}`,
    );
  }
}
