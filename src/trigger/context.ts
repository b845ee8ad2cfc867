// What a trigger call needs besides its spec, and the variables Interlock itself provides.

import { RUN_VARS, type WindowVarsSource, windowVars, withoutProvidedVars } from '../core/run-vars.js';
import type { JobProcess } from '../core/types.js';
import type { AddressPolicy } from './address-guard.js';

/** Where and for which run a trigger fires. */
export interface TriggerContext {
  /** Command working directory. */
  projectDir: string;
  pipeline: string;
  /** Commands get INTERLOCK_RUN_ID; http requests get the X-Interlock-Run-Id header and `${INTERLOCK_RUN_ID}`. */
  runId: string;
  /**
   * The key a platform may deduplicate on: INTERLOCK_RUN_KEY for commands, the X-Interlock-Run-Key header and
   * `${INTERLOCK_RUN_KEY}` for http. A window attempt's run key for watcher runs; defaults to `runId`.
   */
  runKey?: string;
  /** A schedule window's run: INTERLOCK_SCHEDULE, INTERLOCK_WINDOW, INTERLOCK_WINDOW_START, INTERLOCK_WINDOW_DATE. */
  window?: WindowVarsSource;
  /**
   * The source of http triggers' `${VAR}` expansion and of commands' environment (of which a command gets only
   * the minimal set plus its `env` list): the Context's env, never read from process.env here.
   */
  env: Readonly<NodeJS.ProcessEnv>;
  /** Aborting kills the command's process group or aborts the request (server shutdown). */
  signal?: AbortSignal;
  /**
   * Untrusted http triggers (pipelines registered over HTTP): the host is resolved once, every address must be
   * public or allowed, and the request connects to the checked address. Undefined = trusted (YAML).
   */
  addressPolicy?: AddressPolicy;
  /** Command triggers: called once the command runs, with its process group (recorded on the run). */
  onStart?: (job: JobProcess) => void;
}

/** Always provided by Interlock, so never reported missing (the window's variables only with a window). */
export const PROVIDED_VARS: readonly string[] = RUN_VARS;

/** The variables Interlock provides to this trigger call: the run's, and the window's when it has one. */
export function providedVars(ctx: Pick<TriggerContext, 'runId' | 'pipeline' | 'runKey' | 'window'>) {
  return {
    INTERLOCK_RUN_ID: ctx.runId,
    INTERLOCK_PIPELINE: ctx.pipeline,
    INTERLOCK_RUN_KEY: ctx.runKey ?? ctx.runId,
    ...windowVars(ctx.window),
  } as Record<string, string>;
}

/** ctx.env (without any reserved name it happens to carry) plus the variables Interlock provides. */
export function triggerEnv(ctx: TriggerContext): NodeJS.ProcessEnv {
  return { ...withoutProvidedVars(ctx.env), ...providedVars(ctx) };
}

/** setTimeout's (and AbortSignal.timeout's) largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A spec timeout in seconds → ms, falling back to `defaultSeconds` when absent or not a positive number. */
export function timeoutMs(seconds: number | undefined, defaultSeconds: number): number {
  const s = typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : defaultSeconds;
  return Math.min(Math.round(s * 1000), MAX_TIMER_MS);
}

/** "30s", "1.5s": a timeout as users wrote it. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
