// HTTP triggers: expand ${VAR}s, send one request (never re-sent, never redirected), report status and an excerpt.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { INTERLOCK_PROVIDED_VARS } from '../core/run-vars.js';
import type { HttpTriggerSpec, TriggerOutcome } from '../core/types.js';
import { checkHost, type ResolvedAddress } from './address-guard.js';
import { errMessage, formatSeconds, providedVars, type TriggerContext, timeoutMs, triggerEnv } from './context.js';
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

/** The most specific reason a request failed: the error's code and message (ECONNREFUSED, ENOTFOUND, reset…). */
export function networkCause(err: unknown): string {
  const one = (e: unknown): string => {
    if (!(e instanceof Error)) return e === undefined ? '' : String(e);
    const code = (e as NodeJS.ErrnoException).code;
    if (code && !e.message.includes(code)) return `${e.message} (${code})`;
    return e.message || code || e.name;
  };
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(one).join('; ');
  return one(err) || errMessage(err);
}

export interface Reply {
  status: number;
  statusText: string;
  location: string | undefined;
  /** At most `max` bytes; a body cut short (reset, timeout) keeps what arrived. */
  body: Buffer;
}

/** A `lookup` that answers every query with the one checked address: the connection cannot go anywhere else. */
function pinnedLookup(a: ResolvedAddress): LookupFunction {
  return ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (opts?.all) cb(null, [{ address: a.address, family: a.family }]);
    else cb(null, a.address, a.family);
  }) as unknown as LookupFunction;
}

/** Whether any byte of the request may have reached the target: set once its connection is up. */
export interface SendState {
  sent: boolean;
}

/**
 * One request with node:http(s) (never redirected, never re-sent). With `pinned`, the socket connects to that
 * address while the Host header and TLS servername (SNI, certificate check) stay the URL's host. Rejects before
 * a response (network error, `signal`); once the status line arrived, an aborted body read keeps what came.
 * `state.sent` turns true when the connection (TLS included) is established: node writes the request at once, so
 * from then on a failure cannot tell whether the target received it (fail closed: it may have).
 */
export function send(
  url: URL,
  method: string,
  headers: Headers,
  body: string | undefined,
  signal: AbortSignal,
  max: number,
  state: SendState,
  pinned?: ResolvedAddress,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const opts: RequestOptions & { servername?: string } = {
      method,
      host,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: Object.fromEntries(headers.entries()),
      agent: false,
      signal,
    };
    if (pinned) {
      opts.lookup = pinnedLookup(pinned);
      // SNI and the certificate check use the URL's name (an IP literal sends no SNI).
      if (url.protocol === 'https:' && isIP(host) === 0) opts.servername = host;
    }
    if (body !== undefined)
      (opts.headers as Record<string, string>)['content-length'] = String(Buffer.byteLength(body));
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(opts, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        res.destroy();
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          location: typeof res.headers.location === 'string' ? res.headers.location : undefined,
          body: Buffer.concat(chunks).subarray(0, max),
        });
      };
      res.on('data', (d: Buffer) => {
        chunks.push(d);
        bytes += d.length;
        if (bytes >= max) finish();
      });
      // The excerpt is for humans; the status already decided the outcome.
      res.on('end', finish);
      res.on('error', finish);
      res.on('close', finish);
      signal.addEventListener('abort', finish, { once: true });
    });
    req.on('socket', (socket) => {
      const up = () => {
        state.sent = true;
      };
      // A reused or already connected socket (not with agent: false, but never assume): it is up now.
      if (!socket.connecting && socket.readyState === 'open') up();
      else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', up);
    });
    req.on('error', reject);
    req.end(body);
  });
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
  // Nothing has been sent until send() connects; every failure says whether the request went out.
  const state: SendState = { sent: false };
  const finish = (error?: string, extra: Partial<TriggerOutcome> = {}): TriggerOutcome => {
    Object.assign(outcome, extra);
    if (error !== undefined) {
      outcome.error = clean(error);
      outcome.requestSent = state.sent;
    }
    outcome.durationMs = performance.now() - start;
    return outcome;
  };
  /** A failure of the trigger's own definition (bad url, missing variable): sending again would not help. */
  const refuse = (error: string): TriggerOutcome => finish(error, { category: 'PERMANENT' });

  const vars = triggerEnv(ctx);
  const referenced = httpTriggerVars(spec);
  const missing = referenced.filter((n) => isMissing(vars, n));
  if (missing.length > 0) return refuse(missingVarsMessage(missing, vars));
  for (const name of referenced)
    if (!INTERLOCK_PROVIDED_VARS.includes(name)) secrets.push(...secretForms(vars[name] as string));
  // Interlock's own values (run id and key, window) are identifiers: never masked, even in a one-variable header.
  const own = new Set(Object.values(providedVars(ctx)).flatMap(secretForms));

  let url: URL;
  try {
    url = new URL(expandTemplate(spec.url, vars));
  } catch {
    return refuse(`invalid url ${outcome.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return refuse(`unsupported url scheme ${url.protocol} in ${outcome.url} (http: or https: only)`);
  if (url.username !== '' || url.password !== '')
    return refuse(`url ${outcome.url} must not contain credentials (user:password@); send them in a header`);

  const headers = new Headers();
  for (const [name, template] of Object.entries(spec.headers ?? {})) {
    const value = expandTemplate(String(template), vars);
    secrets.push(...secretHeaderValues(name, value));
    whole.push(...wholeHeaderSecrets(name, String(template), value).filter((v) => !own.has(v)));
    try {
      headers.set(name, value);
    } catch {
      // The TypeError quotes the value: say which header instead.
      return refuse(`header ${name} is not a valid HTTP header after expansion (a newline in a variable?)`);
    }
  }
  const body = spec.body === undefined ? undefined : expandTemplate(spec.body, vars);
  if (body !== undefined) {
    if (method === 'GET' || method === 'HEAD') return refuse(`a ${method} request cannot have a body`);
    // Orchestrator APIs (Airflow, Databricks) take JSON and reject text/plain, fetch's default. A header the
    // user sets (any case) wins, e.g. the AWS JSON protocols' application/x-amz-json-1.x.
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  headers.set('x-interlock-run-id', ctx.runId);
  // The key a platform deduplicates on: one window attempt's runs share it across replicas and restarts.
  headers.set('x-interlock-run-key', ctx.runKey ?? ctx.runId);
  // node:http sends no defaults (fetch used to send these); some APIs refuse a request without a User-Agent.
  if (!headers.has('user-agent')) headers.set('user-agent', 'interlock');
  if (!headers.has('accept')) headers.set('accept', '*/*');

  const limitMs = timeoutMs(spec.timeout, DEFAULT_HTTP_TIMEOUT_SECONDS);
  const timeout = AbortSignal.timeout(limitMs);
  const signal = ctx.signal ? AbortSignal.any([timeout, ctx.signal]) : timeout;

  // Untrusted (registered over HTTP): resolve once, check every address, connect to the checked one.
  let pinned: ResolvedAddress | undefined;
  if (ctx.addressPolicy) {
    // The trigger's timeout and ctx.signal bound the lookup too.
    const stopped = new Promise<undefined>((resolve) => {
      if (signal.aborted) resolve(undefined);
      signal.addEventListener('abort', () => resolve(undefined), { once: true });
    });
    const checked = await Promise.race([checkHost(url.hostname, ctx.addressPolicy), stopped]);
    if (checked === undefined) {
      if (timeout.aborted) return finish(`no response within ${formatSeconds(limitMs)}`, { timedOut: true });
      return finish('aborted: Interlock stopped the request before a response arrived');
    }
    if (!checked.ok) return refuse(`refused before sending: ${checked.reason}`);
    pinned = checked.address;
  }

  let res: Reply;
  try {
    res = await send(url, method, headers, body, signal, MAX_BODY_READ_BYTES, state, pinned);
  } catch (err) {
    const after = state.sent ? '; the request was sent, so the target may have started the job' : '';
    if (signal.aborted) {
      if (timeout.aborted && signal.reason === timeout.reason)
        return finish(`no response within ${formatSeconds(limitMs)}${after}`, { timedOut: true });
      return finish(`aborted: Interlock stopped the request before a response arrived${after}`);
    }
    return finish(`request failed: ${networkCause(err)}${after}`);
  }
  // A response came: the request was received, whatever its status says.
  state.sent = true;

  // Redact the whole prefix before cutting it: a secret straddling byte 512 must not leak its first half.
  const text = res.body.toString('utf8');
  const excerpt = firstBytes(clean(text), BODY_EXCERPT_BYTES);
  const extra: Partial<TriggerOutcome> = { httpStatus: res.status };
  if (excerpt !== '') extra.bodyExcerpt = excerpt;

  if (res.status >= 200 && res.status < 300)
    return finish(undefined, { ...extra, ok: true, async: spec.async ?? true });
  if (REDIRECT_STATUSES.has(res.status)) {
    const location = res.location;
    return finish(`redirected (${res.status}) to ${location ?? '(no Location header)'}; not followed`, extra);
  }
  return finish(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, extra);
}
