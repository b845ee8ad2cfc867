// builtin:http — one GET (never redirected): the status is expected, and optionally a JSON value at a path equals one.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type HttpConfig, httpConfigSchema } from '../../core/builtin-config.js';
import { type Builtin, errMessage, failed, pass } from './types.js';

/** At most this much of the body is read (a JSON health answer is small; the rest is not waited for). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A `lookup` that answers every query with the one checked address: the connection cannot go anywhere else. */
function pinnedLookup(a: { address: string; family: 4 | 6 }): LookupFunction {
  return ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (opts?.all) cb(null, [{ address: a.address, family: a.family }]);
    else cb(null, a.address, a.family);
  }) as unknown as LookupFunction;
}

function get(
  url: URL,
  signal: AbortSignal,
  pinned?: { address: string; family: 4 | 6 },
): Promise<{ status: number; body: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const opts: RequestOptions & { servername?: string } = {
      method: 'GET',
      host,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: { accept: 'application/json, */*' },
      agent: false,
      signal,
    };
    if (url.username || url.password)
      opts.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    if (pinned) {
      opts.lookup = pinnedLookup(pinned);
      if (url.protocol === 'https:' && isIP(host) === 0) opts.servername = host;
    }
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(opts, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      let truncated = false;
      res.on('data', (d: Buffer) => {
        chunks.push(d);
        bytes += d.length;
        if (bytes > MAX_BODY_BYTES) {
          truncated = true;
          res.destroy();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), truncated }));
      res.on('close', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), truncated }));
      res.on('error', (err) => (truncated ? undefined : reject(err)));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value at a `$.a.b[0]` path, or `found: false`. */
export function atJsonPath(doc: unknown, path: string): { found: true; value: unknown } | { found: false } {
  let cur: unknown = doc;
  for (const m of path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/g)) {
    if (m[1] !== undefined) {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, m[1]))
        return { found: false };
      cur = (cur as Record<string, unknown>)[m[1]];
    } else {
      const i = Number(m[2]);
      if (!Array.isArray(cur) || i >= cur.length) return { found: false };
      cur = cur[i];
    }
  }
  return { found: true, value: cur };
}

/** The URL without userinfo, for values and reasons. */
function shownUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  return u.href;
}

export const httpBuiltin: Builtin<HttpConfig> = {
  schema: httpConfigSchema,
  async run(c, ctx) {
    let url: URL;
    try {
      url = new URL(c.url);
    } catch {
      return failed('EVALUATOR_ERROR', `not a valid URL: ${c.url}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return failed('EVALUATOR_ERROR', `expected an http(s) URL, got ${url.protocol}`);
    const shown = shownUrl(url);
    let pinned: { address: string; family: 4 | 6 } | undefined;
    if (ctx.guardHost) {
      const g = await ctx.guardHost(url.hostname);
      if (!g.ok) return failed('EVALUATOR_FORBIDDEN', `${g.reason} (pipeline registered over HTTP)`, { url: shown });
      pinned = g.address;
    }
    const timeoutMs = Math.min(ctx.timeoutMs, (c.timeout ?? Number.POSITIVE_INFINITY) * 1000);
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
    const started = performance.now();
    let reply: Awaited<ReturnType<typeof get>>;
    try {
      reply = await get(url, signal, pinned);
    } catch (err) {
      if (signal.aborted && !ctx.signal.aborted)
        return failed('EVALUATOR_TIMEOUT', `no answer from ${shown} within ${timeoutMs / 1000}s`, { url: shown });
      const code = (err as NodeJS.ErrnoException).code;
      const cause = code && !errMessage(err).includes(code) ? `${errMessage(err)} (${code})` : errMessage(err);
      return failed('CONNECTION_FAILED', `GET ${shown} failed: ${cause}`, { url: shown });
    }
    const value: Record<string, unknown> = {
      url: shown,
      status: reply.status,
      durationMs: Math.round(performance.now() - started),
    };
    const expected = Array.isArray(c.expectStatus) ? c.expectStatus : [c.expectStatus];
    if (!expected.includes(reply.status))
      return failed('CHECK_FAILED', `GET ${shown} answered ${reply.status}, expected ${expected.join(' or ')}`, value);
    if (c.jsonPath === undefined) return pass(value);
    if (reply.truncated)
      return failed('CHECK_FAILED', `the body of ${shown} is larger than ${MAX_BODY_BYTES} bytes`, value);
    let doc: unknown;
    try {
      doc = JSON.parse(reply.body.toString('utf8'));
    } catch (err) {
      return failed('CHECK_FAILED', `the body of ${shown} is not JSON: ${errMessage(err)}`, value);
    }
    const at = atJsonPath(doc, c.jsonPath);
    value.jsonPath = c.jsonPath;
    if (!at.found) return failed('CHECK_FAILED', `${c.jsonPath} not found in the body of ${shown}`, value);
    value.found = at.value;
    if (c.equals === undefined) return pass(value);
    value.equals = c.equals;
    if (at.value === c.equals) return pass(value);
    return failed(
      'CHECK_FAILED',
      `${c.jsonPath} is ${JSON.stringify(at.value)?.slice(0, 200)}, expected ${JSON.stringify(c.equals)}`,
      value,
    );
  },
};
