// Drift test for core/lists.ts: every enum in the API zod schemas, the config zod schemas and the committed JSON
// Schemas that names a member of a core list is exactly that list, and each list shows up where it should.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as api from '../src/api/schemas.js';
import { archetypeSchema, pipelineSchema, projectSchema } from '../src/config/schema.js';
import * as lists from '../src/core/lists.js';
import { RUN_STATUSES } from '../src/core/run-status.js';
import { triggerSpecSchema } from '../src/core/shapes.js';
import { ATTEMPT_RESULTS, WINDOW_STATES } from '../src/runtime/windows.js';
import { REPO } from './support/paths.js';

const CORE: Record<string, readonly string[]> = {
  RUN_STATUSES,
  EVAL_STATUSES: lists.EVAL_STATUSES,
  TRAIT_STATES: lists.TRAIT_STATES,
  REASON_CODES: lists.REASON_CODES,
  READINESS_RULES: lists.READINESS_RULES,
  OUTCOMES: lists.OUTCOMES,
  DECISION_SOURCES: lists.DECISION_SOURCES,
  TRIGGER_TYPES: lists.TRIGGER_TYPES,
  PIPELINE_ORIGINS: lists.PIPELINE_ORIGINS,
  HTTP_METHODS: lists.HTTP_METHODS,
  FAILURE_CATEGORIES: lists.FAILURE_CATEGORIES,
  AIRFLOW_API_VERSIONS: lists.AIRFLOW_API_VERSIONS,
  // Not core lists, but they share members with RUN_STATUSES: the window API names them exactly.
  WINDOW_STATES,
  ATTEMPT_RESULTS,
};

type Json = Record<string, unknown>;
function* walk(s: unknown): Generator<Json> {
  if (Array.isArray(s)) for (const x of s) yield* walk(x);
  else if (s && typeof s === 'object') {
    yield s as Json;
    for (const v of Object.values(s)) yield* walk(v);
  }
}

/** Every closed set of strings in a JSON Schema: `enum`s, and `const`s gathered from a `oneOf`/`anyOf` of them. */
function enumsOf(schema: unknown): string[][] {
  const out: string[][] = [];
  for (const node of walk(schema)) {
    if (Array.isArray(node.enum)) out.push(node.enum.map(String));
    for (const key of ['oneOf', 'anyOf']) {
      const alts = node[key];
      if (!Array.isArray(alts)) continue;
      const consts = alts.map((a) => (a as Json)?.properties as Json | undefined).map((p) => (p?.type as Json)?.const);
      if (consts.length > 1 && consts.every((c) => typeof c === 'string')) out.push(consts as string[]);
    }
  }
  return out;
}

/**
 * Every enum that shares a member with a core list must be one of the lists it overlaps, exactly (['PASS', 'FAIL',
 * 'STALE'] overlaps EVAL_STATUSES, TRAIT_STATES and REASON_CODES and is TRAIT_STATES). Returns the lists seen.
 */
function expectNoDrift(where: string, enums: string[][]): Set<string> {
  const seen = new Set<string>();
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((m) => b.includes(m));
  for (const e of enums) {
    const overlapping = Object.entries(CORE).filter(([, list]) => e.some((m) => list.includes(m)));
    if (overlapping.length === 0) continue;
    const match = overlapping.find(([, list]) => same(e, list));
    expect(
      match?.[0],
      `${where}: enum [${e.join(', ')}] is none of ${overlapping.map(([n]) => n).join(', ')}`,
    ).toBeDefined();
    if (match) seen.add(match[0]);
  }
  return seen;
}

const jsonOf = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

describe('one source for every list (core/lists.ts)', () => {
  it('the API zod schemas use exactly the core lists', () => {
    const schemas: z.ZodType[] = Object.values(api).filter((s) => s instanceof z.ZodType);
    const seen = new Set<string>();
    for (const s of schemas) for (const n of expectNoDrift('api', enumsOf(jsonOf(s)))) seen.add(n);
    expect([...seen].sort()).toEqual(Object.keys(CORE).sort());
  });

  it('the config zod schemas use exactly the core lists', () => {
    const seen = new Set<string>();
    for (const s of [projectSchema, archetypeSchema, pipelineSchema]) {
      for (const n of expectNoDrift('config', enumsOf(jsonOf(s)))) seen.add(n);
    }
    expect(seen).toEqual(new Set(['READINESS_RULES', 'HTTP_METHODS', 'TRIGGER_TYPES', 'AIRFLOW_API_VERSIONS']));
  });

  it('the committed JSON Schemas (npm run schema) use exactly the core lists', () => {
    const seen = new Set<string>();
    for (const f of ['interlock', 'archetype', 'pipeline']) {
      const doc = JSON.parse(readFileSync(join(REPO, 'schemas', `${f}.schema.json`), 'utf8'));
      for (const n of expectNoDrift(`schemas/${f}.schema.json`, enumsOf(doc))) seen.add(n);
    }
    expect(seen).toEqual(new Set(['READINESS_RULES', 'HTTP_METHODS', 'TRIGGER_TYPES', 'AIRFLOW_API_VERSIONS']));
  });

  it('a drifted enum is caught (the check can fail)', () => {
    const drifted = z.object({ code: z.enum(['EVALUATOR_TIMEOUT', 'NO_EVALUATOR']) });
    expect(() => expectNoDrift('sample', enumsOf(jsonOf(drifted)))).toThrow();
  });

  it('the trigger shape: config, the committed JSON Schema and the API have the fields of core/shapes.ts', () => {
    /** type -> its sorted field names, from a JSON Schema union of trigger variants. */
    const variants = (union: Json): Record<string, string[]> => {
      const alts = (union.oneOf ?? union.anyOf) as Json[];
      return Object.fromEntries(
        alts.map((a) => {
          const props = a.properties as Record<string, Json>;
          return [String(props.type.const), Object.keys(props).sort()];
        }),
      );
    };
    const core = variants(jsonOf(triggerSpecSchema) as Json);
    expect(Object.keys(core).sort()).toEqual([...lists.TRIGGER_TYPES].sort());
    const config = jsonOf(pipelineSchema) as unknown as { properties: { trigger: Json } };
    expect(variants(config.properties.trigger)).toEqual(core);
    const committed = JSON.parse(readFileSync(join(REPO, 'schemas', 'pipeline.schema.json'), 'utf8'));
    expect(variants(committed.properties.trigger)).toEqual(core);
    const view = jsonOf(api.PipelineSchema) as unknown as { properties: { trigger: Json } };
    expect(variants(view.properties.trigger)).toEqual(core);
  });
});
