// Glue triggers: one job run per Interlock run (StartJobRun with the run key in `--interlock-run-key`, since Glue has
// no idempotency token), its JobRunState polled (GetJobRun), cancel (BatchStopJobRun), and the job run of a run key
// found again after an UNKNOWN outcome by scanning GetJobRuns for that argument.
import { performance } from 'node:perf_hooks';
import {
  BatchStopJobRunCommand,
  type BatchStopJobRunResponse,
  GetJobRunCommand,
  type GetJobRunResponse,
  GetJobRunsCommand,
  type GetJobRunsResponse,
  GlueClient,
  StartJobRunCommand,
  type StartJobRunResponse,
} from '@aws-sdk/client-glue';
import type { GlueTriggerSpec, PlatformRun, TriggerOutcome } from '../core/types.js';
import {
  type AwsSetup,
  awsSend,
  awsSetup,
  clientConfig,
  DEFAULT_AWS_TIMEOUT_SECONDS,
  expandAws,
  IDEMPOTENT_ATTEMPTS,
  type SdkClient,
  startFailureCategory,
} from './aws.js';
import { errMessage, type TriggerContext } from './context.js';
import type { FindAnswer, FindContext, NativeTrigger, PlatformAnswer, PlatformContext } from './native.js';

/** The job run argument that carries the run key (Glue has no idempotency token: this is how a run is found again). */
export const GLUE_RUN_KEY_ARGUMENT = '--interlock-run-key';
/** GetJobRuns pages (of 200) a find reads at most before it says it cannot tell. */
export const GLUE_FIND_MAX_PAGES = 5;
/** Job runs started this long before the run fired are older than its StartJobRun: the scan stops there. */
const FIND_CLOCK_SKEW_MS = 5 * 60 * 1000;

function client(setup: AwsSetup, attempts: number): SdkClient<unknown> {
  return new GlueClient(clientConfig(setup, attempts)) as unknown as SdkClient<unknown>;
}

/** Glue's JobRunState → the Interlock run's: SUCCEEDED completes it; STOPPED, FAILED, TIMEOUT, ERROR, EXPIRED fail it. */
export function glueRunStatus(state: string): 'RUNNING' | 'COMPLETED' | 'FAILED' {
  if (state === 'SUCCEEDED') return 'COMPLETED';
  if (['STOPPED', 'FAILED', 'TIMEOUT', 'ERROR', 'EXPIRED'].includes(state)) return 'FAILED';
  // STARTING, RUNNING, STOPPING, WAITING (and anything new): not over yet.
  return 'RUNNING';
}

/**
 * StartJobRun, sent once (never re-sent by the SDK: Glue would start a second job run). A lost answer, a timeout
 * after sending or a 5xx is UNKNOWN: the runtime then looks for the job run carrying the run key (find).
 */
async function fire(spec: GlueTriggerSpec, ctx: TriggerContext): Promise<TriggerOutcome> {
  const start = performance.now();
  const outcome: TriggerOutcome = { type: 'glue', ok: false, async: true, durationMs: 0, method: 'StartJobRun' };
  const done = (extra: Partial<TriggerOutcome>): TriggerOutcome => {
    Object.assign(outcome, extra);
    outcome.durationMs = performance.now() - start;
    return outcome;
  };
  const prepared = awsSetup(spec, ctx, DEFAULT_AWS_TIMEOUT_SECONDS);
  if (!prepared.ok) return done({ error: prepared.error, requestSent: false, category: 'PERMANENT' });
  const setup = prepared.setup;
  const runKey = ctx.runKey ?? ctx.runId;
  const args = {
    ...(expandAws(spec.arguments ?? {}, setup) as Record<string, string>),
    [GLUE_RUN_KEY_ARGUMENT]: runKey,
  };
  const jobName = expandAws(spec.job, setup) as string;
  const r = await awsSend<unknown, StartJobRunResponse>(
    client(setup, 1),
    new StartJobRunCommand({ JobName: jobName, Arguments: args }),
    setup,
    ctx,
    `StartJobRun ${jobName}`,
  );
  if (!r.ok)
    return done({
      error: r.error,
      requestSent: r.sent,
      category: startFailureCategory(r, false),
      ...(r.httpStatus !== undefined ? { httpStatus: r.httpStatus } : {}),
      ...(r.timedOut ? { timedOut: true } : {}),
    });
  const id = r.out.JobRunId;
  if (!id) return done({ error: 'StartJobRun answered without a JobRunId', requestSent: true, category: 'UNKNOWN' });
  return done({ ok: true, httpStatus: 200, platformRunId: id });
}

function failed(r: { error: string; httpStatus?: number }): PlatformAnswer {
  return { ok: false, error: r.error, ...(r.httpStatus !== undefined ? { httpStatus: r.httpStatus } : {}) };
}

async function withSetup(
  spec: GlueTriggerSpec,
  ctx: PlatformContext,
  call: (setup: AwsSetup, jobName: string) => Promise<PlatformAnswer>,
): Promise<PlatformAnswer> {
  try {
    const prepared = awsSetup(spec, ctx, DEFAULT_AWS_TIMEOUT_SECONDS);
    if (!prepared.ok) return { ok: false, error: prepared.error };
    return await call(prepared.setup, expandAws(spec.job, prepared.setup) as string);
  } catch (err) {
    return { ok: false, error: `internal error: ${errMessage(err)}` };
  }
}

/** GetJobRun: JobRun.JobRunState. */
async function poll(spec: GlueTriggerSpec, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer> {
  return withSetup(spec, ctx, async (setup, jobName) => {
    const what = `GetJobRun ${jobName} ${job.id}`;
    const r = await awsSend<unknown, GetJobRunResponse>(
      client(setup, IDEMPOTENT_ATTEMPTS),
      new GetJobRunCommand({ JobName: jobName, RunId: job.id, PredecessorsIncluded: false }),
      setup,
      ctx,
      what,
    );
    if (!r.ok) return failed(r);
    const state = r.out.JobRun?.JobRunState;
    if (typeof state !== 'string') return { ok: false, error: `${what}: the answer has no JobRun.JobRunState` };
    return { ok: true, state, status: glueRunStatus(state) };
  });
}

/** BatchStopJobRun: confirmed when the job run is among SuccessfulSubmissions (Glue then stops it: STOPPING → STOPPED). */
async function cancel(spec: GlueTriggerSpec, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer> {
  return withSetup(spec, ctx, async (setup, jobName) => {
    const what = `BatchStopJobRun ${jobName} ${job.id}`;
    const r = await awsSend<unknown, BatchStopJobRunResponse>(
      client(setup, IDEMPOTENT_ATTEMPTS),
      new BatchStopJobRunCommand({ JobName: jobName, JobRunIds: [job.id] }),
      setup,
      ctx,
      what,
    );
    if (!r.ok) return failed(r);
    const refused = r.out.Errors?.find((e) => e.JobRunId === job.id);
    if (refused)
      return {
        ok: false,
        error: setup.clean(
          `${what}: ${refused.ErrorDetail?.ErrorCode ?? 'refused'}: ${refused.ErrorDetail?.ErrorMessage ?? ''}`.trim(),
        ),
      };
    if (!r.out.SuccessfulSubmissions?.some((s) => s.JobRunId === job.id))
      return { ok: false, error: `${what}: the answer does not confirm the stop` };
    return { ok: true, state: 'STOPPING', status: 'FAILED' };
  });
}

/**
 * GetJobRuns, newest first, for a job run whose `--interlock-run-key` is `runKey`. Stops at the first page that
 * reaches job runs started before the run fired (less a clock-skew margin); more than GLUE_FIND_MAX_PAGES pages
 * without reaching them is "cannot tell" (fail closed: never "not found" on a partial scan).
 */
async function find(spec: GlueTriggerSpec, runKey: string, ctx: FindContext): Promise<FindAnswer> {
  try {
    const prepared = awsSetup(spec, ctx, DEFAULT_AWS_TIMEOUT_SECONDS);
    if (!prepared.ok) return { ok: false, error: prepared.error };
    const setup = prepared.setup;
    const jobName = expandAws(spec.job, setup) as string;
    let next: string | undefined;
    for (let page = 0; page < GLUE_FIND_MAX_PAGES; page++) {
      const r = await awsSend<unknown, GetJobRunsResponse>(
        client(setup, IDEMPOTENT_ATTEMPTS),
        new GetJobRunsCommand({ JobName: jobName, MaxResults: 200, ...(next ? { NextToken: next } : {}) }),
        setup,
        ctx,
        `GetJobRuns ${jobName}`,
      );
      if (!r.ok) return { ok: false, error: r.error };
      let older = false;
      for (const run of r.out.JobRuns ?? []) {
        if (run.Arguments?.[GLUE_RUN_KEY_ARGUMENT] === runKey && run.Id)
          return { ok: true, found: true, id: run.Id, ...(run.JobRunState ? { state: run.JobRunState } : {}) };
        const started = run.StartedOn instanceof Date ? run.StartedOn.getTime() : undefined;
        if (ctx.since !== undefined && started !== undefined && started < ctx.since - FIND_CLOCK_SKEW_MS) older = true;
      }
      next = r.out.NextToken;
      if (!next || older) return { ok: true, found: false };
    }
    return {
      ok: false,
      error: `GetJobRuns ${jobName}: no job run with ${GLUE_RUN_KEY_ARGUMENT} ${runKey} in the newest ${GLUE_FIND_MAX_PAGES * 200}, and older ones remain: cannot tell`,
    };
  } catch (err) {
    return { ok: false, error: `internal error: ${errMessage(err)}` };
  }
}

export const glueTrigger: NativeTrigger<GlueTriggerSpec> = {
  fire,
  poll,
  cancel,
  find,
  pollSeconds: (spec) => spec.poll,
};
