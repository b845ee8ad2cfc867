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
}

/** Wait before retry `n` (1-based): 250 ms, 500 ms, 1 s, … capped at 10 s. */
export function webhookBackoffMs(n: number): number {
  return Math.min(250 * 2 ** (n - 1), 10_000);
}

/** How much of an error response's body goes into the failure message. */
const BODY_EXCERPT_BYTES = 200;

type Attempt = { ok: true } | { ok: false; retry: boolean; reason: string; status?: number };

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
  };

  constructor(o: WebhookSinkOptions) {
    this.name = `webhook ${originOf(o.url)}`;
    const { url, headers } = moveCredentials(o.url, o.headers ?? {});
    this.#o = {
      url,
      timeoutSeconds: o.timeoutSeconds,
      retries: o.retries,
      headers,
      fetchImpl: o.fetchImpl ?? fetch,
      sleep: o.sleep ?? ((ms, signal) => delay(ms, undefined, signal ? { signal } : {})),
    };
  }

  async send(alert: Alert, signal?: AbortSignal): Promise<void> {
    const body = alertJson(alert);
    const attempts = this.#o.retries + 1;
    for (let n = 1; ; n++) {
      if (signal?.aborted) throw abandoned(this.name, n - 1);
      const r = await this.#post(body, signal);
      if (r.ok) return;
      if (!r.retry || n >= attempts) {
        const message = r.retry
          ? `${this.name}: gave up after ${n} attempt${n === 1 ? '' : 's'}: ${r.reason}`
          : `${this.name}: ${r.reason} (not retried)`;
        throw new InterlockError('IO_ERROR', message, { sink: this.name, attempts: n, httpStatus: r.status });
      }
      await abortable(this.#o.sleep(webhookBackoffMs(n), signal), signal);
    }
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
      if (res.ok) {
        await res.body?.cancel().catch(() => {});
        return { ok: true };
      }
      const excerpt = await bodyExcerpt(res);
      const reason = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${excerpt ? `: ${excerpt}` : ''}`;
      const retry = res.status >= 500 || res.status === 408 || res.status === 429;
      return { ok: false, retry, reason, status: res.status };
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
