// Runs evaluators as subprocesses and turns every outcome (pass, fail, crash, hang, garbage) into a TraitResult.
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectionOf, isBuiltinName, unknownBuiltinMessage } from '../core/builtin-config.js';
import type { Clock } from '../core/clock.js';
import { expiryOf } from '../core/expiry.js';
import { SQL_BUILTINS } from '../core/lists.js';
import { isWindowVar, type WindowVarsSource, windowVars, withoutProvidedVars } from '../core/run-vars.js';
import type { ReasonCode, ResolvedTrait, TraitResult } from '../core/types.js';
import { childEnv } from '../proc/env.js';
import { type ProcessResult, runProcess } from '../proc/spawn.js';
import {
  type BuiltinOutcome,
  type HostGuardResult,
  loadBuiltin,
  SqlPools,
  type UpstreamReader,
} from './builtin/index.js';
import { confineEvaluator } from './confine.js';
import { parseEvaluatorOutput } from './protocol.js';
import { Semaphore } from './semaphore.js';

/** Everything an evaluation needs besides the trait itself. */
export interface EvalContext {
  /** Evaluator working directory; also passed as INTERLOCK_PROJECT_DIR. */
  projectDir: string;
  /** Passed as INTERLOCK_PIPELINE and recorded on the result. */
  pipeline: string;
  /** evaluatedAt / expiresAt come from `clock.now()`. */
  clock: Pick<Clock, 'now'>;
  /**
   * Where the evaluator's environment comes from (the Context's env). The evaluator gets only the minimal set
   * (PATH, HOME, LANG, LC_*, TZ, TMPDIR, INTERLOCK_* but the API token) plus the trait's `env` list.
   */
  env: Readonly<NodeJS.ProcessEnv>;
  /** Stdout cap per evaluator. Default 1 MiB. */
  maxStdoutBytes?: number;
  /** Aborting kills running evaluators' process groups (server shutdown); their results are FAILs. */
  signal?: AbortSignal;
  /**
   * Untrusted pipelines (registered over the API): the evaluator's real path (symlinks resolved, checked again at
   * every spawn) must be inside one of these directories, else the trait FAILs with EVALUATOR_FORBIDDEN and
   * nothing runs. The checked real path is what gets executed. Undefined = trusted (YAML): any path.
   */
  confineTo?: readonly string[];
  /**
   * A schedule window's decision: INTERLOCK_SCHEDULE, INTERLOCK_WINDOW, INTERLOCK_WINDOW_START and
   * INTERLOCK_WINDOW_DATE in the evaluator's environment and as `${…}` in its config. Without it (a manual
   * evaluation) none of them is set, whatever `env` holds, and a config that uses one fails the trait.
   */
  window?: WindowVarsSource;
  /** interlock.yaml `connections` (URLs as written: `${VAR}` expands by each trait's env), for the SQL builtins. */
  connections?: Readonly<Record<string, { url: string }>>;
  /**
   * Untrusted pipelines: the address guard of http triggers (server.allowedHosts), which every host a builtin:http
   * check connects to must pass; the connection then goes to the checked address only.
   */
  guardHost?: (hostname: string) => Promise<HostGuardResult>;
  /** The store, read-only: builtin:pipeline reads the upstream pipeline's windows and runs from it. */
  upstream?: UpstreamReader;
  /** The SQL builtins' connection pools (the EvaluatorPool's); without them each SQL check opens its own connection. */
  sql?: SqlPools;
}

export const DEFAULT_MAX_STDOUT_BYTES = 1024 * 1024;
/** Upper bound on a runner-written reason (the stderr tail is cut to fit). */
export const MAX_REASON_CHARS = 4000;

interface Outcome {
  status: TraitResult['status'];
  reasonCode?: ReasonCode;
  reason?: string;
  value?: Record<string, unknown>;
  proc?: ProcessResult;
  /** A builtin's run time (a process's is in `proc`). */
  durationMs?: number;
}

const fail = (reasonCode: ReasonCode, reason: string, proc?: ProcessResult): Outcome =>
  proc ? { status: 'FAIL', reasonCode, reason, proc } : { status: 'FAIL', reasonCode, reason };

/** `prefix: <stderr tail>` kept under MAX_REASON_CHARS, keeping the end of stderr (where errors usually are). */
function withStderr(prefix: string, stderrTail: string): string {
  const tail = stderrTail.trim();
  if (tail === '') return prefix;
  const sep = '; stderr: ';
  const room = Math.max(0, MAX_REASON_CHARS - prefix.length - sep.length - 1); // 1 for the '…'
  const shown = tail.length > room ? `…${tail.slice(tail.length - room)}` : tail;
  return `${prefix}${sep}${shown}`;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Why a signal was aborted, for humans ("aborted by shutdown"); the DOMException default says little. */
function abortReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  if (typeof r === 'string') return r;
  if (r instanceof Error && r.name !== 'AbortError') return r.message;
  return 'the evaluation was cancelled';
}

/** Checks the evaluator path before spawning so the common mistakes get precise reason codes. */
async function checkExecutable(file: string, shown: string): Promise<Outcome | undefined> {
  try {
    const st = await stat(file);
    if (st.isDirectory())
      return fail('EVALUATOR_NOT_EXECUTABLE', `evaluator ${shown} is a directory, not an executable`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return fail('EVALUATOR_NOT_FOUND', `evaluator not found: ${shown}`);
    if (code === 'EACCES')
      return fail('EVALUATOR_NOT_EXECUTABLE', `evaluator ${shown} is not accessible: ${errMessage(err)}`);
    return fail('EVALUATOR_ERROR', `cannot inspect evaluator ${shown}: ${errMessage(err)}`);
  }
  try {
    await access(file, fsConstants.X_OK);
  } catch {
    return fail('EVALUATOR_NOT_EXECUTABLE', `evaluator ${shown} is not executable (chmod +x it)`);
  }
  return undefined;
}

/** Maps a finished process to an outcome. Order matters: a killed process's exit status is not its own. */
function interpret(proc: ProcessResult, trait: ResolvedTrait, shown: string, signal?: AbortSignal): Outcome {
  if (proc.aborted) {
    return fail('EVALUATOR_ERROR', `evaluator ${shown} aborted: ${abortReason(signal)}`, proc);
  }
  if (proc.spawnError) {
    const e = proc.spawnError;
    if (e.code === 'EACCES')
      return fail('EVALUATOR_NOT_EXECUTABLE', `evaluator ${shown} cannot be executed: ${e.message}`, proc);
    const hint = e.code === 'ENOENT' ? ' (is the interpreter on its #! line installed?)' : '';
    return fail('EVALUATOR_ERROR', `evaluator ${shown} failed to start: ${e.message}${hint}`, proc);
  }
  if (proc.timedOut) {
    return fail('EVALUATOR_TIMEOUT', `timed out after ${trait.timeoutSeconds}s; process group killed`, proc);
  }
  if (proc.stdoutOverflow) {
    return fail('EVALUATOR_OUTPUT_TOO_LARGE', 'evaluator output exceeded the stdout limit; process group killed', proc);
  }
  if (proc.signal !== null) {
    return fail('EVALUATOR_ERROR', withStderr(`evaluator killed by ${proc.signal}`, proc.stderrTail), proc);
  }
  if (proc.exitCode !== 0) {
    const how =
      proc.exitCode === null
        ? 'evaluator did not report an exit code'
        : `evaluator failed with exit code ${proc.exitCode}`;
    return fail('EVALUATOR_ERROR', withStderr(how, proc.stderrTail), proc);
  }
  const parsed = parseEvaluatorOutput(proc.stdout);
  if (!parsed.ok) {
    return fail(
      'EVALUATOR_OUTPUT_INVALID',
      withStderr(`invalid evaluator output: ${parsed.problem}; stdout: "${parsed.excerpt}"`, proc.stderrTail),
      proc,
    );
  }
  const out: Outcome = { status: parsed.status, proc };
  if (parsed.status === 'FAIL') {
    out.reasonCode = 'EVALUATOR_FAIL';
    out.reason = parsed.reason ?? 'evaluator reported FAIL';
  } else if (parsed.reason !== undefined) {
    out.reason = parsed.reason;
  }
  if (parsed.value !== undefined) out.value = parsed.value;
  return out;
}

const CONFIG_VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Expands `${NAME}` in the config's strings (deeply) for the names the trait lists in `env` and the window
 * variables; others stay as written (the config check refuses them). A listed variable that is unset or empty, or a
 * window variable outside a window, is a problem: the evaluator would otherwise check something else than configured.
 */
function expandConfig(
  config: Record<string, unknown>,
  env: Record<string, string>,
  listed: readonly string[],
): { ok: true; value: unknown } | { ok: false; problem: string } {
  const missing = new Set<string>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(CONFIG_VAR, (whole, name: string) => {
        if (!listed.includes(name) && !isWindowVar(name)) return whole;
        const value = env[name];
        if (value === undefined || value === '') missing.add(name);
        return value ?? '';
      });
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const value = walk(config);
  const outside = [...missing].filter(isWindowVar);
  if (outside.length) {
    return {
      ok: false,
      problem: `${outside.join(', ')} (referenced in config) ${outside.length > 1 ? 'are' : 'is'} set only in a schedule window's evaluations, not here; the evaluator was not started`,
    };
  }
  if (missing.size) {
    const names = [...missing].join(', ');
    return {
      ok: false,
      problem: `environment variable${missing.size > 1 ? 's' : ''} ${names} (listed in env, referenced in config) not set; the evaluator was not started`,
    };
  }
  return { ok: true, value };
}

/** `text` with every `${NAME}` expanded from `env` as `expandConfig` does (for connection URLs). */
function expandString(text: string, env: Record<string, string>, listed: readonly string[]) {
  const r = expandConfig({ text }, env, listed);
  return r.ok ? { ok: true as const, value: (r.value as { text: string }).text } : r;
}

/**
 * Runs a builtin in this process under the trait's timeout: the same env rule for `${VAR}` in its config (and its
 * connection's URL) as a subprocess evaluator's, the config parsed again after expansion, and every failure a FAIL.
 * On timeout the builtin's signal aborts (it stops its request; a query is abandoned) and the trait FAILs at once.
 */
async function runBuiltin(trait: ResolvedTrait, name: string, ctx: EvalContext): Promise<Outcome> {
  const ref = `builtin:${name}`;
  if (!isBuiltinName(name)) return fail('EVALUATOR_NOT_FOUND', unknownBuiltinMessage(name));
  if (ctx.confineTo && SQL_BUILTINS.includes(name))
    return fail('EVALUATOR_FORBIDDEN', `${ref} runs SQL; refused for a pipeline registered over HTTP`);
  const { env } = childEnv(
    {
      ...withoutProvidedVars(ctx.env),
      INTERLOCK_PIPELINE: ctx.pipeline,
      INTERLOCK_TRAIT: trait.type,
      ...windowVars(ctx.window),
    },
    trait.env,
  );
  const listed = trait.env ?? [];
  const expanded = expandConfig(trait.config ?? {}, env, listed);
  if (!expanded.ok)
    return fail('EVALUATOR_ERROR', expanded.problem.replace('the evaluator was not started', `${ref} did not run`));
  const impl = await loadBuiltin(name);
  const parsed = impl.schema.safeParse(expanded.value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'config'}: ${i.message}`);
    return fail('EVALUATOR_ERROR', `${ref} config is invalid: ${problems.join('; ')}`);
  }
  const connections: Record<string, { url: string }> = {};
  const conn = connectionOf(parsed.data);
  const written = conn === undefined ? undefined : ctx.connections?.[conn];
  if (conn !== undefined && written !== undefined) {
    const url = expandString(written.url, env, listed);
    if (!url.ok)
      return fail(
        'CONNECTION_FAILED',
        `connection '${conn}': ${url.problem.replace('the evaluator was not started', `${ref} did not run`)}`,
      );
    connections[conn] = { url: url.value };
  }
  const timeoutMs = trait.timeoutSeconds * 1000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = ctx.signal ? AbortSignal.any([timeout, ctx.signal]) : timeout;
  const started = performance.now();
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  const running = impl.run(parsed.data, {
    projectDir: ctx.projectDir,
    now: ctx.clock.now(),
    signal,
    timeoutMs,
    connections,
    untrusted: ctx.confineTo !== undefined,
    ...(ctx.guardHost ? { guardHost: ctx.guardHost } : {}),
    pipeline: ctx.pipeline,
    ...(ctx.window ? { window: ctx.window } : {}),
    ...(ctx.upstream ? { upstream: ctx.upstream } : {}),
    ...(ctx.sql ? { sql: ctx.sql } : {}),
  });
  // A builtin that rejects after the race was decided must not become an unhandled rejection.
  running.catch(() => {});
  let out: BuiltinOutcome | 'aborted';
  try {
    out = await Promise.race([running, aborted]);
  } catch (err) {
    return { ...fail('EVALUATOR_ERROR', `${ref} failed: ${errMessage(err)}`), durationMs: performance.now() - started };
  }
  const durationMs = performance.now() - started;
  if (out === 'aborted') {
    const o = ctx.signal?.aborted
      ? fail('EVALUATOR_ERROR', `${ref} aborted: ${abortReason(ctx.signal)}`)
      : fail('EVALUATOR_TIMEOUT', `${ref} timed out after ${trait.timeoutSeconds}s; the check was abandoned`);
    return { ...o, durationMs };
  }
  if (out.status === 'PASS') {
    const o: Outcome = { status: 'PASS', durationMs };
    if (out.value !== undefined) o.value = out.value;
    if (out.reason !== undefined) o.reason = out.reason;
    return o;
  }
  const o: Outcome = {
    status: 'FAIL',
    reasonCode: out.reasonCode ?? 'CHECK_FAILED',
    reason: (out.reason ?? `${ref} reported FAIL`).slice(0, MAX_REASON_CHARS),
    durationMs,
  };
  if (out.value !== undefined) o.value = out.value;
  return o;
}

async function run(trait: ResolvedTrait, ctx: EvalContext): Promise<Outcome> {
  if (trait.builtin !== undefined) return runBuiltin(trait, trait.builtin, ctx);
  if (!trait.evaluator) {
    return fail('NO_EVALUATOR', `no evaluator configured for ${trait.required ? 'required ' : ''}trait ${trait.type}`);
  }
  let file = resolvePath(ctx.projectDir, trait.evaluator);
  const shown = trait.evaluatorRef && trait.evaluatorRef !== file ? `${trait.evaluatorRef} (${file})` : file;
  if (ctx.confineTo) {
    const c = confineEvaluator(file, ctx.confineTo);
    if (!c.ok) return fail('EVALUATOR_FORBIDDEN', `${c.reason}; refused to run it (pipeline registered over HTTP)`);
    file = c.real;
  }
  const problem = await checkExecutable(file, shown);
  if (problem) return problem;

  // The window's variables come from ctx.window only, never from the parent's environment.
  const { env } = childEnv(
    {
      ...withoutProvidedVars(ctx.env),
      INTERLOCK_PIPELINE: ctx.pipeline,
      INTERLOCK_TRAIT: trait.type,
      INTERLOCK_PROJECT_DIR: ctx.projectDir,
      ...windowVars(ctx.window),
    },
    trait.env,
  );
  const config = expandConfig(trait.config ?? {}, env, trait.env ?? []);
  if (!config.ok) return fail('EVALUATOR_ERROR', config.problem);

  const proc = await runProcess({
    file,
    cwd: ctx.projectDir,
    env,
    stdin: JSON.stringify(config.value),
    timeoutMs: trait.timeoutSeconds * 1000,
    maxStdoutBytes: ctx.maxStdoutBytes ?? DEFAULT_MAX_STDOUT_BYTES,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  return interpret(proc, trait, shown, ctx.signal);
}

function toResult(trait: ResolvedTrait, ctx: EvalContext, o: Outcome): TraitResult {
  // The evidence was observed when the evaluator finished, so stamp the end.
  const evaluatedAt = ctx.clock.now();
  const r: TraitResult = {
    pipeline: ctx.pipeline,
    trait: trait.type,
    status: o.status,
    durationMs: o.proc ? Math.round(o.proc.durationMs) : Math.round(o.durationMs ?? 0),
    evaluatedAt,
  };
  if (o.value !== undefined) r.value = o.value;
  if (o.reason !== undefined) r.reason = o.reason;
  if (o.reasonCode !== undefined) r.reasonCode = o.reasonCode;
  if (o.proc && !o.proc.spawnError) {
    r.exitCode = o.proc.exitCode;
    r.signal = o.proc.signal;
  }
  const expiresAt = expiryOf(evaluatedAt, trait.ttlSeconds);
  if (expiresAt !== undefined) r.expiresAt = expiresAt;
  return r;
}

/**
 * Runs one trait's evaluator and reports the outcome. Never throws: every failure, including a bug
 * here, is a FAIL result with a reason code (fail closed).
 */
export async function evaluateTrait(trait: ResolvedTrait, ctx: EvalContext): Promise<TraitResult> {
  try {
    return toResult(trait, ctx, await run(trait, ctx));
  } catch (err) {
    const reason = `internal error while evaluating trait ${trait?.type}: ${errMessage(err)}`;
    let evaluatedAt = 0;
    try {
      evaluatedAt = ctx.clock.now();
    } catch {
      // A broken clock must not turn a FAIL into a throw; 0 is long expired.
    }
    return {
      pipeline: String(ctx?.pipeline),
      trait: String(trait?.type),
      status: 'FAIL',
      reasonCode: 'INTERNAL',
      reason,
      durationMs: 0,
      evaluatedAt,
    };
  }
}

/** Runs evaluations in parallel under one concurrency cap shared by every call on this pool. */
export class EvaluatorPool {
  private readonly sem: Semaphore;
  /** One small pool per SQL connection, opened by its first check, closed by `close` (a driver loads only when used). */
  readonly sql = new SqlPools();

  /** @param concurrency most evaluators running at once; default 4 × available parallelism. */
  constructor(concurrency: number = 4 * availableParallelism()) {
    this.sem = new Semaphore(concurrency);
  }

  get concurrency(): number {
    return this.sem.permits;
  }

  /** Evaluators running right now. */
  get active(): number {
    return this.sem.inUse;
  }

  /** Evaluates every trait; results come back in the order of `traits`. `onResult` fires as each one finishes. */
  evaluateAll(
    traits: readonly ResolvedTrait[],
    ctx: EvalContext,
    onResult?: (r: TraitResult) => void,
  ): Promise<TraitResult[]> {
    return Promise.all(
      traits.map(async (trait) => {
        const result = await this.sem.use(() => evaluateTrait(trait, ctx.sql ? ctx : { ...ctx, sql: this.sql }));
        if (onResult) {
          try {
            onResult(result);
          } catch {
            // A progress callback must not lose the results it reports on.
          }
        }
        return result;
      }),
    );
  }

  /** Closes the SQL connection pools (the process can exit; a later SQL check FAILs CONNECTION_FAILED). */
  close(): Promise<void> {
    return this.sql.close();
  }
}
