// The runtime context: a loaded project, its store and evaluator pool, opened once per command or server.

import { join } from 'node:path';
import { AlertDispatcher, createSinks } from '../alert/index.js';
import type { LoadedProject } from '../config/index.js';
import { assertValid, findConfigFile, loadProject } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { InterlockError } from '../core/errors.js';
import type { PipelineSpec } from '../core/types.js';
import { EvaluatorPool } from '../evaluator/index.js';
import type { Store } from '../store/index.js';
import { createStore } from '../store/index.js';
import type { ResolveHost } from '../trigger/index.js';
import { checkStoredPipeline, type InvalidPipeline } from './register.js';

export interface OpenOptions {
  /** Where to start looking for interlock.yaml. */
  cwd: string;
  /** Explicit config file (--config). */
  configPath?: string;
  clock?: Clock;
  /** Use this store instead of the configured one (tests). */
  store?: Store;
  /** Where operational warnings go (default: stderr). */
  warn?: (message: string) => void;
}

/** Everything a use-case needs. Create with `openContext`, release with `close`. */
export interface Context {
  project: LoadedProject;
  store: Store;
  clock: Clock;
  pool: EvaluatorPool;
  alerts: AlertDispatcher;
  /** An unchanged alert condition repeats after this long. */
  repeatAfterMs: number;
  /** Operational warnings (alert delivery failures, skipped alerting). */
  warn(message: string): void;
  /** Resolver for the host checks of untrusted http triggers (default: the system's); tests stub it. */
  resolveHost?: ResolveHost;
  close(): Promise<void>;
}

/** Finds, loads and validates the project (CONFIG_INVALID with every diagnostic), then opens its store. */
export async function openContext(opts: OpenOptions): Promise<Context> {
  const project = loadProject(findConfigFile(opts.cwd, opts.configPath));
  assertValid(project);
  // A Redis store remembers its id in the project's .interlock/ so a store that lost its data is refused.
  const cfg = project.config;
  const store =
    opts.store ??
    (await createStore(
      cfg.provider === 'redis' ? { ...cfg, redis: { ...cfg.redis, stateDir: join(project.root, '.interlock') } } : cfg,
    ));
  const pool = new EvaluatorPool(project.config.evaluatorConcurrency);
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`interlock: warning: ${m}\n`));
  const alerts = new AlertDispatcher(createSinks(project.config.alerts.sinks), {
    onError: (sink, err) => warn(`alert sink ${sink} failed: ${err instanceof Error ? err.message : String(err)}`),
  });
  return {
    project,
    store,
    // Redis has one clock for every host; SQLite and memory use this host's.
    clock: opts.clock ?? store.clock ?? systemClock,
    pool,
    alerts,
    repeatAfterMs: project.config.alerts.repeatAfterSeconds * 1000,
    warn,
    close: () => store.close(),
  };
}

/** Every pipeline by name: the usable ones, and the registered ones the store holds that fail their checks. */
export interface PipelineCatalog {
  pipelines: PipelineSpec[];
  invalid: InvalidPipeline[];
}

/**
 * All pipelines: YAML-defined ones win over store-registered ones of the same name; every registered one is checked
 * like a new registration (an entry that fails is listed in `invalid`, and never breaks the others). Sorted by name.
 */
export async function pipelineCatalog(ctx: Context): Promise<PipelineCatalog> {
  const byName = new Map<string, PipelineSpec>();
  const invalid: InvalidPipeline[] = [];
  for (const entry of await ctx.store.listPipelines()) {
    if (ctx.project.pipelines.has(entry.name)) continue;
    const c = checkStoredPipeline(ctx, entry);
    if (c.ok) byName.set(entry.name, c.spec);
    else invalid.push(c.invalid);
  }
  for (const [name, p] of ctx.project.pipelines) byName.set(name, p);
  const pipelines = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { pipelines, invalid: invalid.sort((a, b) => a.name.localeCompare(b.name)) };
}

/** The usable pipelines (see pipelineCatalog), sorted by name. */
export async function allPipelines(ctx: Context): Promise<PipelineSpec[]> {
  return (await pipelineCatalog(ctx)).pipelines;
}

/**
 * One pipeline by name, or PIPELINE_NOT_FOUND naming the known ones. A registered one is checked like a new
 * registration each time: PIPELINE_INVALID (with every problem) when it fails, so it is never evaluated or run.
 */
export async function getPipeline(ctx: Context, name: string): Promise<PipelineSpec> {
  const fromFile = ctx.project.pipelines.get(name);
  if (fromFile) return fromFile;
  const stored = await ctx.store.getPipeline(name);
  if (stored) {
    const c = checkStoredPipeline(ctx, stored);
    if (c.ok) return c.spec;
    const { problems } = c.invalid;
    const first = problems[0];
    throw new InterlockError(
      'PIPELINE_INVALID',
      `pipeline '${name}' (registered) is INVALID and will not be evaluated or run: ${first?.path ? `${first.path}: ` : ''}${first?.message ?? ''}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}; DELETE it and register it again`,
      { pipeline: name, problems },
    );
  }
  const known = (await allPipelines(ctx)).map((p) => p.name);
  const hint = known.length
    ? ` (known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})`
    : ' (no pipelines defined)';
  throw new InterlockError('PIPELINE_NOT_FOUND', `unknown pipeline '${name}'${hint}`, { pipeline: name });
}
