// Lambda triggers: one synchronous Invoke (RequestResponse) is the whole job: its answer completes the run, a
// FunctionError fails it. Sent once (never re-sent: Lambda has no idempotency key), so an UNKNOWN outcome stays UNKNOWN.
import { performance } from 'node:perf_hooks';
import { type InvocationResponse, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { LambdaTriggerSpec, TriggerOutcome } from '../core/types.js';
import { awsSend, awsSetup, clientConfig, expandAws, runFields, type SdkClient, startFailureCategory } from './aws.js';
import type { TriggerContext } from './context.js';
import type { NativeTrigger, PlatformAnswer } from './native.js';

/** Seconds an Invoke may take when the trigger sets no `timeout`: Lambda's own longest run (15 minutes). */
export const DEFAULT_LAMBDA_TIMEOUT_SECONDS = 900;
const EXCERPT_BYTES = 512;

/** A full function ARN's region (the default region when the trigger names none). */
function arnRegion(fn: string): string | undefined {
  return /^arn:[^:]+:lambda:([^:]+):/.exec(fn)?.[1];
}

/**
 * Invoke, RequestResponse. 200 without FunctionError: COMPLETED; FunctionError (Unhandled, Handled): FAILED with
 * the function's error payload (masked). Throttling (429) is TRANSIENT; a 5xx or a lost answer after sending is
 * UNKNOWN (the function may have run) and is never retried.
 */
async function fire(spec: LambdaTriggerSpec, ctx: TriggerContext): Promise<TriggerOutcome> {
  const start = performance.now();
  const outcome: TriggerOutcome = { type: 'lambda', ok: false, async: false, durationMs: 0, method: 'Invoke' };
  const done = (extra: Partial<TriggerOutcome>): TriggerOutcome => {
    Object.assign(outcome, extra);
    outcome.durationMs = performance.now() - start;
    return outcome;
  };
  const prepared = awsSetup(spec, ctx, DEFAULT_LAMBDA_TIMEOUT_SECONDS, arnRegion(spec.function));
  if (!prepared.ok) return done({ error: prepared.error, requestSent: false, category: 'PERMANENT' });
  const setup = prepared.setup;
  const fn = expandAws(spec.function, setup) as string;
  const r = await awsSend<unknown, InvocationResponse>(
    new LambdaClient(clientConfig(setup, 1)) as unknown as SdkClient<unknown>,
    new InvokeCommand({
      FunctionName: fn,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(
        JSON.stringify({
          ...(expandAws(spec.payload ?? {}, setup) as Record<string, unknown>),
          interlock: runFields(ctx),
        }),
      ),
    }),
    setup,
    ctx,
    `Invoke ${fn}`,
  );
  if (!r.ok)
    return done({
      error: r.error,
      requestSent: r.sent,
      category: startFailureCategory(r, false),
      ...(r.httpStatus !== undefined ? { httpStatus: r.httpStatus } : {}),
      ...(r.timedOut ? { timedOut: true } : {}),
    });
  const payload = r.out.Payload ? Buffer.from(r.out.Payload).subarray(0, EXCERPT_BYTES).toString('utf8') : '';
  const extra: Partial<TriggerOutcome> = {
    httpStatus: r.out.StatusCode ?? 200,
    ...(payload ? { bodyExcerpt: setup.clean(payload) } : {}),
    ...(r.requestId ? { platformRunId: r.requestId } : {}),
    ...(r.out.ExecutedVersion ? { platformState: `version ${r.out.ExecutedVersion}` } : {}),
  };
  if (r.out.FunctionError)
    return done({
      ...extra,
      error: setup.clean(`the function failed (FunctionError: ${r.out.FunctionError})${payload ? `: ${payload}` : ''}`),
      requestSent: true,
      category: 'PERMANENT',
    });
  return done({ ...extra, ok: true });
}

const synchronous = async (): Promise<PlatformAnswer> => ({
  ok: false,
  error: 'a Lambda invocation is synchronous: its answer ended the run, there is no job to poll or stop',
});

export const lambdaTrigger: NativeTrigger<LambdaTriggerSpec> = {
  fire,
  poll: synchronous,
  cancel: synchronous,
  pollSeconds: () => undefined,
};
