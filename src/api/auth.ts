// Authentication: the bearer token, or the dashboard's session cookie (an HMAC under a per-process key, never the
// token itself), both compared in constant time; every route but the public ones.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { InterlockError } from '../core/errors.js';

/** Routes anyone may call (load balancers and probes carry no token; the login form has none yet). */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/api/health', '/api/session']);

/** The dashboard's static files: public (they hold no data; every datum they show comes from an /api route). */
export function isDashboardPath(path: string): boolean {
  return path === '/' || path.startsWith('/assets/');
}

/** The session cookie's name. */
export const SESSION_COOKIE = 'interlock_session';
/** How long a session cookie is good for (also its Max-Age). */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Session cookies for one server process: `<expiry ms>.<HMAC-SHA256(key, expiry ‖ sha256(token))>` (base64url).
 * The key is random per process, so a leaked cookie dies with the process (and after SESSION_TTL_MS), and the
 * cookie never reveals or equals the token.
 */
export class Sessions {
  private readonly key: Buffer;
  private readonly tokenDigest: Buffer;

  constructor(token: string, key: Buffer = randomBytes(32)) {
    this.key = key;
    this.tokenDigest = digest(token);
  }

  /** A cookie value good until `now + SESSION_TTL_MS`. */
  issue(now: number): string {
    const expires = Math.floor(now + SESSION_TTL_MS);
    return `${expires}.${this.mac(expires).toString('base64url')}`;
  }

  /** True when `value` is a cookie this process issued and it has not expired at `now`. */
  verify(value: string | undefined, now: number): boolean {
    const m = value === undefined ? null : /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!m) return false;
    const expires = Number(m[1]);
    const given = Buffer.from(m[2] as string, 'base64url');
    const ok = given.length === 32 && timingSafeEqual(given, this.mac(expires));
    return ok && now < expires;
  }

  /** True when `token` is the server's token (constant time, whatever its length). */
  matches(token: string): boolean {
    return timingSafeEqual(digest(token), this.tokenDigest);
  }

  private mac(expires: number): Buffer {
    return createHmac('sha256', this.key).update(`${expires}\n`).update(this.tokenDigest).digest();
  }
}

/** The value of cookie `name` in a Cookie header (the first one), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface AuthOptions {
  sessions: Sessions;
  /** The time the session cookie is checked against. */
  now: () => number;
  /** Paths public besides PUBLIC_PATHS and the dashboard's files (/metrics with server.metricsPublic). */
  alsoPublic?: ReadonlySet<string>;
}

/**
 * Requires `Authorization: Bearer <token>` or a valid session cookie (not on PUBLIC_PATHS, the dashboard's files nor
 * `alsoPublic`). A bearer header, when sent, decides alone (a wrong one is refused even with a good cookie). A
 * state-changing request authenticated by the cookie must carry an Origin header (the request guard has already
 * refused a foreign one): browsers always send it on such requests, so a request without one did not come from the
 * dashboard's own page.
 */
export function apiAuth(o: AuthOptions): MiddlewareHandler {
  const alsoPublic = o.alsoPublic ?? new Set<string>();
  return async (c, next) => {
    const path = c.req.path;
    if (PUBLIC_PATHS.has(path) || alsoPublic.has(path) || isDashboardPath(path)) return next();
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const m = /^Bearer +(\S+) *$/i.exec(header);
      if (m === null || !o.sessions.matches(m[1] as string)) {
        throw new InterlockError('UNAUTHORIZED', 'invalid bearer token');
      }
      return next();
    }
    const cookie = readCookie(c.req.header('cookie'), SESSION_COOKIE);
    if (cookie === undefined) {
      throw new InterlockError(
        'UNAUTHORIZED',
        'missing bearer token (Authorization: Bearer <token>) or dashboard session (POST /api/session)',
      );
    }
    if (!o.sessions.verify(cookie, o.now())) {
      throw new InterlockError('UNAUTHORIZED', 'the dashboard session has expired or is not valid: sign in again');
    }
    if (!SAFE_METHODS.has(c.req.method) && c.req.header('origin') === undefined) {
      throw new InterlockError(
        'FORBIDDEN',
        'a state-changing request signed in by the session cookie must carry an Origin header (send the bearer token otherwise)',
      );
    }
    return next();
  };
}

/** `Set-Cookie` for a new session (Secure when the request came over https, directly or through a proxy). */
export function sessionCookie(value: string, secure: boolean): string {
  const maxAge = Math.floor(SESSION_TTL_MS / 1000);
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

/** `Set-Cookie` that removes the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure ? '; Secure' : ''}`;
}
