// The Context every use-case takes, and openContext's options (a leaf: context.ts builds it, every use-case reads it).
import type { AlertDispatcher } from '../alert/index.js';
import type { LoadedProject } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import type { EvaluatorPool } from '../evaluator/index.js';
import type { Logger } from '../observability/index.js';
import type { Store } from '../store/index.js';
import type { ResolveHost } from '../trigger/index.js';
import type { EventBus } from './events.js';

export interface OpenOptions {
  /** Where to start looking for interlock.yaml. */
  cwd: string;
  /** Explicit config file (--config). */
  configPath?: string;
  clock?: Clock;
  /** Use this store instead of the configured one (tests). */
  store?: Store;
  /**
   * The environment the project's `${VAR}` checks, the evaluators and the triggers see. Required: only a composition
   * root (the CLI, `serve`, a test) reads process.env.
   */
  env: Readonly<NodeJS.ProcessEnv>;
  /** Where operational messages go (default: warnings on stderr, or `warn` when given). */
  log?: Logger;
  /** Shorthand for a logger whose warnings (and errors) go to this callback (tests). */
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
  /** The environment of the composition root (read-only): `${VAR}` values, evaluator and trigger environments. */
  env: Readonly<NodeJS.ProcessEnv>;
  /** Operational messages (alert delivery failures, skipped alerting, subscriber errors). */
  log: Logger;
  /** Domain events (evaluation.decided, run.created, run.transitioned, alert.raised); alerting subscribes. */
  events: EventBus;
  /** ctx.log.warn(message), for adapters not yet moved to ctx.log. */
  warn(message: string): void;
  /** Resolver for the host checks of untrusted http triggers (default: the system's); tests stub it. */
  resolveHost?: ResolveHost;
  close(): Promise<void>;
}
