// The OpenAPI document as a contract, checked against a real `interlock serve`: TypeScript types generated from it
// (openapi-typescript) type-check a client that drives every operation; every answer validates against the
// document's schema for that operation and status (ajv, strict, JSON Schema 2020-12); Redocly's recommended rules
// find no error.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { REPO } from '../support/paths.js';
import { type ServeProcess, serveProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

const TOKEN = 'contract-test-token';
const OPERATIONS = [
  'getHealth',
  'getMetrics',
  'streamEvents',
  'getOpenApi',
  'listPipelines',
  'registerPipeline',
  'getPipeline',
  'deletePipeline',
  'evaluatePipeline',
  'getReadiness',
  'listTraits',
  'getTrait',
  'pushTraitResult',
  'runPipeline',
  'listRuns',
  'getHistory',
  'listWindows',
  'getWindow',
  'whyPipeline',
  'getRun',
  'completeRun',
  'cancelRun',
];

// biome-ignore lint/suspicious/noExplicitAny: the served document is walked as plain JSON.
type Json = any;

/** What contract/client.ts records per request (declared here: that file compiles only beside generated types). */
interface Exchange {
  method: string;
  path: string;
  declared: boolean;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}
interface ClientModule {
  Client: new (base: string, token: string | undefined, seen: (e: Exchange) => void) => unknown;
  driveEverything(client: unknown, flow: Record<string, unknown>): Promise<void>;
}

let work: { dir: string; cleanup: () => void };
let orchestrator: Server;
let serve: ServeProcess;
let spec: Json;

beforeAll(async () => {
  work = tempDir('interlock-contract-');
  // An orchestrator stand-in for the async http trigger: accepts every request (the run then waits for its callback).
  orchestrator = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"dag_run_id":"x"}'));
  });
  await new Promise<void>((r) => orchestrator.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(orchestrator.address() as AddressInfo).port}/dags/p/dagRuns`;
  const root = makeProject(join(work.dir, 'project'), {
    config: 'provider: sqlite\nserver:\n  addr: "127.0.0.1:0"\n',
    trigger: `trigger:\n  type: http\n  url: ${hook}\n  async: true\n`,
    files: {
      'pipelines/blocked.yaml':
        'name: blocked\narchetype: gate\ntraits:\n  a:\n    evaluator: fail\ntrigger:\n  type: command\n  command: "true"\n',
    },
  });
  serve = await serveProcess(root, [], { INTERLOCK_API_TOKEN: TOKEN });
  const r = await fetch(`${serve.url}/api/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.status).toBe(200);
  spec = await r.json();
}, 60_000);

afterAll(async () => {
  if (serve && serve.child.exitCode === null) {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
  await new Promise<void>((r) => (orchestrator ? orchestrator.close(() => r()) : r()));
  work?.cleanup();
});

/**
 * `schema` with unevaluatedProperties: false on every object that declares properties and says nothing about others;
 * `open`: not on this level (an allOf member). References point at the closed copies (`__open` inside an allOf).
 */
function closed(schema: Json, open: boolean): Json {
  if (Array.isArray(schema) || schema === null || typeof schema !== 'object') return schema;
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return { ...schema, $ref: `openapi-closed#/$defs/${name}${open ? '__open' : ''}` };
  }
  const out: Json = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(Object.entries<Json>(schema.properties).map(([k, v]) => [k, closed(v, false)]));
  }
  if (schema.items) out.items = closed(schema.items, false);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    out.additionalProperties = closed(schema.additionalProperties, false);
  }
  for (const k of ['anyOf', 'oneOf']) if (schema[k]) out[k] = schema[k].map((m: Json) => closed(m, open));
  if (schema.allOf) out.allOf = schema.allOf.map((m: Json) => closed(m, true));
  const object = schema.properties !== undefined || schema.allOf !== undefined;
  if (!open && object && schema.additionalProperties === undefined) {
    out.unevaluatedProperties = false;
    out.type ??= 'object'; // strictTypes: the keyword applies to objects only
  }
  return out;
}

/** Every operation of the document: `METHOD path` → operation object. */
function operations(doc: Json): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const [method, op] of Object.entries<Json>(item)) out.set(`${method.toUpperCase()} ${path}`, op);
  }
  return out;
}

describe('the served OpenAPI document', () => {
  it('nullable fields let null validate; only they are nullable (Run and TraitResult are not)', () => {
    const s = spec.components.schemas;
    expect(s.PipelineReadiness.properties.traits.items.properties.result).toMatchObject({
      anyOf: [{ $ref: '#/components/schemas/TraitResult' }, { type: 'null' }],
    });
    expect(s.PipelineReadiness.properties.activeRun.anyOf).toEqual([
      { $ref: '#/components/schemas/Run' },
      { type: 'null' },
    ]);
    for (const name of Object.keys(s)) {
      expect(JSON.stringify(s[name].type ?? ''), name).not.toContain('null');
    }
    // No "allOf with a nullable type" anywhere: null never satisfies the $ref beside it.
    expect(JSON.stringify(spec)).not.toMatch(/"allOf":\[\{"\$ref":"[^"]+"\},\{"type":\["object","null"\]\}\]/);
  });

  it('optional bearer auth on every operation, none on /api/health; the description says when a token is needed', () => {
    for (const [key, op] of operations(spec)) {
      expect(op.security, key).toEqual(key === 'GET /api/health' ? [] : [{ bearerAuth: [] }, {}]);
    }
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(spec.components.securitySchemes.bearerAuth.description).toMatch(/every operation but getHealth/);
    expect(spec.info.description).toMatch(/token is needed by every operation but getHealth when the server has one/);
  });

  it('a stable operationId per operation, a servers entry, a licence; /api/openapi.json is itself in paths', () => {
    const ids = [...operations(spec).values()].map((op) => op.operationId);
    expect([...ids].sort()).toEqual([...OPERATIONS].sort());
    expect(operations(spec).get('GET /api/openapi.json')?.operationId).toBe('getOpenApi');
    expect(spec.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(spec.info.license).toMatchObject({ name: 'Apache-2.0' });
  });

  it('413 on every route that reads a body, 415 on every JSON-body route; Location and WWW-Authenticate declared', () => {
    for (const [key, op] of operations(spec)) {
      if (!key.startsWith('GET ')) expect(Object.keys(op.responses), key).toContain('413');
      if (op.requestBody) {
        expect(op.responses['415'], key).toBeDefined();
        expect(op.responses['415'].headers.Accept).toMatchObject({ required: true });
      }
      if (key !== 'GET /api/health') {
        expect(op.responses['401'].headers['WWW-Authenticate'], key).toMatchObject({ required: true });
      }
    }
    const ops = operations(spec);
    expect(ops.get('POST /api/pipelines/{id}/run').responses['202'].headers.Location).toMatchObject({ required: true });
    expect(ops.get('POST /api/pipelines').responses['201'].headers.Location).toMatchObject({ required: true });
  });

  it('redocly lint (recommended rules) reports no errors', () => {
    const file = join(work.dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(spec, null, 2));
    const r = spawnSync(
      process.execPath,
      [
        join(REPO, 'node_modules/@redocly/cli/bin/cli.js'),
        'lint',
        file,
        '--extends',
        'recommended',
        '--format',
        'json',
      ],
      {
        cwd: work.dir,
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      },
    );
    const start = r.stdout.indexOf('{');
    expect(start, r.stdout + r.stderr).toBeGreaterThanOrEqual(0);
    const report = JSON.parse(r.stdout.slice(start));
    const errors = report.problems.filter((p: { severity: string }) => p.severity === 'error');
    expect(errors, JSON.stringify(errors, null, 2)).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
  }, 60_000);
});

describe('a client generated from the document', () => {
  let typesDir: string;

  beforeAll(async () => {
    typesDir = join(work.dir, 'client');
    const source = astToString(await openapiTS(spec));
    mkdirSync(typesDir, { recursive: true });
    writeFileSync(join(typesDir, 'openapi-types.ts'), source);
    copyFileSync(join(REPO, 'test/api/contract/client.ts'), join(typesDir, 'client.ts'));
    writeFileSync(join(typesDir, 'package.json'), '{"type":"module"}\n');
  }, 60_000);

  /** tsc over `files` in the client dir, with the repository's compiler settings. */
  function tsc(files: string[]) {
    const config = join(typesDir, `tsconfig.${files[0]}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: ['node'],
          typeRoots: [join(REPO, 'node_modules/@types')],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          verbatimModuleSyntax: true,
        },
        files,
      }),
    );
    return spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', config], {
      cwd: typesDir,
      encoding: 'utf8',
    });
  }

  it('type-checks the client module (tsc passes)', () => {
    const r = tsc(['client.ts', 'openapi-types.ts']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);

  it('a misuse of the generated types fails tsc: an unchecked nullable result, a null Run', () => {
    writeFileSync(
      join(typesDir, 'misuse.ts'),
      [
        "import type { components } from './openapi-types.js';",
        "type S = components['schemas'];",
        "export const status = (r: S['PipelineReadiness']) => r.traits[0].result.status;",
        "export const run: S['Run'] = null;",
        '',
      ].join('\n'),
    );
    const r = tsc(['misuse.ts', 'openapi-types.ts']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/misuse\.ts\(3,\d+\): error TS(2531|18047)/); // result is possibly null
    expect(r.stdout).toMatch(/misuse\.ts\(4,\d+\): error TS2322/); // null is not a Run
  }, 120_000);

  it('drives every operation and error status against serve; every answer validates against the document', async () => {
    // The very file tsc checked against the generated types (its type-only import is erased at run time).
    const { Client, driveEverything }: ClientModule = await import(join(typesDir, 'client.ts'));
    const seen: Exchange[] = [];
    const client = new Client(serve.url, TOKEN, (e) => seen.push(e));
    await driveEverything(client, {
      pipeline: 'p',
      blocked: 'blocked',
      noTrigger: 'no-trigger',
      register: {
        name: 'registered',
        archetype: 'gate',
        traits: { a: { evaluator: 'pass' } },
        trigger: { type: 'http', url: 'https://airflow.example.com/api/v1/dags/x/dagRuns' },
      },
      refused: {
        name: 'refused',
        archetype: 'gate',
        traits: { a: { evaluator: 'pass' } },
        trigger: { type: 'command', command: 'true' },
      },
      tooLarge: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }),
    });

    // ajv in strict mode, JSON Schema 2020-12 (the OpenAPI 3.1 dialect). `example` is OpenAPI's own annotation;
    // union types (`type: [integer, null]`) are how 3.1 writes a nullable primitive.
    const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats.default(ajv);
    ajv.addKeyword('example');
    const toDefs = (schema: Json) =>
      JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"openapi#/$defs/'));
    ajv.addSchema({ $id: 'openapi', $defs: toDefs(spec.components.schemas) });
    const validators = new Map<string, ReturnType<typeof ajv.compile>>();
    // The same schemas closed: an answer may carry no field the document does not declare (a generated client could
    // not see it). Each object without additionalProperties gets unevaluatedProperties: false, set on an allOf as a
    // whole and not on its members (which see only their own properties).
    const closedDefs: Record<string, Json> = {};
    for (const [name, def] of Object.entries<Json>(spec.components.schemas)) {
      closedDefs[name] = closed(def, false);
      closedDefs[`${name}__open`] = closed(def, true);
    }
    ajv.addSchema({ $id: 'openapi-closed', $defs: closedDefs });
    const closedValidators = new Map<string, ReturnType<typeof ajv.compile>>();
    const ops = operations(spec);

    const problems: string[] = [];
    const statuses = new Set<number>();
    const exercised = new Set<string>();
    for (const e of seen) {
      statuses.add(e.status);
      const what = `${e.method.toUpperCase()} ${e.path} → ${e.status}`;
      let response: Json;
      if (e.declared) {
        const op = ops.get(`${e.method.toUpperCase()} ${e.path}`);
        exercised.add(op?.operationId);
        response = op?.responses?.[String(e.status)];
        if (!response) {
          problems.push(`${what}: status not declared`);
          continue;
        }
        for (const [name, h] of Object.entries<Json>(response.headers ?? {})) {
          if (h.required && e.headers[name.toLowerCase()] === undefined) problems.push(`${what}: no ${name} header`);
        }
      } else {
        // A method the path does not have: no operation applies; the answer is still the documented error shape.
        response = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
      }
      if (response.content?.['text/event-stream']) {
        // GET /api/events: an SSE stream (test/api/events.test.ts judges its content).
        if (typeof e.body !== 'string' || !e.headers['content-type']?.startsWith('text/event-stream')) {
          problems.push(`${what}: not a text/event-stream answer`);
        }
        continue;
      }
      if (response.content?.['text/plain']) {
        // GET /metrics: Prometheus text; promtool judges its content (test/api/metrics.test.ts).
        if (typeof e.body !== 'string' || !e.headers['content-type']?.startsWith('text/plain')) {
          problems.push(`${what}: not a text/plain answer`);
        }
        continue;
      }
      const schema = response.content?.['application/json']?.schema;
      if (!schema) {
        problems.push(`${what}: no JSON schema`);
        continue;
      }
      const key = JSON.stringify(schema);
      let validate = validators.get(key);
      if (!validate) {
        validate = ajv.compile(toDefs(schema));
        validators.set(key, validate);
      }
      if (!validate(e.body)) {
        problems.push(`${what}: ${ajv.errorsText(validate.errors)}: ${JSON.stringify(e.body).slice(0, 300)}`);
        continue;
      }
      let strict = closedValidators.get(key);
      if (!strict) {
        strict = ajv.compile(closed(schema, false));
        closedValidators.set(key, strict);
      }
      if (!strict(e.body)) {
        const fields = (strict.errors ?? []).map((x) => `${x.instancePath}/${x.params.unevaluatedProperty ?? '?'}`);
        problems.push(`${what}: fields the document does not declare: ${[...new Set(fields)].join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
    // The validators are not vacuous: a fresh readiness answer with a wrong result or a wrong run is refused.
    const fresh = seen.find((e) => e.path === '/api/pipelines/{id}/readiness' && e.status === 200)?.body as Json;
    const readiness = validators.get(
      JSON.stringify(ops.get('GET /api/pipelines/{id}/readiness').responses['200'].content['application/json'].schema),
    );
    expect(readiness?.(fresh)).toBe(true);
    expect(fresh.traits[0].result).toBeNull();
    expect(readiness?.({ ...fresh, traits: [{ ...fresh.traits[0], result: {} }] })).toBe(false);
    expect(readiness?.({ ...fresh, lastRun: { runId: 'x' } })).toBe(false);
    // …and the closed ones refuse a field the document does not declare, also through an allOf (TraitResultView).
    const readinessKey = JSON.stringify(
      ops.get('GET /api/pipelines/{id}/readiness').responses['200'].content['application/json'].schema,
    );
    expect(readiness?.({ ...fresh, surprise: 1 })).toBe(true);
    expect(closedValidators.get(readinessKey)?.({ ...fresh, surprise: 1 })).toBe(false);
    const trait = seen.find((e) => e.path === '/api/pipelines/{id}/traits/{type}' && e.status === 200);
    const traitKey = JSON.stringify(
      ops.get('GET /api/pipelines/{id}/traits/{type}').responses['200'].content['application/json'].schema,
    );
    expect(closedValidators.get(traitKey)?.(trait?.body)).toBe(true);
    expect(closedValidators.get(traitKey)?.({ ...(trait?.body as object), surprise: 1 })).toBe(false);
    expect([...exercised].sort()).toEqual([...OPERATIONS].sort());
    for (const status of [200, 201, 202, 400, 401, 403, 404, 405, 409, 412, 413, 415]) {
      expect(statuses, `status ${status} exercised`).toContain(status);
    }
  }, 120_000);
});
