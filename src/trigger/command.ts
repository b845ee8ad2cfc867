// Command triggers: `sh -c <command>` in the project dir, in its own process group, with a timeout and output tails.
// Stdout and stderr are real files (runProcess `stdio: 'files'`), so commands may open /dev/stdout by path, as the
// seed's `aws lambda invoke --function-name my-pipeline-fn /dev/stdout` does.
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { INTERLOCK_PROVIDED_VARS } from '../core/run-vars.js';
import type { CommandTriggerSpec, TriggerOutcome } from '../core/types.js';
import { childEnv } from '../proc/env.js';
import { describeJob } from '../proc/job.js';
import { runProcess } from '../proc/spawn.js';
import { errMessage, formatSeconds, type TriggerContext, timeoutMs, triggerEnv } from './context.js';
import { lastBytes, redact, secretEnvValues, secretForms } from './redact.js';

export const DEFAULT_COMMAND_TIMEOUT_SECONDS = 3600;
/** How much of the end of stdout and of stderr an outcome keeps. */
export const OUTPUT_TAIL_BYTES = 4096;
/**
 * How much the process runner keeps before redaction. The margin means a secret straddling the start of the
 * 4 KiB window is still seen whole (and masked) before the window is cut, instead of leaking its second half.
 */
const RAW_TAIL_BYTES = 2 * OUTPUT_TAIL_BYTES;

/** What `sh` exit statuses 126/127 mean, so "exit code 127" says why. */
const SHELL_STATUS: Record<number, string> = {
  126: 'found but not executable',
  127: 'command not found',
};

/** Why a process that did not exit 0 failed, for humans. */
function failure(exitCode: number | null, signal: string | null): string {
  if (signal) return `killed by ${signal}`;
  if (exitCode === null) return 'ended without an exit code';
  const why = SHELL_STATUS[exitCode];
  return why ? `exit code ${exitCode} (${why})` : `exit code ${exitCode}`;
}

/** A spawn failure of /bin/sh itself: almost always a missing working directory. */
async function spawnFailure(err: NodeJS.ErrnoException, projectDir: string): Promise<string> {
  // The output files could not be created (full or unwritable temp dir): the message names the path.
  if (err.syscall === 'mkdtemp' || err.syscall === 'open') return `cannot capture command output: ${errMessage(err)}`;
  try {
    const st = await stat(projectDir);
    if (!st.isDirectory()) return `cannot start command: ${projectDir} is not a directory`;
  } catch {
    return `cannot start command: project directory ${projectDir} does not exist`;
  }
  return `cannot start command: ${err.code ?? errMessage(err)}`;
}

/** Runs a command trigger to completion. Never throws. */
export async function fireCommandTrigger(spec: CommandTriggerSpec, ctx: TriggerContext): Promise<TriggerOutcome> {
  const start = performance.now();
  // The minimal environment plus the trigger's own `env` list; what it lists is masked like a secret.
  // Interlock's own variables (run id and key, window) are set by triggerEnv, and are not secrets even if listed.
  const listed = (spec.env ?? []).filter((n) => !INTERLOCK_PROVIDED_VARS.includes(n));
  const { env, passed } = childEnv(triggerEnv(ctx), listed);
  const limitMs = timeoutMs(spec.timeout, DEFAULT_COMMAND_TIMEOUT_SECONDS);
  const secrets = [...secretEnvValues(env), ...passed.flatMap(secretForms)];
  const clean = (text: string): string => redact(text, secrets);

  const proc = await runProcess({
    file: '/bin/sh',
    args: ['-c', spec.command],
    cwd: ctx.projectDir,
    env,
    timeoutMs: limitMs,
    maxStdoutBytes: RAW_TAIL_BYTES,
    stderrTailBytes: RAW_TAIL_BYTES,
    stdio: 'files',
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.onStart ? { onSpawn: (pid: number) => ctx.onStart?.(describeJob(pid, Date.now())) } : {}),
  });

  const outcome: TriggerOutcome = {
    type: 'command',
    ok: false,
    async: false,
    durationMs: performance.now() - start,
    exitCode: proc.exitCode,
    signal: proc.signal,
    timedOut: proc.timedOut,
    stdoutTail: lastBytes(clean(proc.stdout), OUTPUT_TAIL_BYTES),
    stderrTail: lastBytes(clean(proc.stderrTail), OUTPUT_TAIL_BYTES),
  };

  if (proc.spawnError) outcome.error = await spawnFailure(proc.spawnError, ctx.projectDir);
  else if (proc.aborted) {
    if (proc.exitCode === null && proc.signal === null) {
      outcome.error = 'aborted before the command started';
      // Nothing ran: another attempt is safe.
      outcome.category = 'TRANSIENT';
    } else outcome.error = `aborted: Interlock stopped the command (${failure(proc.exitCode, proc.signal)})`;
  } else if (proc.timedOut)
    outcome.error = `timed out after ${formatSeconds(limitMs)} (process group killed, ${failure(proc.exitCode, proc.signal)})`;
  else if (proc.exitCode === 0) outcome.ok = true;
  else outcome.error = failure(proc.exitCode, proc.signal);

  if (outcome.error !== undefined) outcome.error = clean(outcome.error);
  return outcome;
}
