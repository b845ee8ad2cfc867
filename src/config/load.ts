// Finds interlock.yaml, loads it with every archetype and pipeline file, applies the semantic rules, builds PipelineSpecs.

import fs from 'node:fs';
import path from 'node:path';
import { type Diagnostic, InterlockError } from '../core/errors.js';
import { isMissing, missingVarState, templateVars } from '../core/template.js';
import type { InvalidPipeline, PipelineSpec, ReadinessRule } from '../core/types.js';
import type { ArchetypeTraitDef } from '../engine/resolve-traits.js';
import { dependencyProblems } from './dependency-rules.js';
import {
  makeLocator,
  pipelineTraitProblems,
  type RuleProblem,
  toPipelineSpec,
  triggerEnvProblems,
  triggerLimitProblems,
  unknownArchetypeMessage,
} from './pipeline-rules.js';
import type { AlertsConfig, ArchetypeDef, LoadedProject, ProjectConfig } from './project.js';
import { salvage } from './salvage.js';
import {
  type CalendarFile,
  calendarSchema,
  normalisePipelineWatch,
  normaliseProjectWatcher,
  type PipelineWatchConfig,
  type ProjectWatcherConfig,
} from './schedule-schema.js';
import {
  ALERT_DEFAULTS,
  type ArchetypeFile,
  archetypeSchema,
  type PipelineFile,
  type ProjectFile,
  pipelineSchema,
  projectSchema,
  SECRET_REF,
  YAML_ONLY_PIPELINE_KEYS,
} from './schema.js';
import { slaProblems } from './sla-rules.js';
import { watchdogProblems } from './watchdog-rules.js';
import { checkYaml, diagnosticAt, parseYaml, positionOf, type YamlSource } from './yaml-source.js';

export type { AlertsConfig, ArchetypeDef, LoadedProject, ProjectConfig } from './project.js';

/** The project file name searched for by findConfigFile. */
export const CONFIG_FILE_NAME = 'interlock.yaml';

/** Options of loadProject. */
export interface LoadOptions {
  /** Environment that `${VAR}` references in http triggers are checked against (default process.env). */
  env?: NodeJS.ProcessEnv;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The absolute path of the project's interlock.yaml: `explicit` (resolved against startDir; a directory means its
 * interlock.yaml), or the first interlock.yaml in startDir and its parents.
 * @throws InterlockError CONFIG_NOT_FOUND
 */
export function findConfigFile(startDir: string, explicit?: string): string {
  const start = path.resolve(startDir);
  if (explicit !== undefined) {
    let p = path.resolve(start, explicit);
    if (isDir(p)) p = path.join(p, CONFIG_FILE_NAME);
    if (!isFile(p)) throw new InterlockError('CONFIG_NOT_FOUND', `config file not found: ${p}`, { file: p });
    return p;
  }
  for (let dir = start; ; ) {
    const candidate = path.join(dir, CONFIG_FILE_NAME);
    if (isFile(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new InterlockError(
    'CONFIG_NOT_FOUND',
    `no ${CONFIG_FILE_NAME} found in ${start} or its parents (use --config FILE or run 'interlock init')`,
    { dir: start },
  );
}

/** Error diagnostics of interlock.yaml itself: any of them stops every command. */
export function projectFileErrors(p: LoadedProject): Diagnostic[] {
  const file = path.relative(p.root, p.configFile).split(path.sep).join('/');
  return p.diagnostics.filter((d) => d.severity === 'error' && d.file === file);
}

/**
 * Throws CONFIG_INVALID (every diagnostic of interlock.yaml attached) when interlock.yaml has errors. Errors in
 * archetype and pipeline files only block the pipelines they concern (LoadedProject.invalid).
 */
export function assertUsable(p: LoadedProject): void {
  const own = projectFileErrors(p);
  if (own.length === 0) return;
  const n = p.diagnostics.filter((d) => d.severity === 'error').length;
  const where = own[0]?.file ?? CONFIG_FILE_NAME;
  throw new InterlockError('CONFIG_INVALID', `${n} config ${n === 1 ? 'error' : 'errors'} (${where} is invalid)`, {
    file: p.configFile,
    diagnostics: p.diagnostics,
  });
}

/** Throws CONFIG_INVALID with every diagnostic attached when any has severity 'error'. */
export function assertValid(p: LoadedProject): void {
  const n = p.diagnostics.filter((d) => d.severity === 'error').length;
  if (n === 0) return;
  throw new InterlockError('CONFIG_INVALID', `${n} config ${n === 1 ? 'error' : 'errors'}`, {
    file: p.configFile,
    diagnostics: p.diagnostics,
  });
}

interface Loaded<T> {
  src: YamlSource;
  /** The document as the schema output it, or its salvaged remainder when it failed (then `valid` is false). */
  value: T | undefined;
  valid: boolean;
}

/**
 * Loads interlock.yaml and every archetype and pipeline file it points at. Never throws on bad config: every
 * problem becomes a diagnostic, and whatever is valid is still returned.
 * `configFile` should be absolute (findConfigFile returns one); nothing resolves against process.cwd().
 * @throws InterlockError CONFIG_NOT_FOUND when configFile does not exist, IO_ERROR when it cannot be read.
 */
export function loadProject(configFile: string, opts: LoadOptions = {}): LoadedProject {
  const env = opts.env ?? process.env;
  const configPath = path.resolve(configFile);
  let text: string;
  try {
    text = fs.readFileSync(configPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new InterlockError('CONFIG_NOT_FOUND', `config file not found: ${configPath}`, {
        file: configPath,
        cause: err,
      });
    }
    throw new InterlockError('IO_ERROR', `cannot read ${configPath}: ${(err as Error).message}`, {
      file: configPath,
      cause: err,
    });
  }
  const root = path.dirname(configPath);
  const rel = (p: string) => path.relative(root, p).split(path.sep).join('/') || '.';
  const structural: Diagnostic[] = [];
  const semantic: Diagnostic[] = [];

  // ---- interlock.yaml
  const projectSrc = parseYaml(text, rel(configPath));
  structural.push(...projectSrc.diagnostics);
  const checked = checkYaml(projectSrc, projectSchema);
  structural.push(...checked.diagnostics);
  const file = checked.value ?? salvage(projectSchema, projectSrc.data) ?? salvageProject(projectSrc.data);
  const config = resolveProjectPaths(file, root);

  // ---- directories and the files in them
  const listDir = (
    key: 'archetypeDirs' | 'pipelineDirs' | 'evaluatorDirs' | 'calendarDirs',
    what: string,
    warnMissing: boolean,
  ) => {
    const files: string[] = [];
    const seen = new Set<string>();
    config[key].forEach((dir, i) => {
      if (seen.has(dir)) return;
      seen.add(dir);
      const written = file[key][i] ?? dir;
      if (!fs.existsSync(dir)) {
        if (warnMissing) {
          const message = `${what} directory '${written}' does not exist`;
          structural.push(diagnosticAt(projectSrc, [key, i], message, { severity: 'warning' }));
        }
        return;
      }
      if (!isDir(dir)) {
        structural.push(diagnosticAt(projectSrc, [key, i], `${what} directory '${written}' is not a directory`));
        return;
      }
      if (key === 'evaluatorDirs') return;
      const names = fs
        .readdirSync(dir)
        .filter((n) => /\.ya?ml$/.test(n))
        .sort();
      for (const n of names) if (isFile(path.join(dir, n))) files.push(path.join(dir, n));
    });
    return files;
  };
  const archetypeFiles = listDir('archetypeDirs', 'archetype', true);
  const pipelineFiles = listDir('pipelineDirs', 'pipeline', true);
  // Evaluator directories only matter for bare names; warn only when the user configured them.
  listDir('evaluatorDirs', 'evaluator', projectSrc.data?.evaluatorDirs !== undefined);
  // Likewise calendars: the default ./calendars may be absent; a configured directory that is missing is reported.
  const calendarFiles = listDir('calendarDirs', 'calendar', projectSrc.data?.calendarDirs !== undefined);

  // A file that fails its schema is salvaged (what still parses), so the semantic rules report on it too.
  const loadAll = <T>(
    files: string[],
    schema: typeof archetypeSchema | typeof pipelineSchema | typeof calendarSchema,
  ): Loaded<T>[] =>
    files.map((f) => {
      let body: string;
      try {
        body = fs.readFileSync(f, 'utf8');
      } catch (err) {
        const message = `cannot read file: ${(err as Error).message}`;
        structural.push({ file: rel(f), line: 1, col: 1, path: '', message, severity: 'error' });
        return { src: parseYaml('', rel(f)), value: undefined, valid: false };
      }
      const src = parseYaml(body, rel(f));
      const r = checkYaml(src, schema);
      structural.push(...src.diagnostics, ...r.diagnostics);
      const valid = r.value !== undefined && !src.diagnostics.some((d) => d.severity === 'error');
      const value = (r.value ?? (src.data === undefined ? undefined : salvage(schema, src.data))) as T | undefined;
      return { src, value, valid };
    });
  const archetypeDocs = loadAll<ArchetypeFile>(archetypeFiles, archetypeSchema);
  const pipelineDocs = loadAll<PipelineFile>(pipelineFiles, pipelineSchema);
  const calendarDocs = loadAll<CalendarFile>(calendarFiles, calendarSchema);

  // ---- semantic rules: interlock.yaml
  // A file sink that cannot be written would lose every alert silently at run time: say so at load.
  const sinksAt: Array<string | number> = Array.isArray(file.alerts) ? ['alerts'] : ['alerts', 'sinks'];
  const writtenSinks = Array.isArray(file.alerts) ? file.alerts : file.alerts.sinks;
  config.alerts.sinks.forEach((sink, i) => {
    // A secret named as ${VAR} is read when alerts are sent; unset here, every alert to this sink would fail.
    const [secretAt, secret] =
      sink.type === 'slack' ? ['url', sink.url] : sink.type === 'pagerduty' ? ['routingKey', sink.routingKey] : [];
    const ref = secret === undefined ? undefined : SECRET_REF.exec(secret);
    if (secretAt !== undefined && ref) {
      const name = ref[0].slice(2, -1);
      if (env[name] === undefined || env[name] === '') {
        const message = `environment variable ${name} is ${missingVarState(env, name)} here: alerts to this ${sink.type} sink fail until it is set`;
        semantic.push(diagnosticAt(projectSrc, [...sinksAt, i, secretAt], message, { severity: 'warning' }));
      }
    }
    const written = writtenSinks[i];
    if (sink.type !== 'file' || written?.type !== 'file') return;
    const problem = alertFileProblem(sink.path, written.path);
    if (problem) {
      semantic.push(diagnosticAt(projectSrc, [...sinksAt, i, 'path'], `alert file '${written.path}' ${problem}`));
    }
  });
  if (file.provider === 'postgres') {
    const url = file.postgres.url;
    if (url === undefined) {
      const message = `provider: postgres needs postgres.url (a postgres:// URL, e.g. "\${DATABASE_URL}")`;
      semantic.push(diagnosticAt(projectSrc, ['provider'], message));
    } else {
      // ${VAR}s are expanded when the store opens: unset here, every command that opens the store fails.
      for (const name of templateVars(url).filter((n) => isMissing(env, n))) {
        const message = `environment variable ${name} is ${missingVarState(env, name)} here: the store cannot open until it is set`;
        semantic.push(diagnosticAt(projectSrc, ['postgres', 'url'], message, { severity: 'warning' }));
      }
      const expanded = templateVars(url).length > 0 ? undefined : url;
      if (expanded !== undefined && !/^postgres(?:ql)?:\/\//.test(expanded)) {
        semantic.push(diagnosticAt(projectSrc, ['postgres', 'url'], 'expected a postgres:// or postgresql:// URL'));
      }
    }
  }
  if (file.redis.cluster !== undefined && file.redis.db !== undefined) {
    const message = 'redis.db cannot be combined with redis.cluster (a Redis Cluster has only database 0): remove one';
    semantic.push(diagnosticAt(projectSrc, ['redis', 'db'], message));
  }

  // ---- semantic rules: archetypes
  const where = (src: YamlSource, p: Array<string | number>) => {
    const { line, col } = positionOf(src, p);
    return `${src.file}:${line}:${col}`;
  };
  /** Structurally valid archetypes; pipelines are checked against these even when they have semantic errors. */
  const byName = new Map<string, ArchetypeDef>();
  const archetypes = new Map<string, ArchetypeDef>();
  const failedArchetypes = new Set<string>();
  let unnamedFailures = 0;
  const archetypeFileOf = new Map<string, YamlSource>();
  for (const { src, value, valid } of archetypeDocs) {
    // Names are compared as written, so a duplicate is found even when either file has other errors.
    const name = typeof src.data?.name === 'string' ? src.data.name : undefined;
    const first = name === undefined ? undefined : archetypeFileOf.get(name);
    if (name !== undefined && first) {
      const message = `duplicate archetype name '${name}' (also defined in ${where(first, ['name'])})`;
      semantic.push(diagnosticAt(src, ['name'], message));
    } else if (name !== undefined) {
      archetypeFileOf.set(name, src);
    }
    if (!valid || first) {
      if (name !== undefined) failedArchetypes.add(name);
      else unnamedFailures++;
    }
    if (!value || first) continue;
    const before = semantic.length;
    const seen = new Map<string, Array<string | number>>();
    const traitLists = [
      ['requiredTraits', value.requiredTraits],
      ['optionalTraits', value.optionalTraits ?? []],
    ] as const;
    for (const [list, defs] of traitLists) {
      defs.forEach((t, j) => {
        const prior = seen.get(t.type);
        if (prior) {
          const message = `duplicate trait type '${t.type}' (also declared at ${prior.join('.')}, ${where(src, prior)})`;
          semantic.push(diagnosticAt(src, [list, j, 'type'], message));
        } else {
          seen.set(t.type, [list, j, 'type']);
        }
      });
    }
    if (value.readinessRule.type !== 'majority-pass' && value.readinessRule.threshold !== undefined) {
      const message = `threshold applies only to readiness rule 'majority-pass', not '${value.readinessRule.type}': remove it or use majority-pass`;
      semantic.push(diagnosticAt(src, ['readinessRule', 'threshold'], message));
    }
    const def = toArchetypeDef(value, src.file, seen);
    byName.set(def.name, def);
    if (valid && !semantic.slice(before).some((d) => d.severity === 'error')) archetypes.set(def.name, def);
    else failedArchetypes.add(def.name);
  }

  // Two files defining one archetype name: neither is trusted, so the pipelines using it are blocked (fail closed).
  for (const n of failedArchetypes) archetypes.delete(n);

  // ---- semantic rules: calendars (by their `name`; one that has errors or is defined twice is unusable)
  const watcher: ProjectWatcherConfig = normaliseProjectWatcher({
    timezone: file.timezone,
    calendarDirs: config.calendarDirs,
    watcher: file.watcher,
  });
  const calendars = new Map<string, CalendarFile>();
  /** Calendar name → the file that makes it unusable (its own errors, or a second definition). */
  const badCalendars = new Map<string, string>();
  const calendarFileOf = new Map<string, YamlSource>();
  for (const { src, value, valid } of calendarDocs) {
    const name = typeof src.data?.name === 'string' ? src.data.name : path.basename(src.file).replace(/\.ya?ml$/, '');
    const first = calendarFileOf.get(name);
    if (first) {
      const message = `duplicate calendar name '${name}' (also defined in ${where(first, ['name'])})`;
      semantic.push(diagnosticAt(src, ['name'], message));
      badCalendars.set(name, src.file);
      calendars.delete(name);
      continue;
    }
    calendarFileOf.set(name, src);
    if (valid && value) calendars.set(name, value);
    else badCalendars.set(name, src.file);
  }

  // ---- semantic rules: pipelines
  const locate = makeLocator(root, config.evaluatorDirs);
  const watch = new Map<string, PipelineWatchConfig>();
  /**
   * The watcher's view of one pipeline document: its engine specs when it has schedules, undefined when it is on
   * demand or its blocks have errors (each reported through `put`, which makes the pipeline INVALID).
   */
  const watchSpecOf = (src: YamlSource, value: PipelineFile, put: (p: RuleProblem) => void) => {
    const raw = src.data ?? {};
    if (raw.schedules === undefined) {
      // The watcher's other blocks mean nothing without a schedule: fail closed rather than ignore them.
      for (const key of YAML_ONLY_PIPELINE_KEYS) {
        if (key === 'schedules' || raw[key] === undefined) continue;
        const message = `${key} has no effect: this pipeline has no schedules (add schedules, or remove ${key})`;
        put({ path: [key], message, severity: 'error', atKey: true });
      }
      return undefined;
    }
    if (value.schedules?.length === 0) {
      const message = 'schedules is empty: this pipeline runs on demand only (add a schedule, or remove the key)';
      put({ path: ['schedules'], message, severity: 'warning', atKey: true });
      return undefined;
    }
    // A salvaged document may have lost its schedules to a structural error already reported; its calendar
    // references are still checked, so one pass reports both.
    const r = normalisePipelineWatch(
      { ...value, schedules: value.schedules ?? [], mode: value.mode ?? 'live' },
      { timezone: watcher.timezone, calendars },
    );
    if (r.ok) return value.schedules === undefined ? undefined : r.value;
    for (const issue of r.issues) {
      let message = issue.message;
      const m = /^unknown calendar '([^']+)'/.exec(message);
      const bad = m ? badCalendars.get(m[1] as string) : undefined;
      if (m && bad) message = `calendar '${m[1]}' has errors (${bad}); run 'interlock validate'`;
      put({ path: issue.path, message, severity: 'error', atKey: issue.atKey });
    }
    return undefined;
  };
  const pipelines = new Map<string, PipelineSpec>();
  const pipelineFileOf = new Map<string, YamlSource>();
  /** Pipeline name → the files defining it and the archetype each uses (for the blast radius below). */
  const definitions = new Map<string, Array<{ file: string; archetype?: string }>>();
  for (const { src, value, valid } of pipelineDocs) {
    const name = typeof src.data?.name === 'string' ? src.data.name : undefined;
    const first = name === undefined ? undefined : pipelineFileOf.get(name);
    if (name !== undefined && first) {
      const message = `duplicate pipeline name '${name}' (also defined in ${where(first, ['name'])})`;
      semantic.push(diagnosticAt(src, ['name'], message));
    } else if (name !== undefined) {
      pipelineFileOf.set(name, src);
    }
    const written = typeof src.data?.archetype === 'string' ? src.data.archetype : undefined;
    if (name !== undefined)
      definitions.set(name, [...(definitions.get(name) ?? []), { file: src.file, archetype: written }]);
    if (!value) continue;
    const put = (p: {
      path: Array<string | number>;
      message: string;
      severity: 'error' | 'warning';
      atKey?: boolean;
    }) => semantic.push(diagnosticAt(src, p.path, p.message, { severity: p.severity, atKey: p.atKey ?? false }));
    for (const p of triggerEnvProblems(value.trigger, env)) put(p);
    const before = semantic.length;
    const spec = watchSpecOf(src, value, put);
    const archetype = byName.get(value.archetype);
    if (!archetype) {
      // An archetype that failed to load was already reported; saying "unknown" too would only mislead.
      if (failedArchetypes.has(value.archetype)) continue;
      let message = unknownArchetypeMessage(value.archetype, [...byName.keys()]);
      if (unnamedFailures > 0) message += `; ${unnamedFailures} archetype file(s) failed to load`;
      semantic.push(diagnosticAt(src, ['archetype'], message));
      continue;
    }
    const traitProblems = pipelineTraitProblems(value, archetype, locate, rel, config.connections);
    for (const p of [...traitProblems, ...triggerLimitProblems(value)]) put(p);
    const failed = semantic.slice(before).some((d) => d.severity === 'error');
    if (!valid || failed || first || !archetypes.has(archetype.name)) continue;
    const pipelineSpec = toPipelineSpec(value, archetype, src.file, locate);
    const wd = [...slaProblems(spec, value), ...watchdogProblems(pipelineSpec, spec)];
    for (const p of wd) put(p);
    if (wd.some((p) => p.severity === 'error')) continue;
    pipelines.set(value.name, pipelineSpec);
    if (spec) watch.set(value.name, spec);
  }

  // ---- dependencies between pipelines (builtin:pipeline): unknown upstreams and cycles block the pipelines
  for (const p of dependencyProblems(pipelines.values(), new Set(definitions.keys()))) {
    const src = pipelineFileOf.get(p.pipeline);
    if (!src) continue;
    const written = (src.data?.traits as Record<string, { config?: Record<string, unknown> }> | undefined)?.[p.trait];
    const at =
      written?.config?.pipeline !== undefined
        ? ['traits', p.trait, 'config', 'pipeline']
        : written !== undefined
          ? ['traits', p.trait]
          : ['archetype'];
    semantic.push(diagnosticAt(src, at, p.message));
    pipelines.delete(p.pipeline);
    watch.delete(p.pipeline);
  }

  // ---- blast radius: which pipelines the errors block
  const diagnostics = [...structural, ...semantic];
  const errorsOf = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    if (d.severity === 'error') errorsOf.set(d.file, [...(errorsOf.get(d.file) ?? []), d]);
  }
  const configRel = rel(configPath);
  const invalidFiles = [...archetypeDocs, ...pipelineDocs, ...calendarDocs]
    .map((d) => d.src.file)
    .filter((f) => f !== configRel && errorsOf.has(f));
  const archetypeFilesByName = new Map<string, string[]>();
  for (const { src } of archetypeDocs) {
    const n = typeof src.data?.name === 'string' ? src.data.name : undefined;
    if (n !== undefined) archetypeFilesByName.set(n, [...(archetypeFilesByName.get(n) ?? []), src.file]);
  }
  const invalid = new Map<string, InvalidPipeline>();
  for (const [name, defs] of definitions) {
    if (pipelines.has(name) && defs.length === 1) continue;
    pipelines.delete(name);
    const files = new Set<string>();
    for (const d of defs) {
      files.add(d.file);
      // An archetype with errors (or an unknown one, reported in the pipeline's file) blocks its pipelines.
      for (const f of d.archetype === undefined ? [] : (archetypeFilesByName.get(d.archetype) ?? [])) {
        if (errorsOf.has(f)) files.add(f);
      }
    }
    const problems = [...files].flatMap((f) => errorsOf.get(f) ?? []);
    invalid.set(name, { name, status: 'INVALID', source: defs.map((d) => d.file).join(', '), problems });
  }

  // A pipeline blocked above (e.g. defined twice) is not watched either.
  for (const name of invalid.keys()) watch.delete(name);
  return {
    root,
    configFile: configPath,
    config,
    archetypes,
    pipelines,
    invalid,
    invalidFiles,
    diagnostics,
    watch,
    watcher,
  };
}

/** When interlock.yaml fails validation, keep every top-level field that is valid on its own and default the rest. */
function salvageProject(data: Record<string, unknown> | undefined): ProjectFile {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(projectSchema.shape)) {
    const own = schema.safeParse(data?.[key]);
    const value = own.success ? own.data : schema.safeParse(undefined).data;
    if (value !== undefined) out[key] = value;
  }
  return out as ProjectFile;
}

function resolveProjectPaths(file: ProjectFile, root: string): ProjectConfig {
  const abs = (p: string) => path.resolve(root, p);
  return {
    ...file,
    sqlite: { ...file.sqlite, path: abs(file.sqlite.path) },
    redis: { ...file.redis },
    server: { ...file.server },
    archetypeDirs: file.archetypeDirs.map(abs),
    evaluatorDirs: file.evaluatorDirs.map(abs),
    pipelineDirs: file.pipelineDirs.map(abs),
    calendarDirs: file.calendarDirs.map(abs),
    alerts: normaliseAlerts(file.alerts, abs),
  };
}

function normaliseAlerts(alerts: ProjectFile['alerts'], abs: (p: string) => string): AlertsConfig {
  const [repeatAfterSeconds, timeoutSeconds, sinks] = Array.isArray(alerts)
    ? [ALERT_DEFAULTS.repeatAfter, ALERT_DEFAULTS.timeout, alerts]
    : [alerts.repeatAfter, alerts.timeout, alerts.sinks];
  return {
    repeatAfterSeconds,
    timeoutSeconds,
    sinks: sinks.map((a) => (a.type === 'file' ? { ...a, path: abs(a.path) } : structuredClone(a))),
  };
}

/**
 * Why a file sink could not append to `abs`, or undefined when it can: an existing file must open for appending
 * (without creating or changing it), a missing one needs a writable directory. The message ends in the errno code.
 */
function alertFileProblem(abs: string, written: string): string | undefined {
  const { O_WRONLY, O_APPEND, O_NONBLOCK, W_OK, X_OK } = fs.constants;
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return `is not writable: ${code}`;
    const dir = path.dirname(abs);
    const shownDir = path.dirname(written);
    let dst: fs.Stats;
    try {
      dst = fs.statSync(dir);
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      return c === 'ENOENT'
        ? `is not writable: directory '${shownDir}' does not exist (ENOENT)`
        : `is not writable: directory '${shownDir}': ${c}`;
    }
    if (!dst.isDirectory()) return `is not writable: '${shownDir}' is not a directory (ENOTDIR)`;
    try {
      fs.accessSync(dir, W_OK | X_OK);
    } catch (e) {
      return `is not writable: cannot create it in directory '${shownDir}' (${(e as NodeJS.ErrnoException).code})`;
    }
    return undefined;
  }
  if (st.isDirectory()) return 'is not writable: it is a directory (EISDIR)';
  // Opening is the real test (root passes access(2) everywhere; a read-only mount does not). O_NONBLOCK: a FIFO
  // with no reader fails with ENXIO instead of hanging the loader.
  try {
    fs.closeSync(fs.openSync(abs, O_WRONLY | O_APPEND | O_NONBLOCK));
  } catch (err) {
    return `is not writable: ${(err as NodeJS.ErrnoException).code}`;
  }
  return undefined;
}

function toTraitDef(t: ArchetypeFile['requiredTraits'][number]): ArchetypeTraitDef {
  const d: ArchetypeTraitDef = { type: t.type };
  if (t.description !== undefined) d.description = t.description;
  if (t.defaultConfig !== undefined) d.defaultConfig = t.defaultConfig;
  if (t.defaultTtl !== undefined) d.defaultTtl = t.defaultTtl;
  if (t.defaultTimeout !== undefined) d.defaultTimeout = t.defaultTimeout;
  if (t.defaultEnv !== undefined) d.defaultEnv = t.defaultEnv;
  if (t.evaluator !== undefined) d.evaluator = t.evaluator;
  return d;
}

/** `firstOf` maps each trait type to where it was first declared: later duplicates are dropped. */
function toArchetypeDef(
  a: ArchetypeFile,
  file: string,
  firstOf: ReadonlyMap<string, ReadonlyArray<string | number>>,
): ArchetypeDef {
  const keep = (list: string) => (t: { type: string }, j: number) =>
    firstOf.get(t.type)?.join('.') === `${list}.${j}.type`;
  const rule: ReadinessRule = { type: a.readinessRule.type };
  if (a.readinessRule.threshold !== undefined) rule.threshold = a.readinessRule.threshold;
  const def: ArchetypeDef = {
    name: a.name,
    requiredTraits: a.requiredTraits.filter(keep('requiredTraits')).map(toTraitDef),
    optionalTraits: (a.optionalTraits ?? []).filter(keep('optionalTraits')).map(toTraitDef),
    readinessRule: rule,
    file,
  };
  if (a.description !== undefined) def.description = a.description;
  return def;
}
