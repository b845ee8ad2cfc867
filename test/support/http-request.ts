// One HTTP request with node:http on a fresh connection (no agent): any method, any header, chunked bodies; the
// answer's status, headers, text, parsed JSON body and round-trip time.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: response JSON is checked by the assertions, not by types.
  body: any;
  /** From sending the request to the last byte of the response (before any parsing), ms. */
  ms: number;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  /** Sent as is; with `chunked`, in pieces without a Content-Length. */
  body?: string | Buffer;
  chunked?: boolean;
  /** Fails the request when no answer came within this long (default: no limit). */
  timeoutMs?: number;
}

/** One HTTP request with node:http (any method, any header, chunked bodies), on a fresh connection. */
export function raw(base: string, r: RawRequest): Promise<Reply> {
  const u = new URL(base);
  const method = r.method ?? 'GET';
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    const headers: Record<string, string | number> = { ...r.headers };
    if (body && !r.chunked && headers['content-length'] === undefined) headers['content-length'] = body.length;
    const t0 = performance.now();
    const req = httpRequest({ host: u.hostname, port: u.port, method, path: r.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const ms = performance.now() - t0;
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed, ms });
      });
      res.on('error', reject);
    });
    const limit = r.timeoutMs;
    if (limit !== undefined) {
      req.setTimeout(limit, () => req.destroy(new Error(`${method} ${r.path}: no answer within ${limit} ms`)));
    }
    req.on('error', reject);
    if (body && r.chunked) {
      // Several writes so the body really streams in chunks.
      const step = Math.max(1, Math.ceil(body.length / 8));
      for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/**
 * JSON request helper: `api(url, 'POST', '/api/…', {…})`. Every request but GET/HEAD declares
 * `Content-Type: application/json`, as the server requires (with no body when `json` is undefined).
 */
export function api(base: string, method: string, path: string, json?: unknown, headers: Record<string, string> = {}) {
  const typed = json !== undefined || (method !== 'GET' && method !== 'HEAD');
  return raw(base, {
    method,
    path,
    headers: typed ? { 'content-type': 'application/json', ...headers } : headers,
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
}

/**
 * A bodiless request that fails after `timeoutMs` (default 30 s) without an answer. Every request but GET/HEAD
 * declares `Content-Type: application/json`, as the server requires.
 */
export function http(base: string, method: string, path: string, timeoutMs = 30_000): Promise<Reply> {
  const headers: Record<string, string> =
    method === 'GET' || method === 'HEAD' ? {} : { 'content-type': 'application/json' };
  return raw(base, { method, path, headers, timeoutMs });
}

/** Like `http`, but throws unless the status is `expect`. */
export async function httpOk(base: string, method: string, path: string, expect = 200): Promise<Reply> {
  const r = await http(base, method, path);
  if (r.status !== expect)
    throw new Error(`${method} ${path}: ${r.status} (expected ${expect}): ${r.text.slice(0, 500)}`);
  return r;
}
