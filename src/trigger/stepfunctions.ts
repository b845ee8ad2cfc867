// Step Functions triggers (Standard workflows): one execution per Interlock run, named after the run key (the same
// name and input return the same execution; ExecutionAlreadyExists is adopted), its status polled
// (DescribeExecution), cancel (StopExecution), and found again by its name's ARN after an UNKNOWN outcome.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  SFNClient,
  StartExecutionCommand,
  type StartExecutionOutput,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { PlatformRun, StepFunctionsTriggerSpec, TriggerOutcome } from '../core/types.js';
import {
  type AwsSetup,
  awsSend,
  awsSetup,
  clientConfig,
  DEFAULT_AWS_TIMEOUT_SECONDS,
  expandAws,
  IDEMPOTENT_ATTEMPTS,
  runFields,
  type SdkClient,
  startFailureCategory,
} from './aws.js';
import { errMessage, type TriggerContext } from './context.js';
import type { FindAnswer, FindContext, NativeTrigger, PlatformAnswer, PlatformContext } from './native.js';

/** Step Functions' limit on an execution name. */
export const EXECUTION_NAME_MAX = 80;
const PREFIX = 'interlock-';
/** Characters kept as they are in a name (Step Functions refuses whitespace, brackets, wildcards and punctuation). */
const NAME_UNSAFE = /[^A-Za-z0-9_-]/g;

/**
 * The execution name for a run key: deterministic (the same key, the same name: Step Functions' idempotency), at most
 * 80 characters. A key that is not already safe and short (a window attempt's `@`, `:` and `#`) has those characters
 * replaced and a hash of the original appended, so two keys never share a name.
 */
export function stepFunctionsExecutionName(runKey: string): string {
  const safe = runKey.replace(NAME_UNSAFE, '_');
  if (safe === runKey && PREFIX.length + safe.length <= EXECUTION_NAME_MAX) return `${PREFIX}${safe}`;
  const hash = createHash('sha256').update(runKey).digest('hex').slice(0, 16);
  return `${PREFIX}${safe.slice(0, EXECUTION_NAME_MAX - PREFIX.length - hash.length - 1)}-${hash}`;
}

/** arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME[:QUALIFIER] → its parts. */
function arnParts(arn: string): { partition: string; region: string; account: string; name: string } | undefined {
  const m = /^arn:([^:]+):states:([^:]+):(\d{12}):stateMachine:([^:]+)(?::[^:]+)?$/.exec(arn);
  return m
    ? { partition: m[1] as string, region: m[2] as string, account: m[3] as string, name: m[4] as string }
    : undefined;
}

/** The ARN of the execution `name` of a (Standard) state machine. */
export function executionArn(stateMachineArn: string, name: string): string | undefined {
  const p = arnParts(stateMachineArn);
  return p ? `arn:${p.partition}:states:${p.region}:${p.account}:execution:${p.name}:${name}` : undefined;
}

/** DescribeExecution's status → the Interlock run's: SUCCEEDED completes it; FAILED, TIMED_OUT, ABORTED fail it. */
export function stepFunctionsRunStatus(status: string): 'RUNNING' | 'COMPLETED' | 'FAILED' {
  if (status === 'SUCCEEDED') return 'COMPLETED';
  if (status === 'FAILED' || status === 'TIMED_OUT' || status === 'ABORTED') return 'FAILED';
  // RUNNING, PENDING_REDRIVE (and anything new): not over yet.
  return 'RUNNING';
}

function client(setup: AwsSetup, attempts: number): SdkClient<unknown> {
  return new SFNClient(clientConfig(setup, attempts)) as unknown as SdkClient<unknown>;
}

function prepare(spec: StepFunctionsTriggerSpec, ctx: PlatformContext) {
  const arn = spec.stateMachineArn;
  return awsSetup(spec, ctx, DEFAULT_AWS_TIMEOUT_SECONDS, arnParts(arn)?.region);
}

/** The execution's input: the configured object, expanded, and Interlock's run key and window under `interlock`. */
function executionInput(spec: StepFunctionsTriggerSpec, ctx: TriggerContext, setup: AwsSetup): string {
  return JSON.stringify({
    ...(expandAws(spec.input ?? {}, setup) as Record<string, unknown>),
    interlock: runFields(ctx),
  });
}

async function describe(setup: AwsSetup, ctx: PlatformContext, arn: string) {
  return awsSend<unknown, DescribeExecutionOutput>(
    client(setup, IDEMPOTENT_ATTEMPTS),
    new DescribeExecutionCommand({ executionArn: arn }),
    setup,
    ctx,
    `DescribeExecution ${arn}`,
  );
}

/**
 * StartExecution named after the run key. Idempotent under that name and input, so the SDK may repeat it within the
 * timeout. ExecutionAlreadyExists (the execution of this key exists with other input, or has ended) is adopted.
 */
async function fire(spec: StepFunctionsTriggerSpec, ctx: TriggerContext): Promise<TriggerOutcome> {
  const start = performance.now();
  const outcome: TriggerOutcome = {
    type: 'stepfunctions',
    ok: false,
    async: true,
    durationMs: 0,
    method: 'StartExecution',
  };
  const done = (extra: Partial<TriggerOutcome>): TriggerOutcome => {
    Object.assign(outcome, extra);
    outcome.durationMs = performance.now() - start;
    return outcome;
  };
  const prepared = prepare(spec, ctx);
  if (!prepared.ok) return done({ error: prepared.error, requestSent: false, category: 'PERMANENT' });
  const setup = prepared.setup;
  const name = stepFunctionsExecutionName(ctx.runKey ?? ctx.runId);
  const r = await awsSend<unknown, StartExecutionOutput>(
    client(setup, IDEMPOTENT_ATTEMPTS),
    new StartExecutionCommand({ stateMachineArn: spec.stateMachineArn, name, input: executionInput(spec, ctx, setup) }),
    setup,
    ctx,
    `StartExecution ${name}`,
  );
  if (r.ok) {
    if (!r.out.executionArn)
      return done({ error: 'StartExecution answered without an executionArn', requestSent: true, category: 'UNKNOWN' });
    return done({ ok: true, httpStatus: 200, platformRunId: r.out.executionArn, platformState: 'RUNNING' });
  }
  if (r.name === 'ExecutionAlreadyExists') {
    const arn = executionArn(spec.stateMachineArn, name) as string;
    const found = await describe(setup, ctx, arn);
    return done({
      ok: true,
      adopted: true,
      httpStatus: r.httpStatus,
      platformRunId: found.ok && found.out.executionArn ? found.out.executionArn : arn,
      ...(found.ok && found.out.status ? { platformState: found.out.status } : {}),
    });
  }
  return done({
    error: r.error,
    requestSent: r.sent,
    category: startFailureCategory(r, true),
    ...(r.httpStatus !== undefined ? { httpStatus: r.httpStatus } : {}),
    ...(r.timedOut ? { timedOut: true } : {}),
  });
}

async function withSetup(
  spec: StepFunctionsTriggerSpec,
  ctx: PlatformContext,
  call: (setup: AwsSetup) => Promise<PlatformAnswer>,
): Promise<PlatformAnswer> {
  try {
    const prepared = prepare(spec, ctx);
    if (!prepared.ok) return { ok: false, error: prepared.error };
    return await call(prepared.setup);
  } catch (err) {
    return { ok: false, error: `internal error: ${errMessage(err)}` };
  }
}

/** DescribeExecution: its status. */
async function poll(spec: StepFunctionsTriggerSpec, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer> {
  return withSetup(spec, ctx, async (setup) => {
    const r = await describe(setup, ctx, job.id);
    if (!r.ok)
      return { ok: false, error: r.error, ...(r.httpStatus !== undefined ? { httpStatus: r.httpStatus } : {}) };
    const status = r.out.status;
    if (typeof status !== 'string')
      return { ok: false, error: `DescribeExecution ${job.id}: the answer has no status` };
    return { ok: true, state: status, status: stepFunctionsRunStatus(status) };
  });
}

/** StopExecution: the execution is ABORTED when it answers. */
async function cancel(spec: StepFunctionsTriggerSpec, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer> {
  return withSetup(spec, ctx, async (setup) => {
    const r = await awsSend<unknown, unknown>(
      client(setup, IDEMPOTENT_ATTEMPTS),
      new StopExecutionCommand({ executionArn: job.id, cause: `cancelled by Interlock (run ${ctx.runId})` }),
      setup,
      ctx,
      `StopExecution ${job.id}`,
    );
    if (!r.ok)
      return { ok: false, error: r.error, ...(r.httpStatus !== undefined ? { httpStatus: r.httpStatus } : {}) };
    return { ok: true, state: 'ABORTED', status: 'FAILED' };
  });
}

/** DescribeExecution of the run key's execution name: found (its ARN and status) or ExecutionDoesNotExist. */
async function find(spec: StepFunctionsTriggerSpec, runKey: string, ctx: FindContext): Promise<FindAnswer> {
  try {
    const prepared = prepare(spec, ctx);
    if (!prepared.ok) return { ok: false, error: prepared.error };
    const arn = executionArn(spec.stateMachineArn, stepFunctionsExecutionName(runKey));
    if (arn === undefined) return { ok: false, error: `not a state machine ARN: ${spec.stateMachineArn}` };
    const r = await describe(prepared.setup, ctx, arn);
    if (r.ok)
      return { ok: true, found: true, id: r.out.executionArn ?? arn, ...(r.out.status ? { state: r.out.status } : {}) };
    if (r.name === 'ExecutionDoesNotExist') return { ok: true, found: false };
    return { ok: false, error: r.error };
  } catch (err) {
    return { ok: false, error: `internal error: ${errMessage(err)}` };
  }
}

export const stepFunctionsTrigger: NativeTrigger<StepFunctionsTriggerSpec> = {
  fire,
  poll,
  cancel,
  find,
  pollSeconds: (spec) => spec.poll,
};
