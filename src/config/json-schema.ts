// JSON Schemas for editors and external tools, generated from the same zod schemas the loader validates with.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { archetypeSchema, pipelineSchema, projectSchema } from './schema.js';

export interface JsonSchemas {
  project: Record<string, unknown>;
  archetype: Record<string, unknown>;
  pipeline: Record<string, unknown>;
}

/** File names (under `schemas/` at the repo root) for each schema. */
export const JSON_SCHEMA_FILES = {
  project: 'interlock.schema.json',
  archetype: 'archetype.schema.json',
  pipeline: 'pipeline.schema.json',
} as const satisfies Record<keyof JsonSchemas, string>;

// io 'input': what a user may write, so fields with defaults are not required.
const gen = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;

/** The three JSON Schemas (draft 2020-12), describing config files as written. */
export function jsonSchemas(): JsonSchemas {
  return { project: gen(projectSchema), archetype: gen(archetypeSchema), pipeline: gen(pipelineSchema) };
}

/** The committed text of each schema file: two-space JSON with a trailing newline. */
export function jsonSchemaFileContents(): Record<string, string> {
  const s = jsonSchemas();
  const out: Record<string, string> = {};
  for (const key of Object.keys(JSON_SCHEMA_FILES) as Array<keyof JsonSchemas>) {
    out[JSON_SCHEMA_FILES[key]] = `${JSON.stringify(s[key], null, 2)}\n`;
  }
  return out;
}

/** Writes the schema files into `dir` (created if missing); returns the paths written. */
export function writeJsonSchemas(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return Object.entries(jsonSchemaFileContents()).map(([name, text]) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  });
}
