// Cross-site and DNS-rebinding guards: the Host a request names, the Origin a browser sends, and the JSON content
// type every state-changing request must declare (which no HTML form or no-cors fetch can send).
import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { InterlockError } from '../core/errors.js';
import { isLoopbackHost, normaliseHost } from './address.js';
import { UNSUPPORTED_MEDIA_TYPE_MESSAGE } from './errors.js';

export interface GuardOptions {
  /** Extra names (or addresses) accepted in the Host header: `server.allowedHostnames`. */
  allowedHostnames: readonly string[];
  /** Extra origins accepted in the Origin header: `server.allowedOrigins`. */
  allowedOrigins: readonly string[];
  /**
   * The server listens on a non-loopback address: any IP-address literal is then accepted as Host too (an address
   * cannot be re-pointed by DNS, so it is no rebinding vector; names still have to be listed).
   */
  offLoopback: boolean;
  /**
   * Whether a route answers `method` on `path`. The Content-Type rule applies only to requests that reach one;
   * the rest get the router's own 404 or 405 (default: every request reaches one).
   */
  hasOperation?: (method: string, path: string) => boolean;
}

/** The only route the guards skip: probes may name the server by any address. */
const UNGUARDED_PATHS: ReadonlySet<string> = new Set(['/api/health']);

/** Methods that change nothing and carry no body we read. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** At most this much of a client-supplied value is quoted back in an error message. */
const QUOTE_MAX = 100;
const quote = (s: string) => JSON.stringify(s.length > QUOTE_MAX ? `${s.slice(0, QUOTE_MAX)}…` : s);

/** `host[:port]` of a Host header → { hostname (normalised), port (undefined when absent) }, or undefined. */
export function parseHostHeader(value: string): { hostname: string; port?: number } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]/@\s]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  const hostname = normaliseHost(m[1] as string);
  if (hostname === '') return undefined;
  return m[2] === undefined ? { hostname } : { hostname, port: Number(m[2]) };
}

/** The origin as browsers serialise it (`scheme://host[:port]`, default port dropped, lower case), or undefined. */
function normaliseOrigin(value: string): string | undefined {
  try {
    const u = new URL(value);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.pathname !== '/' || u.search || u.hash) {
      return undefined;
    }
    return u.origin;
  } catch {
    return undefined;
  }
}

/**
 * True when `hostname` is one this server answers to: a loopback name (`localhost`, `*.localhost`: browsers resolve
 * those to loopback themselves, never through DNS) or address (127.0.0.0/8, ::1), a listed name, or, when listening
 * off loopback, any IP literal.
 */
export function isAllowedHostname(hostname: string, o: GuardOptions): boolean {
  const h = normaliseHost(hostname);
  if (isLoopbackHost(h)) return true;
  if (o.allowedHostnames.some((a) => normaliseHost(a) === h)) return true;
  return o.offLoopback && isIP(h) !== 0;
}

/**
 * True when `origin` (an Origin header) is the request's own origin (same host and port as its Host header, http or
 * https: a TLS-terminating proxy changes the scheme) or one of `allowedOrigins`.
 */
export function isAllowedOrigin(origin: string, host: string, allowedOrigins: readonly string[]): boolean {
  const o = normaliseOrigin(origin);
  if (o === undefined) return false; // "null" (sandboxed frames, file:), or garbage
  if (allowedOrigins.some((a) => normaliseOrigin(a) === o)) return true;
  const target = parseHostHeader(host);
  if (!target) return false;
  const u = new URL(o);
  const originPort = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  return normaliseHost(u.hostname) === target.hostname && (target.port ?? originPort) === originPort;
}

/** The media type of a Content-Type header, lower case, without parameters. */
function mediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Refuses, before authentication and before any body is read (every route but /api/health):
 * a Host that is not this server's → 421 MISDIRECTED_REQUEST (DNS rebinding);
 * an Origin that is neither the request's own nor allowed → 403 FORBIDDEN (a page on another site);
 * a request other than GET/HEAD/OPTIONS to an operation without `Content-Type: application/json` → 415 (HTML forms
 * and no-cors fetches cannot send that type without a CORS preflight, which this server never grants).
 */
export function requestGuard(o: GuardOptions): MiddlewareHandler {
  return async (c, next) => {
    if (UNGUARDED_PATHS.has(c.req.path)) return next();
    const host = c.req.header('host') ?? '';
    const target = parseHostHeader(host);
    if (!target || !isAllowedHostname(target.hostname, o)) {
      throw new InterlockError(
        'MISDIRECTED_REQUEST',
        `Host ${quote(host)} is not a name this server answers to: use localhost or a loopback address, or list the name in server.allowedHostnames`,
      );
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !isAllowedOrigin(origin, host, o.allowedOrigins)) {
      throw new InterlockError(
        'FORBIDDEN',
        `cross-origin request refused: Origin ${quote(origin)} is not this server's origin and not in server.allowedOrigins`,
      );
    }
    const checked = !SAFE_METHODS.has(c.req.method) && (o.hasOperation?.(c.req.method, c.req.path) ?? true);
    if (checked && mediaType(c.req.header('content-type')) !== 'application/json') {
      // The one 415 message of the API; a request with nothing to send sends `{}` (or no body) with that type.
      throw new InterlockError('UNSUPPORTED_MEDIA_TYPE', UNSUPPORTED_MEDIA_TYPE_MESSAGE);
    }
    return next();
  };
}
