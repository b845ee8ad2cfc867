// Bearer-token authentication: every route but the health check, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { InterlockError } from '../core/errors.js';

/** Routes anyone may call (load balancers and probes carry no token). */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/api/health']);

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Requires `Authorization: Bearer <token>` (not on PUBLIC_PATHS nor `alsoPublic`: /metrics with server.metricsPublic). Both sides are hashed first, so the comparison is constant-time and
 * on equal-length values whatever the client sent (timingSafeEqual needs equal lengths).
 */
export function bearerAuth(token: string, alsoPublic: ReadonlySet<string> = new Set()): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path) || alsoPublic.has(c.req.path)) return next();
    const header = c.req.header('authorization');
    const m = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    const ok = m !== null && timingSafeEqual(digest(m[1] as string), expected);
    if (!ok) {
      throw new InterlockError(
        'UNAUTHORIZED',
        header === undefined ? 'missing bearer token (Authorization: Bearer <token>)' : 'invalid bearer token',
      );
    }
    return next();
  };
}
