// What a built-in check is: a config schema and an async run in the Interlock process that reports an outcome.
import type { z } from 'zod';
import type { WindowVarsSource } from '../../core/run-vars.js';
import type { ReasonCode } from '../../core/types.js';
import type { SqlPools } from './sql-connection.js';

/** A checked address the connection must go to (and nowhere else), or why the host is refused. */
export type HostGuardResult = { ok: true; address: { address: string; family: 4 | 6 } } | { ok: false; reason: string };

/** A schedule window as builtin:pipeline reads it from the store (the store's WindowRecord has these fields). */
export interface UpstreamWindow {
  key: string;
  pipeline: string;
  schedule: string;
  state: string;
  openAt: number;
  /** YYYY-MM-DD of openAt in the schedule's timezone. */
  date: string;
  lastDecision?: { outcome: string; blocking: ReadonlyArray<{ trait: string; state: string }> };
  terminal?: { at: number; reason: string };
}

/** A run as builtin:pipeline reads it from the store. */
export interface UpstreamRun {
  runId: string;
  pipeline: string;
  status: string;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  window?: { key: string; attempt: number };
}

/** The read-only part of the store builtin:pipeline needs (the store port satisfies it). */
export interface UpstreamReader {
  listWindows(
    pipeline: string,
    opts?: { limit?: number; before?: number; state?: 'COMPLETED'; schedule?: string },
  ): Promise<readonly UpstreamWindow[]>;
  listRuns(pipeline: string, opts?: { limit?: number }): Promise<readonly UpstreamRun[]>;
}

/** What a builtin gets besides its (expanded, parsed) config. */
export interface BuiltinContext {
  /** The pipeline whose trait this is. */
  pipeline?: string;
  /** The schedule window being decided, when there is one (a manual evaluation has none). */
  window?: WindowVarsSource;
  /** The store, read-only (builtin:pipeline reads other pipelines' windows and runs). */
  upstream?: UpstreamReader;
  /** Project root: relative paths (files, sqlite databases) resolve against it. */
  projectDir: string;
  /** The clock's now (epoch ms) when the check started. */
  now: number;
  /** Aborted when the trait's timeout passes or the evaluation is cancelled: stop, release what you hold. */
  signal: AbortSignal;
  /** The trait's timeout, ms. */
  timeoutMs: number;
  /** interlock.yaml `connections`, their URLs with `${VAR}` expanded by the trait's env (only the one it names). */
  connections: Readonly<Record<string, { url: string }>>;
  /** The SQL connection pools of the evaluator pool running this check; absent: the check opens and closes its own. */
  sql?: SqlPools;
  /** A pipeline registered over HTTP (not trusted like YAML): file paths stay inside the project. */
  untrusted: boolean;
  /** Untrusted pipelines: every HTTP host must pass this guard (server.allowedHosts), and is connected to as checked. */
  guardHost?: (hostname: string) => Promise<HostGuardResult>;
}

/** A builtin's answer. A FAIL always carries a reason code; `value` carries what was measured. */
export interface BuiltinOutcome {
  status: 'PASS' | 'FAIL';
  reasonCode?: ReasonCode;
  reason?: string;
  value?: Record<string, unknown>;
}

/** One built-in check. `run` should not throw (the runner turns a throw into a FAIL anyway). */
export interface Builtin<C = unknown> {
  schema: z.ZodType<C>;
  run(config: C, ctx: BuiltinContext): Promise<BuiltinOutcome>;
}

export const pass = (value: Record<string, unknown>, reason?: string): BuiltinOutcome =>
  reason === undefined ? { status: 'PASS', value } : { status: 'PASS', value, reason };

export const failed = (reasonCode: ReasonCode, reason: string, value?: Record<string, unknown>): BuiltinOutcome =>
  value === undefined ? { status: 'FAIL', reasonCode, reason } : { status: 'FAIL', reasonCode, reason, value };

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
