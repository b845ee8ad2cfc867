// The committed JSON Schemas match the zod schemas: same text as generated, strict objects, same verdicts on samples.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JSON_SCHEMA_FILES, jsonSchemaFileContents, jsonSchemas } from './json-schema.js';
import { archetypeSchema, checkSchema, pipelineSchema, projectSchema } from './schema.js';

const SCHEMAS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas');

type Json = Record<string, unknown>;

/** Every subschema, depth first. */
function* walk(s: unknown): Generator<Json> {
  if (Array.isArray(s)) {
    for (const x of s) yield* walk(x);
  } else if (s && typeof s === 'object') {
    yield s as Json;
    for (const v of Object.values(s)) yield* walk(v);
  }
}

const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

/**
 * A deliberately small JSON Schema checker for the keywords our generated schemas use (no ajv here). Returns the
 * number of violations; enough to ask "does the schema accept this document?".
 */
function violations(schema: Json, v: unknown): number {
  let n = 0;
  const t = schema.type as string | undefined;
  if (t) {
    const actual = typeOf(v);
    if (!(actual === t || (t === 'number' && actual === 'integer'))) return 1;
  }
  if ('const' in schema && schema.const !== v) n++;
  if (Array.isArray(schema.enum) && !schema.enum.includes(v)) n++;
  if (typeof v === 'string') {
    if (typeof schema.minLength === 'number' && v.length < schema.minLength) n++;
    if (typeof schema.maxLength === 'number' && v.length > schema.maxLength) n++;
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(v)) n++;
    if (schema.format === 'uri' && !URL.canParse(v)) n++;
  }
  if (typeof v === 'number') {
    if (typeof schema.minimum === 'number' && v < schema.minimum) n++;
    if (typeof schema.maximum === 'number' && v > schema.maximum) n++;
    if (typeof schema.exclusiveMinimum === 'number' && v <= schema.exclusiveMinimum) n++;
  }
  if (Array.isArray(v)) {
    if (typeof schema.minItems === 'number' && v.length < schema.minItems) n++;
    if (schema.items) for (const x of v) n += violations(schema.items as Json, x);
  }
  if (typeOf(v) === 'object') {
    const o = v as Json;
    const props = (schema.properties ?? {}) as Record<string, Json>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in o)) n++;
    for (const [k, x] of Object.entries(o)) {
      if (schema.propertyNames) n += violations(schema.propertyNames as Json, k);
      if (props[k]) n += violations(props[k], x);
      else if (schema.additionalProperties === false) n++;
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        n += violations(schema.additionalProperties as Json, x);
      }
    }
  }
  if (Array.isArray(schema.anyOf) && !(schema.anyOf as Json[]).some((s) => violations(s, v) === 0)) n++;
  if (Array.isArray(schema.oneOf)) {
    const matches = (schema.oneOf as Json[]).filter((s) => violations(s, v) === 0).length;
    if (matches !== 1) n++;
  }
  return n;
}

describe('JSON Schema export', () => {
  it('matches the committed files in schemas/ (regenerate with jsonSchemaFileContents())', () => {
    for (const [name, text] of Object.entries(jsonSchemaFileContents())) {
      expect(fs.readFileSync(path.join(SCHEMAS_DIR, name), 'utf8'), name).toBe(text);
    }
    expect(Object.values(JSON_SCHEMA_FILES).sort()).toEqual([
      'archetype.schema.json',
      'interlock.schema.json',
      'pipeline.schema.json',
    ]);
  });

  it('forbids unknown keys on every object with declared properties', () => {
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      const objects = [...walk(schema)].filter((s) => s.type === 'object' && 'properties' in s);
      expect(objects.length, name).toBeGreaterThan(0);
      for (const o of objects)
        expect(o.additionalProperties, `${name}: ${Object.keys(o.properties as Json)}`).toBe(false);
    }
  });

  it('does not require fields that have defaults (io: input)', () => {
    const { project, archetype, pipeline } = jsonSchemas();
    expect(project.required).toBeUndefined();
    expect(archetype.required).toEqual(['name', 'requiredTraits']);
    expect(pipeline.required).toEqual(['name', 'archetype']);
  });

  it('lists the same enums as zod', () => {
    const { project, archetype } = jsonSchemas();
    const props = project.properties as Record<string, Json>;
    expect(props.provider?.enum).toEqual(['sqlite', 'redis', 'postgres', 'memory']);
    // alerts: oneOf [a list of sinks, { repeatAfter, sinks }], both listing the same sink types.
    const [list, mapping] = (props.alerts as Json).oneOf as Json[];
    const sinkTypes = (sinks: Json) =>
      ((sinks.items as Json).oneOf as Json[]).map((s) => (s.properties as Record<string, Json>).type?.const);
    expect(sinkTypes(list)).toEqual(['console', 'webhook', 'file', 'slack', 'pagerduty']);
    expect(sinkTypes((mapping.properties as Record<string, Json>).sinks)).toEqual([
      'console',
      'webhook',
      'file',
      'slack',
      'pagerduty',
    ]);
    const rule = (archetype.properties as Record<string, Json>).readinessRule as Json;
    expect(((rule.properties as Record<string, Json>).type as Json).enum).toEqual([
      'all-required-pass',
      'majority-pass',
    ]);
  });

  // Documents on which zod and the JSON Schema must agree. (Known gap: the http(s)-only rule for webhook URLs is
  // zod-only; JSON Schema just says "uri".)
  const samples: Array<readonly [string, 'project' | 'archetype' | 'pipeline', unknown, boolean]> = [
    ['empty project', 'project', {}, true],
    [
      'seed project',
      'project',
      {
        provider: 'redis',
        redis: { addr: 'localhost:6379', keyPrefix: 'interlock:' },
        server: { addr: ':3000' },
        alerts: [
          { type: 'console' },
          { type: 'webhook', url: 'http://localhost:8080/alerts' },
          { type: 'file', path: './a.log' },
        ],
      },
      true,
    ],
    ['unknown provider', 'project', { provider: 'mysql' }, false],
    ['unknown project key', 'project', { pipelineDir: ['x'] }, false],
    ['alert without type', 'project', { alerts: [{ url: 'http://x' }] }, false],
    ['webhook without url', 'project', { alerts: [{ type: 'webhook' }] }, false],
    [
      'alerts mapping',
      'project',
      {
        alerts: {
          repeatAfter: 600,
          sinks: [{ type: 'webhook', url: 'http://h/x', timeout: 1, retries: 0, headers: { 'X-Token': 't' } }],
        },
      },
      true,
    ],
    ['empty alerts mapping', 'project', { alerts: {} }, true],
    ['negative repeatAfter', 'project', { alerts: { repeatAfter: -1 } }, false],
    ['alerts timeout', 'project', { alerts: { timeout: 1.5, sinks: [] } }, true],
    ['zero alerts timeout', 'project', { alerts: { timeout: 0 } }, false],
    ['unknown key in alerts mapping', 'project', { alerts: { repeatAftr: 5 } }, false],
    ['webhook without url in mapping', 'project', { alerts: { sinks: [{ type: 'webhook' }] } }, false],
    ['alerts as a string', 'project', { alerts: 'console' }, false],
    ['bad header name', 'project', { alerts: [{ type: 'webhook', url: 'http://h', headers: { 'a b': 'x' } }] }, false],
    ['fractional retries', 'project', { alerts: [{ type: 'webhook', url: 'http://h', retries: 0.5 }] }, false],
    ['zero concurrency', 'project', { evaluatorConcurrency: 0 }, false],
    ['fractional concurrency', 'project', { evaluatorConcurrency: 1.5 }, false],
    ['minimal archetype', 'archetype', { name: 'a', requiredTraits: [{ type: 't' }] }, true],
    ['no required traits', 'archetype', { name: 'a', requiredTraits: [] }, false],
    ['bad archetype name', 'archetype', { name: 'A', requiredTraits: [{ type: 't' }] }, false],
    [
      'bad readiness rule',
      'archetype',
      { name: 'a', requiredTraits: [{ type: 't' }], readinessRule: { type: 'any' } },
      false,
    ],
    [
      'threshold above 1',
      'archetype',
      { name: 'a', requiredTraits: [{ type: 't' }], readinessRule: { type: 'majority-pass', threshold: 2 } },
      false,
    ],
    ['string ttl', 'archetype', { name: 'a', requiredTraits: [{ type: 't', defaultTtl: '30' }] }, false],
    [
      'full pipeline',
      'pipeline',
      {
        name: 'daily-sales-rollup',
        archetype: 'batch-ingestion',
        tier: 2,
        traits: { 'source-freshness': { evaluator: './e', config: { a: 1 }, ttl: 120, timeout: 15 } },
        trigger: { type: 'http', url: `\${BASE}/x`, headers: { A: 'b' }, body: '{}', async: true },
      },
      true,
    ],
    ['missing archetype', 'pipeline', { name: 'p' }, false],
    ['typo in trait', 'pipeline', { name: 'p', archetype: 'a', traits: { t: { timout: 1 } } }, false],
    ['negative timeout', 'pipeline', { name: 'p', archetype: 'a', traits: { t: { timeout: -1 } } }, false],
    ['bad trait key', 'pipeline', { name: 'p', archetype: 'a', traits: { Bad: {} } }, false],
    [
      'lowercase method',
      'pipeline',
      { name: 'p', archetype: 'a', trigger: { type: 'http', method: 'get', url: 'x' } },
      false,
    ],
    ['command without command', 'pipeline', { name: 'p', archetype: 'a', trigger: { type: 'command' } }, false],
    ['negative tier', 'pipeline', { name: 'p', archetype: 'a', tier: -1 }, false],
    ...(['90s', '15m', '2h', '1d', '1h30m', 90, 0.5] as const).map(
      (d) =>
        [
          `duration ${JSON.stringify(d)}`,
          'pipeline',
          { name: 'p', archetype: 'a', traits: { t: { ttl: d } } },
          true,
        ] as const,
    ),
    ...(['90', '15 m', '1.5h', '30m1h', 'soon', '', 0, -5, true] as const).map(
      (d) =>
        [
          `bad duration ${JSON.stringify(d)}`,
          'pipeline',
          { name: 'p', archetype: 'a', traits: { t: { timeout: d } } },
          false,
        ] as const,
    ),
    [
      'duration strings in interlock.yaml',
      'project',
      { redis: { connectTimeout: '10s' }, alerts: { repeatAfter: '1h' } },
      true,
    ],
    ['repeatAfter 0s', 'project', { alerts: { repeatAfter: '0s' } }, true],
    ['bad connectTimeout', 'project', { redis: { connectTimeout: '10 seconds' } }, false],
    [
      'archetype durations',
      'archetype',
      { name: 'a', requiredTraits: [{ type: 't', defaultTtl: '15m', defaultTimeout: '30s' }] },
      true,
    ],
    [
      'trigger durations',
      'pipeline',
      { name: 'p', archetype: 'a', trigger: { type: 'command', command: 'x', timeout: '1h', maxRunSeconds: '1d' } },
      true,
    ],
    [
      'bad trigger duration',
      'pipeline',
      { name: 'p', archetype: 'a', trigger: { type: 'command', command: 'x', maxRunSeconds: '1 day' } },
      false,
    ],
  ];
  const zodOf = { project: projectSchema, archetype: archetypeSchema, pipeline: pipelineSchema };

  it.each(samples)('zod and JSON Schema agree: %s', (_label, kind, doc, valid) => {
    expect(checkSchema(zodOf[kind], doc).ok).toBe(valid);
    expect(violations(jsonSchemas()[kind], doc) === 0).toBe(valid);
  });
});
