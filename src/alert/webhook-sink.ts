// The webhook sink: POST the alert payload as JSON, with a per-attempt timeout and bounded exponential backoff.
import { setTimeout as delay } from 'node:timers/promises';
import { InterlockError } from '../core/errors.js';
import type { Alert } from '../core/types.js';
import { alertJson } from './alert.js';
import type { AlertSink } from './sink-port.js';

export interface WebhookSinkOptions {
  url: string;
  /** Seconds per attempt, response body included. */
  timeoutSeconds: number;
  /** Retries after the first attempt; 0 = one attempt only. */
  retries: number;
  /** Sent after (so may override) Content-Type and User-Agent. */
  headers?: Record<string, string>;
  fetchImpl?: typeof fetch | undefined;
  /** The wait between attempts; `signal` ends it early (the default is a real, abortable timer). */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** The sink's name (default `webhook <origin>`); must hold no secret. */
  name?: string;
  /** The request bodies one alert becomes, sent in order (default: the alert payload, one body). */
  bodies?: (alert: Alert) => string[];
  /** Whether a 2xx status counts as delivered (default: every 2xx). A 2xx refused here fails, not retried. */
  accept?: (status: number) => boolean;
  /** Values masked as *** in every failure message (a secret URL, a routing key). */
  secrets?: string[];
}

/** Wait before retry `n` (1-based): 250 ms, 500 ms, 1 s, … capped at 10 s. */
export function webhookBackoffMs(n: number): number {
  return Math.min(250 * 2 ** (n - 1), 10_000);
}

/** The longest Retry-After a sink waits (the dispatcher's budget usually cuts it shorter). */
export const MAX_RETRY_AFTER_MS = 60_000;

/** A Retry-After header (delay-seconds or an HTTP date) in ms, or undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(at - now, 0), MAX_RETRY_AFTER_MS);
}

/** How much of an error response's body goes into the failure message. */
const BODY_EXCERPT_BYTES = 200;

type Attempt = { ok: true } | { ok: false; retry: boolean; reason: string; status?: number; waitMs?: number };

/**
 * POSTs alertPayload JSON. Retries network errors, timeouts, 5xx, 408 and 429 (the two 4xx that mean "try later");
 * any other status (4xx, or a 3xx: redirects are not followed, since following would turn the POST into a GET) fails
 * at once. After `retries` retries it rejects with IO_ERROR. The name shows only the URL's origin: webhook paths
 * often carry a secret token (Slack, Teams).
 */
export class WebhookSink implements AlertSink {
  readonly name: string;
  readonly #o: Required<Pick<WebhookSinkOptions, 'url' | 'timeoutSeconds' | 'retries'>> & {
    headers: Record<string, string>;
    fetchImpl: typeof fetch;
    sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
    bodies: (alert: Alert) => string[];
    accept: (status: number) => boolean;
    secrets: string[];
  };

  constructor(o: WebhookSinkOptions) {
    this.name = o.name ?? `webhook ${originOf(o.url)}`;
    const { url, headers } = moveCredentials(o.url, o.headers ?? {});
    this.#o = {
      url,
      timeoutSeconds: o.timeoutSeconds,
      retries: o.retries,
      headers,
      fetchImpl: o.fetchImpl ?? fetch,
      sleep: o.sleep ?? ((ms, signal) => delay(ms, undefined, signal ? { signal } : {})),
      bodies: o.bodies ?? ((alert) => [alertJson(alert)]),
      accept: o.accept ?? (() => true),
      secrets: (o.secrets ?? []).filter((x) => x.length >= 4),
    };
  }

  async send(alert: Alert, signal?: AbortSignal): Promise<void> {
    for (const body of this.#o.bodies(alert)) await this.#sendOne(body, signal);
  }

  async #sendOne(body: string, signal?: AbortSignal): Promise<void> {
    const attempts = this.#o.retries + 1;
    for (let n = 1; ; n++) {
      if (signal?.aborted) throw abandoned(this.name, n - 1);
      const r = await this.#post(body, signal);
      if (r.ok) return;
      if (!r.retry || n >= attempts) {
        const reason = this.#mask(r.reason);
        const message = r.retry
          ? `${this.name}: gave up after ${n} attempt${n === 1 ? '' : 's'}: ${reason}`
          : `${this.name}: ${reason} (not retried)`;
        throw new InterlockError('IO_ERROR', message, { sink: this.name, attempts: n, httpStatus: r.status });
      }
      // A 429's Retry-After says when the service takes requests again; earlier retries would only be refused.
      const wait = Math.max(webhookBackoffMs(n), r.waitMs ?? 0);
      await abortable(this.#o.sleep(wait, signal), signal);
    }
  }

  #mask(text: string): string {
    let out = text;
    for (const secret of [...this.#o.secrets].sort((a, b) => b.length - a.length)) {
      for (const form of [secret, encodeURIComponent(secret)]) out = out.split(form).join('***');
    }
    return out;
  }

  async #post(body: string, abandon?: AbortSignal): Promise<Attempt> {
    const { url, timeoutSeconds, fetchImpl } = this.#o;
    const headers = new Headers({ 'content-type': 'application/json', 'user-agent': 'interlock-alert' });
    for (const [k, v] of Object.entries(this.#o.headers)) headers.set(k, v);
    // One signal per attempt: it bounds the connect, the response headers and the body we read. The dispatcher's
    // signal cuts it short when the alert budget runs out.
    const timeout = AbortSignal.timeout(timeoutSeconds * 1000);
    const signal = abandon ? AbortSignal.any([timeout, abandon]) : timeout;
    try {
      const res = await fetchImpl(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
      if (res.ok && this.#o.accept(res.status)) {
        await res.body?.cancel().catch(() => {});
        return { ok: true };
      }
      const excerpt = await bodyExcerpt(res);
      const reason = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${excerpt ? `: ${excerpt}` : ''}`;
      if (res.ok) return { ok: false, retry: false, reason: `unexpected ${reason}`, status: res.status };
      const retry = res.status >= 500 || res.status === 408 || res.status === 429;
      const waitMs =
        res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get('retry-after')) : undefined;
      return { ok: false, retry, reason, status: res.status, ...(waitMs !== undefined ? { waitMs } : {}) };
    } catch (err) {
      // Some fetch errors quote the URL; its path may be a secret.
      if (abandon?.aborted) return { ok: false, retry: false, reason: 'abandoned (alert budget spent)' };
      const reason = failureReason(err, timeout, timeoutSeconds).split(url).join(originOf(url));
      return { ok: false, retry: true, reason };
    }
  }
}

function abandoned(name: string, attempts: number): InterlockError {
  return new InterlockError(
    'IO_ERROR',
    `${name}: abandoned after ${attempts} attempt${attempts === 1 ? '' : 's'} (alert budget spent)`,
    {
      sink: name,
      attempts,
    },
  );
}

/** `p`, or a rejection as soon as `signal` aborts (the wait itself is left to finish on its own). */
function abortable(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** The first BODY_EXCERPT_BYTES of a response body on one line; '' when there is none or it cannot be read. */
async function bodyExcerpt(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < BODY_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body that stalls or breaks adds nothing to the status line.
  } finally {
    reader.cancel().catch(() => {});
  }
  const text = Buffer.concat(chunks).subarray(0, BODY_EXCERPT_BYTES).toString('utf8');
  return text.replace(/\s+/g, ' ').trim();
}

function failureReason(err: unknown, signal: AbortSignal, timeoutSeconds: number): string {
  if (signal.aborted || (err instanceof Error && err.name === 'TimeoutError'))
    return `timed out after ${timeoutSeconds}s`;
  // fetch says only "fetch failed"; the cause has the errno (ECONNREFUSED, ENOTFOUND, ECONNRESET…).
  const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  if (cause?.code) return `connection failed: ${cause.code}`;
  if (cause?.message) return `connection failed: ${cause.message}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * fetch refuses a URL with user:password in it (and its error quotes the URL, password included): send them as
 * Basic auth instead, unless an Authorization header is configured.
 */
function moveCredentials(
  raw: string,
  headers: Record<string, string>,
): { url: string; headers: Record<string, string> } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { url: raw, headers };
  }
  if (!u.username && !u.password) return { url: raw, headers };
  const basic = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  u.username = '';
  u.password = '';
  const hasAuth = Object.keys(headers).some((k) => k.toLowerCase() === 'authorization');
  const auth: Record<string, string> = hasAuth
    ? {}
    : { authorization: `Basic ${Buffer.from(basic).toString('base64')}` };
  return { url: u.href, headers: { ...auth, ...headers } };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}
