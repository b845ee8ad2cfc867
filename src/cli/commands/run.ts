// `interlock run <pipeline>`
import { openContext } from '../../runtime/context.js';
import { type RunOptions, type RunResult, runPipeline } from '../../runtime/run.js';
import { RUN_EXIT_CODE, runOutcome } from '../../runtime/run-outcome.js';
import { describeRun, formatDuration, formatResultLines, formatVerdict } from '../format.js';
import { onInterrupt } from '../interrupt.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';

/** The exit code of a run's result (runtime's RUN_EXIT_CODE table). */
export function runExitCode(r: RunResult): number {
  return RUN_EXIT_CODE[runOutcome(r)];
}

/** What an embedder (a test-only entry point) may add to `run`'s use-case options. */
export type RunHooks = Pick<RunOptions, 'atCheckpoint'>;

export async function run(out: Out, g: GlobalOptions, name: string, hooks: RunHooks = {}): Promise<number> {
  const ctx = await openContext(contextOptions(g));
  try {
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
      return runExitCode(r);
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
