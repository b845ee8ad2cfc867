// The HTTP client of the native triggers that speak JSON over HTTP (Airflow, Databricks): the base url and the
// credentials expanded from ${VAR}s, their secrets masked, the host checked once for untrusted pipelines, one request
// per call (never re-sent, never redirected), the answer parsed as JSON.
import { INTERLOCK_PROVIDED_VARS } from '../core/run-vars.js';
import { checkHost, type ResolvedAddress } from './address-guard.js';
import { errMessage, formatSeconds, type TriggerContext, timeoutMs, triggerEnv } from './context.js';
import { networkCause, type Reply, type SendState, send } from './http.js';
import type { PlatformAnswer, PlatformContext } from './native.js';
import { redact, redactCredentialParams, redactUrlUserinfo, secretForms } from './redact.js';
import { expandTemplate, isMissing, missingVarsMessage, templateVars } from './template.js';

const MAX_READ = 64 * 1024;

/** A call's failure: what to tell humans, and what is known of whether the platform received it. */
export interface CallError {
  error: string;
  sent: boolean;
  timedOut?: boolean;
  /** Nothing was sent because the trigger's definition cannot work (missing variable, bad url, refused host). */
  refused?: boolean;
}
export type CallResult = { ok: true; reply: Reply; json: unknown } | ({ ok: false } & CallError);

/** Every string in a JSON-ish value, in order (payload values may be ${VAR} templates). */
export function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v !== null && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

/** `v` with every string's ${VAR}s expanded. */
export function expandDeep(v: unknown, vars: NodeJS.ProcessEnv): unknown {
  if (typeof v === 'string') return expandTemplate(v, vars);
  if (Array.isArray(v)) return v.map((x) => expandDeep(x, vars));
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandDeep(x, vars)]));
  return v;
}

/** Variables referenced by `templates`, in order of first appearance. */
export function varsOf(templates: string[]): string[] {
  return [...new Set(templates.flatMap(templateVars))];
}

export function httpError(r: Reply): string {
  return `HTTP ${r.status}${r.statusText ? ` ${r.statusText}` : ''}`;
}

export interface ClientSpec {
  /** The base url template. */
  url: string;
  /** Seconds per call. */
  timeout?: number;
}

/** One trigger's calls to its platform. `prepare()` first; then `call()` as often as the protocol needs. */
export class PlatformClient {
  readonly secrets: string[] = [];
  readonly vars: NodeJS.ProcessEnv;
  private base?: URL;
  /** The url's path without its trailing slash ('' for a bare host). */
  private basePath = '';
  private readonly headers = new Headers();
  private pinned?: ResolvedAddress;
  private checked = false;

  constructor(
    private readonly clientSpec: ClientSpec,
    private readonly ctx: PlatformContext,
    private readonly defaultTimeoutSeconds: number,
  ) {
    this.vars = triggerEnv(ctx as TriggerContext);
  }

  /**
   * Expands the url and the credentials (`authorization(expand)` returns the Authorization header value, if any,
   * and any extra secret to mask); refuses (returns why) a missing variable or an unusable url before anything is
   * sent. `referenced` are the spec's ${VAR}s (their values are masked wherever they show).
   */
  prepare(
    referenced: string[],
    authorization: (expand: (t: string) => string) => { header?: string; secrets?: string[] },
  ): string | undefined {
    const missing = referenced.filter((n) => isMissing(this.vars, n));
    if (missing.length > 0) return missingVarsMessage(missing, this.vars);
    for (const name of referenced)
      if (!INTERLOCK_PROVIDED_VARS.includes(name)) this.secrets.push(...secretForms(this.vars[name] as string));
    let url: URL;
    try {
      url = new URL(expandTemplate(this.clientSpec.url, this.vars));
    } catch {
      return `invalid url ${this.shownUrl()}`;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return `unsupported url scheme ${url.protocol} in ${this.shownUrl()} (http: or https: only)`;
    if (url.username !== '' || url.password !== '')
      return `url ${this.shownUrl()} must not contain credentials (user:password@)`;
    this.base = url;
    this.basePath = url.pathname.replace(/\/+$/, '');
    const auth = authorization((t) => expandTemplate(t, this.vars));
    this.secrets.push(...(auth.secrets ?? []));
    try {
      if (auth.header !== undefined) this.headers.set('authorization', auth.header);
    } catch {
      return 'the credentials are not a valid HTTP header value after expansion (a newline in a variable?)';
    }
    this.headers.set('accept', 'application/json');
    this.headers.set('user-agent', 'interlock');
    this.headers.set('x-interlock-run-id', this.ctx.runId);
    this.headers.set('x-interlock-run-key', this.ctx.runKey ?? this.ctx.runId);
    return undefined;
  }

  /** The url as the run shows it: its template, credentials in it masked. */
  shownUrl(): string {
    return redactCredentialParams(redactUrlUserinfo(this.clientSpec.url));
  }

  clean(text: string): string {
    return redact(text, this.secrets);
  }

  /** One request to `<url><path>` (`path` may carry a query; never re-sent); JSON in and out. */
  async call(method: string, path: string, body?: unknown): Promise<CallResult> {
    const base = this.base as URL;
    const url = new URL(base.href);
    const [pathname, query] = path.split('?', 2) as [string, string | undefined];
    url.pathname = `${this.basePath}${pathname}`;
    url.search = query === undefined ? '' : `?${query}`;
    const limitMs = timeoutMs(this.clientSpec.timeout, this.defaultTimeoutSeconds);
    const timeout = AbortSignal.timeout(limitMs);
    const signal = this.ctx.signal ? AbortSignal.any([timeout, this.ctx.signal]) : timeout;
    if (this.ctx.addressPolicy && !this.checked) {
      const checked = await checkHost(url.hostname, this.ctx.addressPolicy);
      if (!checked.ok)
        return { ok: false, sent: false, refused: true, error: `refused before sending: ${checked.reason}` };
      this.pinned = checked.address;
      this.checked = true;
    }
    const headers = new Headers(this.headers);
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (text !== undefined) headers.set('content-type', 'application/json');
    const state: SendState = { sent: false };
    let reply: Reply;
    try {
      reply = await send(url, method, headers, text, signal, MAX_READ, state, this.pinned);
    } catch (err) {
      if (timeout.aborted)
        return { ok: false, sent: state.sent, timedOut: true, error: `no response within ${formatSeconds(limitMs)}` };
      if (signal.aborted)
        return {
          ok: false,
          sent: state.sent,
          error: 'aborted: Interlock stopped the request before a response arrived',
        };
      return { ok: false, sent: state.sent, error: `request failed: ${networkCause(err)}` };
    }
    let json: unknown;
    try {
      json = JSON.parse(reply.body.toString('utf8'));
    } catch {
      json = undefined;
    }
    return { ok: true, reply, json };
  }
}

/** A state call's failure as the runtime reads it (the status and the error, secrets masked). */
export function callFailure(client: PlatformClient, r: CallResult, what: string): PlatformAnswer | undefined {
  if (!r.ok) return { ok: false, error: client.clean(`${what}: ${r.error}`) };
  if (r.reply.status !== 200)
    return { ok: false, httpStatus: r.reply.status, error: client.clean(`${what}: ${httpError(r.reply)}`) };
  return undefined;
}

/**
 * A poll or cancel through a freshly started client: a refused start (a missing variable, a refused host) or anything
 * thrown becomes a failed answer, so a platform call never throws through the run's bookkeeping.
 */
export async function platformCall<C extends { start(): string | undefined }>(
  client: () => C,
  call: (client: C) => Promise<PlatformAnswer>,
): Promise<PlatformAnswer> {
  try {
    const c = client();
    const refused = c.start();
    if (refused !== undefined) return { ok: false, error: refused };
    return await call(c);
  } catch (err) {
    return { ok: false, error: `internal error: ${errMessage(err)}` };
  }
}
