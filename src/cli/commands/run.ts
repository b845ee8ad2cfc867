// `interlock run <pipeline>`, `complete`, `cancel`, `runs`
import { InterlockError } from '../../core/errors.js';
import type { RunState } from '../../core/types.js';
import { cancelRun, completeRun, getRunState, listRuns } from '../../runtime/complete.js';
import { getPipeline, openContext } from '../../runtime/context.js';
import { type RunOptions, type RunResult, runPipeline } from '../../runtime/run.js';
import { formatDuration, formatResultLines, formatTime, formatVerdict, stateLabel } from '../format.js';
import { onInterrupt } from '../interrupt.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';

function runLine(out: Out, r: RunState, now: number): string {
  const age = formatDuration(now - r.createdAt);
  const trig = r.trigger
    ? r.trigger.type === 'http'
      ? `http ${r.trigger.httpStatus ?? '-'}`
      : `exit ${r.trigger.exitCode ?? r.trigger.signal ?? '-'}`
    : '';
  return `${r.runId}  ${stateLabel(out.c, r.status as never).padEnd(10)}  ${formatTime(r.createdAt)} (${age} ago)  ${trig}  ${out.c.dim(r.reason ?? '')}`.trimEnd();
}

function describeRun(r: RunState, now: number): string[] {
  const lines = [
    `run ${r.runId}  ${r.status}  (v${r.version}, ${r.source}, started ${formatTime(r.createdAt)}, ${formatDuration(now - r.createdAt)} ago)`,
  ];
  if (r.reason) lines.push(`  ${r.reason}`);
  const t = r.trigger;
  if (t) {
    if (t.type === 'command') {
      lines.push(
        `  trigger: command, ${t.ok ? 'succeeded' : 'failed'}${t.exitCode !== undefined && t.exitCode !== null ? `, exit ${t.exitCode}` : ''}${t.signal ? `, ${t.signal}` : ''}, ${formatDuration(t.durationMs)}`,
      );
      if (t.stdoutTail) lines.push(`  stdout: ${t.stdoutTail.trimEnd().split('\n').slice(-5).join('\n          ')}`);
      if (t.stderrTail) lines.push(`  stderr: ${t.stderrTail.trimEnd().split('\n').slice(-5).join('\n          ')}`);
    } else {
      lines.push(
        `  trigger: http ${t.method ?? ''} ${t.url ?? ''} → ${t.httpStatus ?? 'no response'}, ${formatDuration(t.durationMs)}`,
      );
      if (t.bodyExcerpt && !t.ok) lines.push(`  response: ${t.bodyExcerpt.replace(/\s+/g, ' ').slice(0, 200)}`);
    }
    if (t.error) lines.push(`  error: ${t.error}`);
  }
  if (r.metadata) lines.push(`  metadata: ${JSON.stringify(r.metadata)}`);
  return lines;
}

/**
 * 0: triggered, or the trigger fired and the run ended COMPLETED (a callback came first); 1: nothing fired (blocked,
 * another run active, the run ended before its trigger); 3: the trigger failed, or it fired and the run then ended
 * other than COMPLETED (cancelled, timed out), or aborted.
 */
export function runExitCode(r: Exclude<RunResult, { kind: 'already-running' }>): number {
  if (r.kind === 'triggered') return 0;
  if (r.kind === 'superseded-after-trigger') return r.run.status === 'COMPLETED' ? 0 : 3;
  if (r.kind === 'blocked' || r.kind === 'superseded') return 1;
  return 3;
}

/** What an embedder (a test-only entry point) may add to `run`'s use-case options. */
export type RunHooks = Pick<RunOptions, 'atCheckpoint'>;

export async function run(out: Out, g: GlobalOptions, name: string, hooks: RunHooks = {}): Promise<number> {
  const ctx = await openContext(contextOptions(g));
  try {
    await getPipeline(ctx, name);
    const intr = onInterrupt(out.err);
    const r = await runPipeline(ctx, name, { ...hooks, source: 'cli', signal: intr.signal }).finally(intr.dispose);
    const now = ctx.clock.now();
    if (r.kind === 'already-running') {
      const a = r.active;
      if (out.json) out.printJson({ result: r.kind, run: a, ...(r.stopped ? { stopped: true } : {}) });
      else if (r.stopped) {
        out.err(
          `interlock: already running: ${a.runId} was still running its command (${a.status}: ${a.reason ?? ''}); it has been stopped and nothing new was started: run again`,
        );
      } else if (a.status === 'TRIGGERING' && (a.triggerType === 'command' || a.job)) {
        out.err(
          `interlock: already running: ${a.runId} (TRIGGERING for ${formatDuration(now - a.createdAt)}: its command is running; its exit status ends the run, or stop it with 'interlock cancel ${a.runId}')`,
        );
      } else if (a.status === 'TRIGGERING' || a.status === 'RUNNING' || a.status === 'PENDING') {
        out.err(
          `interlock: already running: ${a.runId} (${a.status} for ${formatDuration(now - a.createdAt)}; finish it with 'interlock complete', or 'interlock cancel ${a.runId}')`,
        );
      } else {
        out.err(`interlock: already running: ${a.runId} (ended ${a.status}, but ${a.reason ?? 'it keeps the lock'})`);
      }
      return 1;
    }
    const code = intr.exitCode() ?? runExitCode(r);
    if (out.json) {
      out.printJson({ result: r.kind, run: r.run, readiness: r.evaluation?.readiness });
      return code;
    }
    if (r.evaluation) {
      out.line(`${out.c.bold(name)} ${out.c.dim(`(${r.evaluation.pipeline.archetype})`)}`);
      for (const l of formatResultLines(out.c, r.evaluation.results)) out.fitLine(l);
      for (const l of formatVerdict(out.c, r.evaluation.readiness)) out.fitLine(l);
    }
    if (r.kind === 'blocked') out.line(`run ${r.run.runId} BLOCKED: the trigger was not fired`);
    else if (r.kind === 'superseded-after-trigger') {
      out.line(`the trigger fired, but run ${r.run.runId} ended ${r.run.status} meanwhile`);
      for (const l of describeRun(r.run, now)) out.line(l);
    } else for (const l of describeRun(r.run, now)) out.line(l);
    if (r.kind === 'triggered' && r.run.status === 'RUNNING') {
      out.line(out.c.dim(`  waiting for completion: interlock complete ${r.run.runId} --status success|failed`));
    }
    return code;
  } finally {
    await ctx.close();
  }
}

function parseMetadata(s: string | undefined): Record<string, unknown> | undefined {
  if (s === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (e) {
    throw new InterlockError('USAGE', `--metadata is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InterlockError('USAGE', '--metadata must be a JSON object');
  return v as Record<string, unknown>;
}

export async function complete(
  out: Out,
  g: GlobalOptions,
  runId: string,
  o: { status: string; metadata?: string },
): Promise<number> {
  if (o.status !== 'success' && o.status !== 'failed') {
    throw new InterlockError('USAGE', `--status must be success or failed, got '${o.status}'`);
  }
  const metadata = parseMetadata(o.metadata);
  const ctx = await openContext(contextOptions(g));
  try {
    const c = await completeRun(ctx, runId, o.status, metadata);
    if (out.json) out.printJson(c);
    else
      out.line(
        c.changed
          ? `run ${runId} is now ${c.run.status}`
          : `run ${runId} was already ${c.run.status} (nothing changed)`,
      );
    return 0;
  } finally {
    await ctx.close();
  }
}

export async function cancel(out: Out, g: GlobalOptions, runId: string, o: { reason?: string }): Promise<number> {
  const ctx = await openContext(contextOptions(g));
  try {
    const c = await cancelRun(ctx, runId, o.reason);
    if (out.json) out.printJson(c);
    else
      out.line(
        !c.changed
          ? `run ${runId} was already CANCELLED`
          : c.run.lockHeldUntil !== undefined
            ? `run ${runId} cancelled; ${c.run.reason ?? 'the pipeline stays locked while its command may run'}`
            : `run ${runId} cancelled (the pipeline's lock is free)`,
      );
    return 0;
  } finally {
    await ctx.close();
  }
}

export async function runs(
  out: Out,
  g: GlobalOptions,
  name: string | undefined,
  o: { limit: string; id?: string },
): Promise<number> {
  if (!name && !o.id)
    throw new InterlockError('USAGE', "give a pipeline ('interlock runs <pipeline>') or a run id (--id <runId>)");
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new InterlockError('USAGE', `--limit must be a whole number ≥ 1, got '${o.limit}'`);
  const ctx = await openContext(contextOptions(g));
  try {
    const now = ctx.clock.now();
    if (o.id) {
      const r = await getRunState(ctx, o.id);
      if (name && r.pipeline !== name) throw new InterlockError('RUN_NOT_FOUND', `run ${o.id} is not a run of ${name}`);
      if (out.json) out.printJson(r);
      else for (const l of describeRun(r, now)) out.line(l);
      return 0;
    }
    const list = await listRuns(ctx, name as string, { limit });
    if (out.json) out.printJson(list);
    else if (list.length === 0) out.line(`no runs of ${name} yet (start one with 'interlock run ${name}')`);
    else for (const r of list) out.line(runLine(out, r, now));
    return 0;
  } finally {
    await ctx.close();
  }
}
