// HTTP triggers: expand ${VAR}s, send one request (never re-sent, never redirected), report status and an excerpt.
import { performance } from 'node:perf_hooks';
import type { HttpTriggerSpec, TriggerOutcome } from '../core/types.js';
import { errMessage, formatSeconds, PROVIDED_VARS, type TriggerContext, timeoutMs, triggerEnv } from './context.js';
import {
  firstBytes,
  redact,
  redactCredentialParams,
  redactUrlUserinfo,
  redactWhole,
  secretForms,
  secretHeaderValues,
  wholeHeaderSecrets,
} from './redact.js';
import { expandTemplate, isMissing, missingVarsMessage, templateVars } from './template.js';

export const DEFAULT_HTTP_TIMEOUT_SECONDS = 30;
/** How much of the response body an outcome keeps. */
export const BODY_EXCERPT_BYTES = 512;
/** How much of the response body is read at most; the rest is cancelled. */
export const MAX_BODY_READ_BYTES = 64 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Variables referenced in the url, header values and body, in order of first appearance. */
export function httpTriggerVars(spec: HttpTriggerSpec): string[] {
  const templates = [spec.url, ...Object.values(spec.headers ?? {}).map(String), spec.body ?? ''];
  return [...new Set(templates.flatMap(templateVars))];
}

/** The most specific reason fetch gives: the cause's code and message (ECONNREFUSED, ENOTFOUND, socket closed…). */
function networkCause(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  const one = (e: unknown): string => {
    if (!(e instanceof Error)) return e === undefined ? '' : String(e);
    const code = (e as NodeJS.ErrnoException).code;
    if (code && !e.message.includes(code)) return `${e.message} (${code})`;
    return e.message || code || e.name;
  };
  if (cause instanceof AggregateError && cause.errors.length > 0) return cause.errors.map(one).join('; ');
  return one(cause) || errMessage(err);
}

/** Reads at most `max` bytes of the body, then cancels it. A body cut short (reset, timeout) keeps what arrived. */
async function readBodyPrefix(res: Response, max: number): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    while (bytes < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytes += value.length;
    }
  } catch {
    // The excerpt is for humans; the status already decided the outcome.
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, max);
}

/** Sends an http trigger's request. Never throws; nothing is sent when a referenced variable is missing. */
export async function fireHttpTrigger(spec: HttpTriggerSpec, ctx: TriggerContext): Promise<TriggerOutcome> {
  const start = performance.now();
  const method = (spec.method ?? 'POST').trim().toUpperCase();
  const outcome: TriggerOutcome = {
    type: 'http',
    ok: false,
    async: false,
    durationMs: 0,
    method,
    // The template, not the expanded url: `${TOKEN}` stays a placeholder.
    url: redactCredentialParams(redactUrlUserinfo(spec.url)),
  };
  const secrets: string[] = [];
  // Secrets a header carries whole: masked as whole tokens even when shorter than redact's minimum.
  const whole: string[] = [];
  const clean = (text: string) => redactWhole(redact(text, secrets), whole);
  const finish = (error?: string, extra: Partial<TriggerOutcome> = {}): TriggerOutcome => {
    Object.assign(outcome, extra);
    if (error !== undefined) outcome.error = clean(error);
    outcome.durationMs = performance.now() - start;
    return outcome;
  };

  const vars = triggerEnv(ctx);
  const referenced = httpTriggerVars(spec);
  const missing = referenced.filter((n) => isMissing(vars, n));
  if (missing.length > 0) return finish(missingVarsMessage(missing, vars));
  for (const name of referenced) if (!PROVIDED_VARS.includes(name)) secrets.push(...secretForms(vars[name] as string));

  let url: URL;
  try {
    url = new URL(expandTemplate(spec.url, vars));
  } catch {
    return finish(`invalid url ${outcome.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return finish(`unsupported url scheme ${url.protocol} in ${outcome.url} (http: or https: only)`);
  if (url.username !== '' || url.password !== '')
    return finish(`url ${outcome.url} must not contain credentials (user:password@); send them in a header`);

  const headers = new Headers();
  for (const [name, template] of Object.entries(spec.headers ?? {})) {
    const value = expandTemplate(String(template), vars);
    secrets.push(...secretHeaderValues(name, value));
    whole.push(...wholeHeaderSecrets(name, String(template), value));
    try {
      headers.set(name, value);
    } catch {
      // The TypeError quotes the value: say which header instead.
      return finish(`header ${name} is not a valid HTTP header after expansion (a newline in a variable?)`);
    }
  }
  const body = spec.body === undefined ? undefined : expandTemplate(spec.body, vars);
  if (body !== undefined) {
    if (method === 'GET' || method === 'HEAD') return finish(`a ${method} request cannot have a body`);
    // Orchestrator APIs (Airflow, Databricks) take JSON and reject text/plain, fetch's default. A header the
    // user sets (any case) wins, e.g. the AWS JSON protocols' application/x-amz-json-1.x.
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  headers.set('x-interlock-run-id', ctx.runId);

  const limitMs = timeoutMs(spec.timeout, DEFAULT_HTTP_TIMEOUT_SECONDS);
  const timeout = AbortSignal.timeout(limitMs);
  const signal = ctx.signal ? AbortSignal.any([timeout, ctx.signal]) : timeout;

  let res: Response;
  try {
    res = await fetch(url, { method, headers, body, redirect: 'manual', signal });
  } catch (err) {
    if (signal.aborted) {
      if (timeout.aborted && signal.reason === timeout.reason)
        return finish(`no response within ${formatSeconds(limitMs)}`, { timedOut: true });
      return finish('aborted: Interlock stopped the request before a response arrived');
    }
    return finish(`request failed: ${networkCause(err)}`);
  }

  // Redact the whole prefix before cutting it: a secret straddling byte 512 must not leak its first half.
  const text = (await readBodyPrefix(res, MAX_BODY_READ_BYTES)).toString('utf8');
  const excerpt = firstBytes(clean(text), BODY_EXCERPT_BYTES);
  const extra: Partial<TriggerOutcome> = { httpStatus: res.status };
  if (excerpt !== '') extra.bodyExcerpt = excerpt;

  if (res.status >= 200 && res.status < 300)
    return finish(undefined, { ...extra, ok: true, async: spec.async ?? true });
  if (REDIRECT_STATUSES.has(res.status)) {
    const location = res.headers.get('location');
    return finish(`redirected (${res.status}) to ${location ?? '(no Location header)'}; not followed`, extra);
  }
  return finish(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, extra);
}
