// Trait resolution: archetype × pipeline → ordered traits with merged config, ttl and timeout. Pure.
import { BUILTIN_PREFIX, PUSH_EVALUATOR } from '../core/lists.js';
import type { ResolvedTrait } from '../core/types.js';

/** Engine default evaluator timeout, seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 30;

export interface ArchetypeTraitDef {
  type: string;
  description?: string;
  defaultConfig?: Record<string, unknown>;
  defaultTtl?: number;
  defaultTimeout?: number;
  defaultEnv?: string[];
  /**
   * 'push': the trait's results are pushed, nothing runs; `builtin:<name>`: a built-in check (a pipeline may set its
   * own evaluator instead).
   */
  evaluator?: string;
}

export interface PipelineTraitDef {
  evaluator?: string;
  config?: Record<string, unknown>;
  ttl?: number;
  timeout?: number;
  env?: string[];
}

/**
 * Required traits in archetype order, then the optional traits the pipeline lists (in archetype order).
 * Config is a shallow merge (pipeline wins); ttl/timeout/env: pipeline, else archetype default, else engine default.
 * evaluator: the pipeline's, else the archetype's ('push' or a builtin). 'push' resolves to `push: true` and no path,
 * `builtin:<name>` to `builtin: name` and no path.
 * `locate` turns an evaluator reference into an absolute path (the caller owns the filesystem).
 * Pipeline traits the archetype does not declare are the config layer's error to report; they are ignored here.
 */
export function resolveTraits(
  required: readonly ArchetypeTraitDef[],
  optional: readonly ArchetypeTraitDef[],
  pipelineTraits: Readonly<Record<string, PipelineTraitDef>>,
  locate: (ref: string) => string,
): ResolvedTrait[] {
  const one = (def: ArchetypeTraitDef, isRequired: boolean): ResolvedTrait => {
    const p = pipelineTraits[def.type] ?? {};
    const t: ResolvedTrait = {
      type: def.type,
      required: isRequired,
      config: { ...(def.defaultConfig ?? {}), ...(p.config ?? {}) },
      timeoutSeconds: p.timeout ?? def.defaultTimeout ?? DEFAULT_TIMEOUT_SECONDS,
    };
    if (def.description !== undefined) t.description = def.description;
    const ttl = p.ttl ?? def.defaultTtl;
    if (ttl !== undefined) t.ttlSeconds = ttl;
    const env = p.env ?? def.defaultEnv;
    if (env !== undefined && env.length > 0) t.env = [...env];
    const evaluator = p.evaluator ?? def.evaluator;
    if (evaluator === PUSH_EVALUATOR) {
      t.evaluatorRef = PUSH_EVALUATOR;
      t.push = true;
    } else if (evaluator?.startsWith(BUILTIN_PREFIX)) {
      t.evaluatorRef = evaluator;
      t.builtin = evaluator.slice(BUILTIN_PREFIX.length);
    } else if (evaluator !== undefined) {
      t.evaluatorRef = evaluator;
      t.evaluator = locate(evaluator);
    }
    return t;
  };
  return [
    ...required.map((d) => one(d, true)),
    ...optional.filter((d) => Object.hasOwn(pipelineTraits, d.type)).map((d) => one(d, false)),
  ];
}
