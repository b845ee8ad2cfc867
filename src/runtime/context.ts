// The runtime context: a loaded project, its store and evaluator pool, opened once per command or server.

import { AlertDispatcher, createSinks, undeliveredMessage } from '../alert/index.js';
import type { LoadedProject } from '../config/index.js';
import { assertValid, findConfigFile, loadProject } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { InterlockError } from '../core/errors.js';
import type { PipelineSpec } from '../core/types.js';
import { EvaluatorPool } from '../evaluator/index.js';
import type { Store } from '../store/index.js';
import { createStore } from '../store/index.js';

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
  close(): Promise<void>;
}

/** Finds, loads and validates the project (CONFIG_INVALID with every diagnostic), then opens its store. */
export async function openContext(opts: OpenOptions): Promise<Context> {
  const project = loadProject(findConfigFile(opts.cwd, opts.configPath));
  assertValid(project);
  const store = opts.store ?? (await createStore(project.config));
  const pool = new EvaluatorPool(project.config.evaluatorConcurrency);
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`interlock: warning: ${m}\n`));
  const alerts = new AlertDispatcher(createSinks(project.config.alerts.sinks), {
    onError: (sink, err) => warn(`alert sink ${sink} failed: ${err instanceof Error ? err.message : String(err)}`),
    onUndelivered: (sink, alert, budgetMs) => warn(undeliveredMessage(sink, alert, budgetMs)),
    budgetMs: project.config.alerts.timeoutSeconds * 1000,
  });
  return {
    project,
    store,
    clock: opts.clock ?? systemClock,
    pool,
    alerts,
    repeatAfterMs: project.config.alerts.repeatAfterSeconds * 1000,
    warn,
    close: () => store.close(),
  };
}

/** All pipelines: YAML-defined ones win over store-registered ones of the same name. Sorted by name. */
export async function allPipelines(ctx: Context): Promise<PipelineSpec[]> {
  const byName = new Map<string, PipelineSpec>();
  for (const p of await ctx.store.listPipelines()) byName.set(p.name, p);
  for (const [name, p] of ctx.project.pipelines) byName.set(name, p);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** One pipeline by name, or PIPELINE_NOT_FOUND naming the known ones. */
export async function getPipeline(ctx: Context, name: string): Promise<PipelineSpec> {
  const fromFile = ctx.project.pipelines.get(name);
  if (fromFile) return fromFile;
  const stored = await ctx.store.getPipeline(name);
  if (stored) return stored;
  const known = (await allPipelines(ctx)).map((p) => p.name);
  const hint = known.length
    ? ` (known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})`
    : ' (no pipelines defined)';
  throw new InterlockError('PIPELINE_NOT_FOUND', `unknown pipeline '${name}'${hint}`, { pipeline: name });
}
