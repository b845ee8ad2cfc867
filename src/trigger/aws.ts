// What the AWS triggers (Glue, Step Functions, Lambda) share: the SDK v3 client's configuration (region, profile,
// endpoint override, credentials from the standard chain), ${VAR} expansion with secrets masked, one call bounded by
// the trigger `timeout` (the SDK's retries included), and what a failed call means (sent or not, the service's answer).
// Only types come from the SDK here: the clients are imported by glue.ts, stepfunctions.ts and lambda.ts, which the
// registry loads on first use.
import type { AwsCredentialIdentity } from '@smithy/types';
import type { FAILURE_CATEGORIES } from '../core/lists.js';
import { INTERLOCK_PROVIDED_VARS, windowVars } from '../core/run-vars.js';
import type { AwsTriggerSpec } from '../core/types.js';
import { errMessage, formatSeconds, type TriggerContext, timeoutMs, triggerEnv } from './context.js';
import type { PlatformContext } from './native.js';
import { expandDeep, strings, varsOf } from './platform-client.js';
import { redact, secretForms } from './redact.js';
import { expandTemplate, isMissing, missingVarsMessage } from './template.js';

type FailureCategory = (typeof FAILURE_CATEGORIES)[number];

/** Seconds per AWS call (Glue, Step Functions) when the trigger sets no `timeout`. */
export const DEFAULT_AWS_TIMEOUT_SECONDS = 30;
/** SDK attempts of a call that is safe to repeat (reads; StartExecution under its name). */
export const IDEMPOTENT_ATTEMPTS = 3;

/** Errors that mean nothing reached the service (the connection was never made). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Service error names that mean "slow down, try later": the request was refused before anything started. */
const THROTTLED = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'Throttling',
  'ServiceQuotaExceededException',
]);

/** The SDK client configuration of one trigger call, and how to mask what it must never show. */
export interface AwsSetup {
  region?: string;
  endpoint?: string;
  profile?: string;
  credentials?: AwsCredentialIdentity;
  /** The trigger's env with Interlock's variables (for ${VAR} expansion). */
  vars: NodeJS.ProcessEnv;
  secrets: string[];
  timeoutMs: number;
  clean(text: string): string;
}

/** Every template of an AWS spec (names, ARNs, arguments, input, payload, endpoint): their ${VAR}s are expanded. */
export function awsTriggerVars(spec: AwsTriggerSpec): string[] {
  const { type: _type, ...rest } = spec;
  return varsOf(strings(rest));
}

/**
 * Prepares a call: refuses (returns why) a pipeline registered over HTTP (it would act with this server's AWS
 * identity), a missing ${VAR}, a bad endpoint. Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and
 * AWS_SESSION_TOKEN) of the trigger's env when set; otherwise the SDK's standard chain (shared files with `profile`,
 * web identity, container and instance metadata). Their values are masked in every error.
 */
export function awsSetup(
  spec: AwsTriggerSpec,
  ctx: PlatformContext,
  defaultTimeoutSeconds: number,
  defaultRegion?: string,
): { ok: true; setup: AwsSetup } | { ok: false; error: string } {
  if (ctx.addressPolicy)
    return {
      ok: false,
      error: `a ${spec.type} trigger acts with this server's AWS credentials: it is refused for pipelines registered over HTTP`,
    };
  const vars = triggerEnv(ctx as TriggerContext);
  const referenced = awsTriggerVars(spec);
  const missing = referenced.filter((n) => isMissing(vars, n));
  if (missing.length > 0) return { ok: false, error: missingVarsMessage(missing, vars) };
  const secrets: string[] = [];
  for (const name of referenced)
    if (!INTERLOCK_PROVIDED_VARS.includes(name)) secrets.push(...secretForms(vars[name] as string));
  const env = ctx.env;
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'])
    if (env[name]) secrets.push(...secretForms(env[name] as string));
  const clean = (text: string) => redact(text, secrets);
  let endpoint: string | undefined;
  if (spec.endpoint !== undefined) {
    endpoint = expandTemplate(spec.endpoint, vars);
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return { ok: false, error: clean(`invalid endpoint ${spec.endpoint}`) };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return { ok: false, error: `unsupported endpoint scheme ${url.protocol} (http: or https: only)` };
    if (url.username !== '' || url.password !== '')
      return { ok: false, error: 'the endpoint must not contain credentials (user:password@)' };
  }
  const region =
    (spec.region !== undefined ? expandTemplate(spec.region, vars) : undefined) ??
    defaultRegion ??
    (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && spec.profile === undefined
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  return {
    ok: true,
    setup: {
      ...(region ? { region } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(spec.profile !== undefined ? { profile: spec.profile } : {}),
      ...(credentials ? { credentials } : {}),
      vars,
      secrets,
      timeoutMs: timeoutMs(spec.timeout, defaultTimeoutSeconds),
      clean,
    },
  };
}

/** What Interlock adds to an execution's input or a function's event under `interlock`: the run, its key, its window. */
export function runFields(ctx: TriggerContext): Record<string, string> {
  const own: Record<string, string> = { run_id: ctx.runId, run_key: ctx.runKey ?? ctx.runId, pipeline: ctx.pipeline };
  for (const [k, v] of Object.entries(windowVars(ctx.window)))
    if (v !== undefined) own[k.replace(/^INTERLOCK_/, '').toLowerCase()] = v;
  return own;
}

/** `v` with its ${VAR}s expanded. */
export function expandAws(v: unknown, setup: AwsSetup): unknown {
  return expandDeep(v, setup.vars);
}

/** The client configuration every AWS SDK v3 client takes. */
export function clientConfig(setup: AwsSetup, maxAttempts: number) {
  // The pinned SDK supports Node 20; its notice about releases after January 2027 is not this process's concern.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    ...(setup.region ? { region: setup.region } : {}),
    ...(setup.endpoint ? { endpoint: setup.endpoint } : {}),
    ...(setup.profile ? { profile: setup.profile } : {}),
    ...(setup.credentials ? { credentials: setup.credentials } : {}),
    maxAttempts,
    requestHandler: { connectionTimeout: setup.timeoutMs, requestTimeout: setup.timeoutMs },
  };
}

/** A failed AWS call: what is known of whether the service received it, and its answer if it gave one. */
export interface AwsFailure {
  ok: false;
  error: string;
  sent: boolean;
  timedOut?: boolean;
  /** The service answered with this status (an error response). */
  httpStatus?: number;
  /** The service's error name (ExecutionAlreadyExists, EntityNotFoundException, …). */
  name?: string;
  /** The SDK refused before sending (no region, no credentials). */
  refused?: boolean;
}

export type AwsResult<T> = { ok: true; out: T; requestId?: string } | AwsFailure;

/** The smallest shape of an SDK v3 client this module drives. */
export interface SdkClient<C> {
  send(command: C, options: { abortSignal: AbortSignal }): Promise<unknown>;
  middlewareStack: {
    add(
      mw: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      opts: { step: 'finalizeRequest'; priority: 'low'; name: string },
    ): void;
  };
  destroy(): void;
}

/**
 * Sends one command, bounded by the trigger's timeout (the SDK's retries and backoff within it) and the run's abort
 * signal. Never throws: a failure says whether the request left this process (then the service may have acted).
 */
export async function awsSend<C, T>(
  client: SdkClient<C>,
  command: C,
  setup: AwsSetup,
  ctx: PlatformContext,
  what: string,
): Promise<AwsResult<T>> {
  const timeout = AbortSignal.timeout(setup.timeoutMs);
  const signal = ctx.signal ? AbortSignal.any([timeout, ctx.signal]) : timeout;
  const state = { sent: false };
  client.middlewareStack.add(
    (next) => async (args) => {
      // Signed and about to go to the HTTP handler: from here on the service may receive it.
      state.sent = true;
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'interlockRequestSent' },
  );
  try {
    const out = (await client.send(command, { abortSignal: signal })) as T & { $metadata?: { requestId?: string } };
    const requestId = out?.$metadata?.requestId;
    return { ok: true, out, ...(requestId ? { requestId } : {}) };
  } catch (err) {
    const e = err as {
      name?: string;
      code?: string;
      $metadata?: { httpStatusCode?: number };
      $response?: unknown;
      cause?: { code?: string };
    };
    if (timeout.aborted)
      return {
        ok: false,
        sent: state.sent,
        timedOut: true,
        error: setup.clean(`${what}: no answer within ${formatSeconds(setup.timeoutMs)}`),
      };
    if (signal.aborted)
      return {
        ok: false,
        sent: state.sent,
        error: setup.clean(`${what}: aborted: Interlock stopped the request before an answer arrived`),
      };
    const status = e.$metadata?.httpStatusCode;
    if (status !== undefined && e.$response !== undefined)
      return {
        ok: false,
        sent: true,
        httpStatus: status,
        ...(e.name ? { name: e.name } : {}),
        error: setup.clean(`${what}: ${e.name ?? 'error'} (HTTP ${status}): ${errMessage(err)}`),
      };
    const code = e.code ?? e.cause?.code;
    if (!state.sent)
      return {
        ok: false,
        sent: false,
        refused: true,
        error: setup.clean(`${what}: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${errMessage(err)}`),
      };
    return {
      ok: false,
      sent: code === undefined || !NOT_SENT_CODES.has(code),
      error: setup.clean(`${what}: request failed: ${code ? `${code} ` : ''}${errMessage(err)}`),
    };
  } finally {
    client.destroy();
  }
}

/**
 * The category of a failed start call. `repeatable`: the start is idempotent under its key, so a service error
 * (5xx) means it may be asked again; otherwise (Glue, Lambda) a 5xx after sending may have started the job: UNKNOWN,
 * reconciled by the run key where the platform can be asked.
 */
export function startFailureCategory(f: AwsFailure, repeatable: boolean): FailureCategory {
  if (f.refused) return 'PERMANENT';
  if (f.httpStatus !== undefined) {
    if (f.httpStatus === 429 || (f.name !== undefined && THROTTLED.has(f.name))) return 'TRANSIENT';
    if (f.httpStatus >= 500) return repeatable ? 'TRANSIENT' : 'UNKNOWN';
    return 'PERMANENT';
  }
  if (!f.sent) return f.timedOut ? 'TIMEOUT' : 'TRANSIENT';
  return 'UNKNOWN';
}
