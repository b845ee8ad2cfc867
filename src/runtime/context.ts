// The runtime context: a loaded project, its store and evaluator pool, opened once per command or server.

import { join } from 'node:path';
import { AlertDispatcher, createSinks, undeliveredMessage } from '../alert/index.js';
import { type AlertsConfig, assertUsable, findConfigFile, loadProject, type ProjectConfig } from '../config/index.js';
import { systemClock } from '../core/clock.js';
import { type Diagnostic, InterlockError } from '../core/errors.js';
import { isInvalid } from '../core/invalid.js';
import { expandTemplate, isMissing, missingVarsMessage, templateVars } from '../core/template.js';
import type { InvalidPipeline, PipelineSpec } from '../core/types.js';
import { EvaluatorPool } from '../evaluator/index.js';
import { stderrLogger, warnLogger } from '../observability/index.js';
import type { StoreConfig, StoredPipeline } from '../store/index.js';
import { createStore } from '../store/index.js';
import { subscribeAlerting } from './alerting.js';
import type { Context, OpenOptions } from './context-type.js';
import { EventBus } from './events.js';
import { checkStoredPipeline } from './register.js';

export type { Context, OpenOptions } from './context-type.js';

/**
 * What createStore needs from the project: a Redis store remembers its id in the project's .interlock/ (so a store
 * that lost its data is refused); a PostgreSQL URL has its ${VAR}s expanded from the environment here, at open, so
 * the secret lives in the environment and never in interlock.yaml (CONFIG_INVALID when one is missing).
 */
export function storeConfig(cfg: ProjectConfig, root: string, env: NodeJS.ProcessEnv): StoreConfig {
  if (cfg.provider === 'redis') return { ...cfg, redis: { ...cfg.redis, stateDir: join(root, '.interlock') } };
  if (cfg.provider !== 'postgres') return cfg;
  const url = cfg.postgres.url;
  if (url === undefined) {
    throw new InterlockError('CONFIG_INVALID', `provider: postgres needs postgres.url (e.g. "\${DATABASE_URL}")`);
  }
  const missing = templateVars(url).filter((n) => isMissing(env, n));
  if (missing.length > 0) {
    throw new InterlockError('CONFIG_INVALID', `postgres.url: ${missingVarsMessage(missing, env)}`);
  }
  return { ...cfg, postgres: { ...cfg.postgres, url: expandTemplate(url, env) } };
}

/**
 * Finds and loads the project, then opens its store. Errors in interlock.yaml stop here (CONFIG_INVALID with its
 * diagnostics); errors in archetype or pipeline files only block the pipelines they concern, with a one-line
 * warning naming the files.
 */
export async function openContext(opts: OpenOptions): Promise<Context> {
  const env = opts.env;
  const project = loadProject(findConfigFile(opts.cwd, opts.configPath), { env });
  assertUsable(project);
  const log = opts.log ?? (opts.warn ? warnLogger(opts.warn) : stderrLogger());
  const warn = (m: string) => log.warn(m);
  if (project.invalidFiles.length > 0) warn(invalidConfigWarning(project));
  const cfg = project.config;
  const store = opts.store ?? (await createStore(storeConfig(cfg, project.root, env ?? process.env)));
  const pool = new EvaluatorPool(project.config.evaluatorConcurrency);
  const events = new EventBus(log);
  const alerts = alertDispatcher(project.config.alerts, warn, events, {
    env,
    publicUrl: project.config.server.publicUrl,
  });
  const ctx: Context = {
    project,
    store,
    // Redis has one clock for every host; SQLite and memory use this host's.
    clock: opts.clock ?? store.clock ?? systemClock,
    pool,
    alerts,
    repeatAfterMs: project.config.alerts.repeatAfterSeconds * 1000,
    env,
    log,
    events,
    warn,
    close: async () => {
      await pool.close();
      await store.close();
    },
  };
  subscribeAlerting(ctx);
  return ctx;
}

/** The dispatcher of an `alerts` block: its sinks and budget; delivery problems become warnings. */
export function alertDispatcher(
  alerts: AlertsConfig,
  warn: (message: string) => void,
  events?: EventBus,
  opts: { env?: NodeJS.ProcessEnv | undefined; publicUrl?: string | undefined } = {},
): AlertDispatcher {
  const sinkOpts = { ...(opts.env ? { env: opts.env } : {}), ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}) };
  return new AlertDispatcher(createSinks(alerts.sinks, sinkOpts), {
    // Each delivery's result goes on the bus (metrics count them); never awaited: delivery must not wait on it.
    ...(events
      ? { onResult: (sink, alert, result) => void events.publish('alert.delivered', { alert, sink, result }) }
      : {}),
    onError: (sink, err) => warn(`alert sink ${sink} failed: ${err instanceof Error ? err.message : String(err)}`),
    onUndelivered: (sink, alert, budgetMs) => warn(undeliveredMessage(sink, alert, budgetMs)),
    budgetMs: alerts.timeoutSeconds * 1000,
  });
}

/** `invalid config in a.yaml, b.yaml: pipelines x, y are INVALID (never evaluated or triggered); run …`. */
function invalidConfigWarning(project: Context['project']): string {
  const names = [...project.invalid.keys()].sort();
  const blocked = names.length
    ? `${names.length === 1 ? 'pipeline' : 'pipelines'} ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''} ${names.length === 1 ? 'is' : 'are'} INVALID (never evaluated or triggered)`
    : 'no pipeline is blocked by name';
  return `invalid config in ${project.invalidFiles.join(', ')}: ${blocked}; run 'interlock validate'`;
}

/**
 * The error for using an INVALID pipeline (exit 2): CONFIG_INVALID (HTTP 400) with its diagnostics for one a YAML
 * file blocks; PIPELINE_INVALID (HTTP 409) for a registered one the store holds that fails the checks a new
 * registration would (fix: DELETE it and register it again).
 */
export function invalidPipelineError(p: InvalidPipeline): InterlockError {
  const n = p.problems.length;
  if (p.source === 'api') {
    const first = p.problems[0];
    return new InterlockError(
      'PIPELINE_INVALID',
      `pipeline '${p.name}' (registered) is INVALID and will not be evaluated or run: ${first?.path ? `${first.path}: ` : ''}${first?.message ?? ''}${n > 1 ? ` (and ${n - 1} more)` : ''}; DELETE it and register it again`,
      { pipeline: p.name, problems: p.problems },
    );
  }
  const diagnostics = p.problems.filter((d): d is Diagnostic => 'file' in d && 'severity' in d);
  return new InterlockError(
    'CONFIG_INVALID',
    `pipeline '${p.name}' is INVALID (${n} config ${n === 1 ? 'problem' : 'problems'} in ${p.source}): it is never evaluated or triggered until fixed`,
    { pipeline: p.name, problems: p.problems, ...(diagnostics.length ? { diagnostics } : {}) },
  );
}

/** A registered pipeline read back from the store, checked like a new registration each time it is loaded. */
function checked(ctx: Context, entry: StoredPipeline): PipelineSpec | InvalidPipeline {
  const c = checkStoredPipeline(ctx, entry);
  return c.ok ? c.spec : c.invalid;
}

/** The usable pipelines (see allPipelineEntries), sorted by name. */
export async function allPipelines(ctx: Context): Promise<PipelineSpec[]> {
  return (await allPipelineEntries(ctx)).filter((p): p is PipelineSpec => !isInvalid(p));
}

/**
 * All pipelines, INVALID ones included, sorted by name. YAML-defined ones win over store-registered ones of the same
 * name, and a name an invalid YAML file defines is INVALID (the file is the source of truth even while broken).
 * Every registered one is checked like a new registration: one that fails is INVALID and never breaks the others.
 */
export async function allPipelineEntries(ctx: Context): Promise<Array<PipelineSpec | InvalidPipeline>> {
  const byName = new Map<string, PipelineSpec | InvalidPipeline>();
  for (const entry of await ctx.store.listPipelines()) {
    if (ctx.project.pipelines.has(entry.name) || ctx.project.invalid.has(entry.name)) continue;
    byName.set(entry.name, checked(ctx, entry));
  }
  for (const [name, p] of ctx.project.pipelines) byName.set(name, p);
  for (const [name, p] of ctx.project.invalid) byName.set(name, p);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** One pipeline by name, INVALID ones included; PIPELINE_NOT_FOUND naming the known ones. */
export async function findPipeline(ctx: Context, name: string): Promise<PipelineSpec | InvalidPipeline> {
  const invalid = ctx.project.invalid.get(name);
  if (invalid) return invalid;
  const fromFile = ctx.project.pipelines.get(name);
  if (fromFile) return fromFile;
  const stored = await ctx.store.getPipeline(name);
  if (stored) return checked(ctx, stored);
  const known = (await allPipelineEntries(ctx)).map((p) => p.name);
  const hint = known.length
    ? ` (known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})`
    : ' (no pipelines defined)';
  throw new InterlockError('PIPELINE_NOT_FOUND', `unknown pipeline '${name}'${hint}`, { pipeline: name });
}

/**
 * One pipeline that may be evaluated or run: PIPELINE_NOT_FOUND naming the known ones, CONFIG_INVALID (with its
 * diagnostics) for an INVALID one.
 */
export async function getPipeline(ctx: Context, name: string): Promise<PipelineSpec> {
  const p = await findPipeline(ctx, name);
  if (isInvalid(p)) throw invalidPipelineError(p);
  return p;
}
