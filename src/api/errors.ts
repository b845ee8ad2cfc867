// Every error the API answers with: `{"error":{"code","message","details"?}}`, its status from core's table, and no
// stack trace or driver detail in a response (5xx details go to the server's log instead).
import type { Context as HonoContext } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { type ErrorCode, httpStatusFor, InterlockError } from '../core/errors.js';

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Context fields that are safe and useful to show to a client; everything else (causes, files) stays inside. */
const DETAIL_KEYS = [
  'problems',
  'diagnostics',
  'blocking',
  'note',
  'runId',
  'run',
  'pipeline',
  'trait',
  'missing',
  'status',
  'decisionId',
] as const;

const CODE_BY_HTTP_STATUS: Record<number, ErrorCode> = {
  400: 'INVALID_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** What a 415 says: the one media type the API reads. */
export const UNSUPPORTED_MEDIA_TYPE_MESSAGE = 'the request body must be JSON, sent with Content-Type: application/json';

/** A zod failure as a list of `{path, message}`: one entry per issue (one per unknown key). */
export function zodProblems(err: ZodError): Array<{ path: string; message: string }> {
  return err.issues.flatMap((iss) => {
    const at = iss.path.map(String).join('.');
    if (iss.code === 'unrecognized_keys') {
      return iss.keys.map((k) => ({ path: at ? `${at}.${k}` : k, message: `unknown key '${k}'` }));
    }
    return [{ path: at, message: iss.message }];
  });
}

/**
 * Status and body for anything thrown by a route. 5xx answers say only what kind of failure it was; the detail is
 * passed to `log`.
 */
export function errorResponse(err: unknown, log: (message: string) => void): { status: number; body: ErrorBody } {
  if (err instanceof InterlockError) {
    const status = httpStatusFor(err);
    if (status >= 500) {
      log(`${err.code}: ${err.message}`);
      const message = err.code === 'STORE_UNAVAILABLE' ? 'the store is unavailable' : serverMessage(err.code, err);
      return { status, body: { error: { code: err.code, message } } };
    }
    const details: Record<string, unknown> = {};
    for (const k of DETAIL_KEYS) if (err.context[k] !== undefined) details[k] = err.context[k];
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (Object.keys(details).length) body.error.details = details;
    return { status, body };
  }
  if (err instanceof HTTPException && err.status < 500) {
    const code = CODE_BY_HTTP_STATUS[err.status] ?? 'INVALID_REQUEST';
    const message =
      err.status === 400 && /json/i.test(err.message)
        ? 'the request body is not valid JSON'
        : err.status === 415
          ? UNSUPPORTED_MEDIA_TYPE_MESSAGE
          : err.message || 'invalid request';
    return { status: err.status, body: { error: { code, message } } };
  }
  log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
}

function serverMessage(code: ErrorCode, err: InterlockError): string {
  if (code === 'SHUTTING_DOWN') return err.message;
  if (code === 'STORE_CORRUPT') return 'the store holds data it cannot read';
  return 'internal error';
}

/** Sends `err` as the JSON error response (adding the headers its status calls for). */
export function sendError(c: HonoContext, err: unknown, log: (message: string) => void): Response {
  const { status, body } = errorResponse(err, log);
  if (status === 401) c.header('WWW-Authenticate', 'Bearer realm="interlock"');
  // RFC 9110 §15.5.16: Accept on a 415 names the media types the request could have used.
  if (status === 415) c.header('Accept', 'application/json');
  // The rest of an oversized body is not read: end the connection rather than keep it in an unknown state.
  if (status === 413) c.header('Connection', 'close');
  return c.json(body, status as ContentfulStatusCode);
}
