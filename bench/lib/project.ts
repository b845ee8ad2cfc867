// Benchmark projects in temp dirs: trivial shell evaluators, one archetype with N traits, many pipelines; and the
// seeding of big projects' stores with trait results written straight through the built SqliteStore.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFiles } from '../../test/support/files.js';
import { importDist } from './proc.js';

/** What every bench evaluator gets on stdin (the archetype's defaultConfig). */
export const TRAIT_CONFIG = { threshold: 1 };

/** A trivial shell evaluator: reads its config, answers PASS. */
export const TRIVIAL_EVALUATOR = `#!/bin/sh
# Bench evaluator: read the config on stdin, answer PASS.
cat >/dev/null
echo '{"status":"PASS","value":{"ok":1}}'
`;

export interface BenchProjectOptions {
  /** How many pipelines. */
  pipelines: number;
  /** Traits per pipeline (all required; one evaluator file each). */
  traits: number;
  /** Pipeline names are `<prefix>-00001`… (default `p`). */
  prefix?: string;
  /** interlock.yaml body (default `provider: sqlite`). */
  config?: string;
  /** Trigger block of each pipeline (YAML, at the top level), if any. */
  trigger?: (name: string) => string;
}

export interface BenchProject {
  root: string;
  names: string[];
  /** Evaluator paths relative to root, in trait order. */
  evaluators: string[];
}

export function pipelineName(prefix: string, i: number): string {
  return `${prefix}-${String(i + 1).padStart(5, '0')}`;
}

/**
 * Writes a project: evaluators/trivial-1…N, archetype `bench` (traits t1…tN, TTL one day, so results stay PASS
 * for the whole run) and the pipelines, one file each.
 */
export function makeBenchProject(root: string, o: BenchProjectOptions): BenchProject {
  const prefix = o.prefix ?? 'p';
  const traits = Array.from({ length: o.traits }, (_, i) => `t${i + 1}`);
  const evaluators = traits.map((_, i) => `evaluators/trivial-${i + 1}`);
  const arch = [
    'name: bench',
    'requiredTraits:',
    ...traits.map(
      (t) =>
        `  - type: ${t}\n    defaultConfig: ${JSON.stringify(TRAIT_CONFIG)}\n    defaultTtl: 86400\n    defaultTimeout: 30`,
    ),
  ].join('\n');
  writeFiles(root, {
    'interlock.yaml': o.config ?? 'provider: sqlite\n',
    'archetypes/bench.yaml': `${arch}\n`,
    ...Object.fromEntries(evaluators.map((e) => [e, TRIVIAL_EVALUATOR])),
  });
  mkdirSync(join(root, 'pipelines'), { recursive: true });
  const names: string[] = [];
  for (let p = 0; p < o.pipelines; p++) {
    const name = pipelineName(prefix, p);
    names.push(name);
    const body = [
      `name: ${name}`,
      'archetype: bench',
      'traits:',
      ...traits.map((t, i) => `  ${t}:\n    evaluator: trivial-${i + 1}`),
      o.trigger ? o.trigger(name) : '',
    ].join('\n');
    writeFileSync(join(root, 'pipelines', `${name}.yaml`), `${body}\n`);
  }
  return { root, names, evaluators };
}

type ConfigModule = typeof import('../../src/config/index.js');
type SqliteModule = typeof import('../../src/store/sqlite/index.js');
type EngineModule = typeof import('../../src/engine/index.js');
type EvaluateModule = typeof import('../../src/runtime/evaluate.js');

/**
 * Seeds the project's SQLite store with one PASS result per trait of every pipeline, its readiness and a decision
 * record (source `test`), through the store API of the BUILT code (dist/) — the same write an evaluation makes, minus
 * the evaluator subprocesses. Returns how long it took and how many pipelines were seeded.
 */
export async function seedStore(root: string): Promise<{ pipelines: number; ms: number }> {
  const t0 = performance.now();
  const config = (await importDist('config/index.js')) as ConfigModule;
  const { SqliteStore } = (await importDist('store/sqlite/index.js')) as SqliteModule;
  const { decideReadiness } = (await importDist('engine/index.js')) as EngineModule;
  const { decisionRecord } = (await importDist('runtime/evaluate.js')) as EvaluateModule;
  const project = config.loadProject(config.findConfigFile(root));
  config.assertValid(project);
  const path = project.config.sqlite?.path;
  if (project.config.provider !== 'sqlite' || !path) throw new Error('seedStore: the project must use sqlite');
  const store = new SqliteStore({ path });
  try {
    let now = Date.now();
    for (const p of project.pipelines.values()) {
      now++;
      const results = p.traits.map((t) => ({
        pipeline: p.name,
        trait: t.type,
        status: 'PASS' as const,
        value: { ok: 1 },
        durationMs: 3,
        exitCode: 0,
        signal: null,
        evaluatedAt: now,
        ...(t.ttlSeconds !== undefined ? { expiresAt: now + t.ttlSeconds * 1000 } : {}),
      }));
      const readiness = decideReadiness(p.name, p.traits, results, p.readinessRule, now);
      await store.saveEvaluation({ results, readiness, decision: decisionRecord(readiness, 'test') });
    }
    return { pipelines: project.pipelines.size, ms: performance.now() - t0 };
  } finally {
    await store.close();
  }
}
