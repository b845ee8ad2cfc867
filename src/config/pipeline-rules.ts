// The semantic rules of a pipeline document (archetype known, traits declared, evaluators present) and its
// resolution into a PipelineSpec — shared by YAML files (load.ts) and documents registered over the HTTP API.
import fs from 'node:fs';
import path from 'node:path';
import { BUILTIN_CONFIG_SCHEMAS, builtinNameOf, connectionOf, isBuiltinName } from '../core/builtin-config.js';
import { PUSH_EVALUATOR } from '../core/lists.js';
import { isWindowVar } from '../core/run-vars.js';
import { missingVarState, TRIGGER_PROVIDED_VARS, templateVars } from '../core/template.js';
import type { PipelineSpec, TriggerSpec } from '../core/types.js';
import { type PipelineTraitDef, resolveTraits } from '../engine/resolve-traits.js';
import type { ArchetypeDef, LoadedProject } from './project.js';
import { salvage } from './salvage.js';
import {
  type CheckResult,
  checkSchema,
  type PipelineDocumentFile,
  type PipelineFile,
  pipelineDocumentSchema,
  YAML_ONLY_PIPELINE_KEYS,
} from './schema.js';
import { didYouMean } from './suggest.js';
import { formatPath } from './yaml-source.js';

/** A semantic problem of one pipeline document, at a path into it. */
export interface RuleProblem {
  path: Array<string | number>;
  message: string;
  severity: 'error' | 'warning';
  /** Point at the key rather than its value. */
  atKey?: boolean;
}

/** Evaluator reference → absolute path: a path (has '/') against the root, a bare name via evaluatorDirs. */
export function makeLocator(root: string, evaluatorDirs: readonly string[]): (ref: string) => string {
  return (ref) => {
    if (ref.includes('/')) return path.resolve(root, ref);
    for (const dir of evaluatorDirs) {
      const p = path.join(dir, ref);
      if (fs.existsSync(p)) return p;
    }
    // Not found anywhere: point at the first directory so the runtime reports EVALUATOR_NOT_FOUND there.
    return path.resolve(evaluatorDirs[0] ?? root, ref);
  };
}

/** Why an evaluator cannot run (not found, not a file, not executable), or undefined. */
export function evaluatorProblem(ref: string, abs: string, rel: (p: string) => string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    return `evaluator '${ref}' not found (looked for ${rel(abs)})`;
  }
  if (!st.isFile()) return `evaluator '${ref}' is not a file (${rel(abs)})`;
  try {
    fs.accessSync(abs, fs.constants.X_OK);
  } catch {
    return `evaluator '${ref}' is not executable (chmod +x ${rel(abs)})`;
  }
  return undefined;
}

const CONFIG_VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Every `${NAME}` in the strings of a config value (deeply), in order of first appearance. */
export function configVars(value: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(CONFIG_VAR)) out.add(m[1] as string);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return [...out];
}

/** `unknown archetype 'x' (known: a, b)`. */
export function unknownArchetypeMessage(name: string, known: readonly string[]): string {
  const sorted = [...known].sort();
  return `unknown archetype '${name}' (known: ${sorted.length ? sorted.join(', ') : 'none'})`;
}

/**
 * The trait rules of a structurally valid pipeline against its archetype: every trait it configures must be
 * declared by the archetype (error); an evaluator that is missing or not executable is a warning (it evaluates FAIL).
 */
export function pipelineTraitProblems(
  value: PipelineDocumentFile,
  archetype: ArchetypeDef,
  locate: (ref: string) => string,
  rel: (p: string) => string,
  connections: Readonly<Record<string, { url: string }>> = {},
): RuleProblem[] {
  const out: RuleProblem[] = [...builtinProblems(value, archetype, connections)];
  const declared = [...archetype.requiredTraits, ...archetype.optionalTraits].map((t) => t.type);
  // A config value may reference ${VAR} only for variables the trait passes (env, else the archetype's defaultEnv).
  for (const def of [...archetype.requiredTraits, ...archetype.optionalTraits]) {
    const t = value.traits?.[def.type];
    if (t === undefined && !archetype.requiredTraits.includes(def)) continue;
    const env = t?.env ?? def.defaultEnv ?? [];
    // The window variables are Interlock's own (not the environment's): expanded without being listed.
    const unlisted = configVars({ ...(def.defaultConfig ?? {}), ...(t?.config ?? {}) }).filter(
      (v) => !env.includes(v) && !isWindowVar(v),
    );
    if (unlisted.length) {
      out.push({
        path: t?.config !== undefined ? ['traits', def.type, 'config'] : ['archetype'],
        message: `config of trait '${def.type}' references ${unlisted.map((v) => `\${${v}}`).join(', ')}, not listed in its env (${env.length ? env.join(', ') : 'none'}); list the variable in env (or the archetype's defaultEnv) to pass it`,
        severity: 'error',
      });
    }
  }
  for (const [type, t] of Object.entries(value.traits ?? {})) {
    if (!declared.includes(type)) {
      const message =
        `trait '${type}' is not declared by archetype '${archetype.name}' (declared: ${declared.join(', ')})` +
        didYouMean(type, declared);
      out.push({ path: ['traits', type], message, severity: 'error', atKey: true });
      continue;
    }
    if (t.evaluator !== undefined && t.evaluator !== PUSH_EVALUATOR && builtinNameOf(t.evaluator) === undefined) {
      const problem = evaluatorProblem(t.evaluator, locate(t.evaluator), rel);
      if (problem) out.push({ path: ['traits', type, 'evaluator'], message: problem, severity: 'warning' });
    }
  }
  // A required trait nobody evaluates is FAIL (NO_EVALUATOR) on every evaluation.
  for (const t of archetype.requiredTraits) {
    if (value.traits?.[t.type]?.evaluator !== undefined || t.evaluator !== undefined) continue;
    const never = archetype.readinessRule.type === 'all-required-pass' ? ', so this pipeline can never be READY' : '';
    const message = `required trait '${t.type}' has no evaluator: it always fails (NO_EVALUATOR)${never}; set traits.${t.type}.evaluator`;
    const at =
      value.traits?.[t.type] !== undefined
        ? ['traits', t.type]
        : value.traits !== undefined
          ? ['traits']
          : ['archetype'];
    out.push({ path: at, message, severity: 'warning', atKey: at.length > 1 });
  }
  return out;
}

/**
 * The config of every builtin trait (the archetype's defaultConfig merged with the pipeline's config, as it will run)
 * against that builtin's schema, and the connection it names against interlock.yaml's `connections` (whose URL's
 * `${VAR}`s the trait must list in env). A problem in a key the pipeline wrote points at that key; one from the
 * archetype's defaultConfig points at the trait (or the archetype) and says so.
 */
function builtinProblems(
  value: PipelineDocumentFile,
  archetype: ArchetypeDef,
  connections: Readonly<Record<string, { url: string }>>,
): RuleProblem[] {
  const out: RuleProblem[] = [];
  for (const def of [...archetype.requiredTraits, ...archetype.optionalTraits]) {
    const t = value.traits?.[def.type];
    if (t === undefined && !archetype.requiredTraits.includes(def)) continue;
    const name = builtinNameOf(t?.evaluator ?? def.evaluator);
    if (name === undefined || !isBuiltinName(name)) continue;
    const own = t?.config ?? {};
    const merged = { ...(def.defaultConfig ?? {}), ...own };
    const fallback: Array<string | number> = t !== undefined ? ['traits', def.type] : ['archetype'];
    const checked: CheckResult<unknown> = checkSchema(BUILTIN_CONFIG_SCHEMAS[name], merged);
    for (const issue of checked.issues) {
      const key = issue.path[0];
      const mine = key !== undefined && Object.hasOwn(own, String(key));
      const where = issue.path.length ? issue.path.join('.') : 'config';
      const from = mine || issue.path.length === 0 ? '' : " (from the archetype's defaultConfig)";
      out.push({
        path: mine ? ['traits', def.type, 'config', ...issue.path] : fallback,
        message: `builtin:${name} ${where}${from}: ${issue.message}`,
        severity: 'error',
        atKey: issue.atKey === true && mine,
      });
    }
    const conn = connectionOf(merged);
    if (conn === undefined) continue;
    const at: Array<string | number> = Object.hasOwn(own, 'connection')
      ? ['traits', def.type, 'config', 'connection']
      : fallback;
    const c = connections[conn];
    if (c === undefined) {
      const known = Object.keys(connections).sort();
      out.push({
        path: at,
        message: `unknown connection '${conn}' (connections in interlock.yaml: ${known.length ? known.join(', ') : 'none'})${didYouMean(conn, known)}`,
        severity: 'error',
      });
      continue;
    }
    const env = t?.env ?? def.defaultEnv ?? [];
    const unlisted = configVars(c.url).filter((v) => !env.includes(v));
    if (unlisted.length) {
      out.push({
        path: at,
        message: `connection '${conn}' URL references ${unlisted.map((v) => `\${${v}}`).join(', ')}, not listed in the env of trait '${def.type}' (${env.length ? env.join(', ') : 'none'}); list the variable in env to pass it`,
        severity: 'error',
      });
    }
  }
  return out;
}

/**
 * `${VAR}`s of an http trigger (url, header values, body), an airflow one (url, auth, conf) or a databricks one
 * (host, token, parameters) that `env` lacks, as warnings: `run` refuses to fire
 * until they are set, and saying so at validate time beats a surprise at run time. Set-but-empty says "empty".
 */
export function triggerEnvProblems(
  trigger: PipelineFile['trigger'] | undefined,
  env: NodeJS.ProcessEnv,
): RuleProblem[] {
  if (trigger?.type !== 'http' && trigger?.type !== 'airflow' && trigger?.type !== 'databricks') return [];
  const out: RuleProblem[] = [];
  const places: Array<[Array<string | number>, string]> =
    trigger.type === 'http'
      ? [
          [['trigger', 'url'], trigger.url],
          ...Object.entries(trigger.headers ?? {}).map(([k, v]): [Array<string | number>, string] => [
            ['trigger', 'headers', k],
            v,
          ]),
          ...(trigger.body === undefined
            ? []
            : [[['trigger', 'body'], trigger.body] as [Array<string | number>, string]]),
        ]
      : trigger.type === 'airflow'
        ? [
            [['trigger', 'url'], trigger.url],
            ...stringPlaces(['trigger', 'auth'], trigger.auth ?? {}),
            ...stringPlaces(['trigger', 'conf'], trigger.conf ?? {}),
          ]
        : [
            [['trigger', 'host'], trigger.host],
            [['trigger', 'token'], trigger.token],
            ...stringPlaces(['trigger', 'parameters'], trigger.parameters ?? {}),
          ];
  for (const [at, text] of places) {
    for (const v of templateVars(text)) {
      if (TRIGGER_PROVIDED_VARS.includes(v)) continue;
      if (isWindowVar(v)) {
        out.push({
          path: at,
          message: `${v} is set only in a schedule window's runs: a manual \`run\` refuses to fire this trigger`,
          severity: 'warning',
        });
        continue;
      }
      if (env[v] !== undefined && env[v] !== '') continue;
      const message = `environment variable ${v} is ${missingVarState(env, v)} here: \`run\` refuses to fire this trigger until it is set`;
      out.push({ path: at, message, severity: 'warning' });
    }
  }
  return out;
}

/** Every string inside `v` with its path (an airflow trigger's auth and conf values may be ${VAR} templates). */
function stringPlaces(at: Array<string | number>, v: unknown): Array<[Array<string | number>, string]> {
  if (typeof v === 'string') return [[at, v]];
  if (Array.isArray(v)) return v.flatMap((x, i) => stringPlaces([...at, i], x));
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => stringPlaces([...at, k], x));
  return [];
}

/**
 * The trigger's time limits: `maxRunSeconds` (when the run is over) shorter than `timeout` (how long the trigger
 * itself may take) would end the run — and free the pipeline's lock — while the trigger is still allowed to run.
 */
export function triggerLimitProblems(value: PipelineDocumentFile): RuleProblem[] {
  const t = value.trigger;
  if (t?.maxRunSeconds === undefined || t.timeout === undefined || t.maxRunSeconds >= t.timeout) return [];
  return [
    {
      path: ['trigger', 'maxRunSeconds'],
      message: `${t.maxRunSeconds}s is shorter than trigger.timeout (${t.timeout}s): the run would end, and free the pipeline's lock, while its trigger may still run; make it at least the timeout`,
      severity: 'error',
    },
  ];
}

/** A structurally and semantically valid pipeline document → its PipelineSpec (traits resolved). */
export function toPipelineSpec(
  p: PipelineDocumentFile,
  archetype: ArchetypeDef,
  source: string,
  locate: (ref: string) => string,
): PipelineSpec {
  const traits: Record<string, PipelineTraitDef> = {};
  for (const [type, t] of Object.entries(p.traits ?? {})) {
    const d: PipelineTraitDef = {};
    if (t.evaluator !== undefined) d.evaluator = t.evaluator;
    if (t.config !== undefined) d.config = t.config;
    if (t.ttl !== undefined) d.ttl = t.ttl;
    if (t.timeout !== undefined) d.timeout = t.timeout;
    if (t.env !== undefined) d.env = t.env;
    traits[type] = d;
  }
  const spec: PipelineSpec = {
    name: p.name,
    archetype: p.archetype,
    traits: resolveTraits(archetype.requiredTraits, archetype.optionalTraits, traits, locate),
    readinessRule: { ...archetype.readinessRule },
    source,
  };
  if (p.tier !== undefined) spec.tier = p.tier;
  if (p.description !== undefined) spec.description = p.description;
  if (p.trigger !== undefined) spec.trigger = dropUndefined(p.trigger) as TriggerSpec;
  return spec;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Why a registered pipeline document may not carry schedules, exclusions, watch, retry or mode. */
export const YAML_ONLY_MESSAGE =
  'schedules, exclusions, watch, retry and mode are configured in pipeline YAML files only in this version; a pipeline registered over the API runs on demand (remove the key, or define the pipeline in a YAML file)';

/** A problem of a pipeline document that did not come from a file: a dotted path ('' = the document) and a message. */
export interface DocumentProblem {
  path: string;
  message: string;
}

export type PipelineDocumentCheck =
  | { ok: true; spec: PipelineSpec; document: PipelineDocumentFile; warnings: DocumentProblem[] }
  | { ok: false; problems: DocumentProblem[] };

/**
 * Validates a pipeline document given as data (JSON over the HTTP API) exactly like a pipeline YAML file of
 * `project`: the structural schema first (every issue), then the semantic rules against the project's archetypes.
 * `source` is recorded on the spec ('api').
 */
export function checkPipelineDocument(
  project: LoadedProject,
  data: unknown,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): PipelineDocumentCheck {
  // The watcher's blocks are YAML-only in this version: refuse them by name rather than as unknown keys.
  const yamlOnly: DocumentProblem[] = [];
  let doc = data;
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    const rest: Record<string, unknown> = { ...(data as Record<string, unknown>) };
    for (const key of YAML_ONLY_PIPELINE_KEYS) {
      if (!(key in rest)) continue;
      delete rest[key];
      yamlOnly.push({ path: key, message: YAML_ONLY_MESSAGE });
    }
    doc = rest;
  }
  const checked = checkSchema(pipelineDocumentSchema, doc);
  const structural = [
    ...yamlOnly,
    ...(checked.ok ? [] : checked.issues.map((i) => ({ path: formatPath(i.path), message: i.message }))),
  ];
  // Structural and semantic problems in one answer: the rules run on whatever part of the document parsed.
  const value = checked.ok ? checked.value : salvage(pipelineDocumentSchema, doc);
  if (!value) return { ok: false, problems: structural };
  const found: Array<RuleProblem> = [...triggerEnvProblems(value.trigger, env)];
  const archetype = project.archetypes.get(value.archetype);
  const locate = makeLocator(project.root, project.config.evaluatorDirs);
  if (!archetype) {
    const message = unknownArchetypeMessage(value.archetype, [...project.archetypes.keys()]);
    found.push({ path: ['archetype'], message, severity: 'error' });
  } else {
    const rel = (p: string) => path.relative(project.root, p).split(path.sep).join('/') || '.';
    found.push(...pipelineTraitProblems(value, archetype, locate, rel, project.config.connections));
  }
  found.push(...triggerLimitProblems(value));
  const view = (p: RuleProblem) => ({ path: formatPath(p.path), message: p.message });
  const errors = [...structural, ...found.filter((p) => p.severity === 'error').map(view)];
  if (errors.length || !archetype || !checked.ok || yamlOnly.length) return { ok: false, problems: errors };
  const warnings = found.map(view);
  return { ok: true, spec: toPipelineSpec(value, archetype, source, locate), document: value, warnings };
}
