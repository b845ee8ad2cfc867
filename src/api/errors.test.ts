import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { InterlockError } from '../core/errors.js';
import { errorResponse } from './errors.js';

describe('errorResponse', () => {
  it('4xx: the code, the message and only the whitelisted context (never causes or files)', () => {
    const logs: string[] = [];
    const err = new InterlockError('ALREADY_RUNNING', 'already running: R1', {
      runId: 'R1',
      pipeline: 'p',
      file: '/etc/secret/path.yaml',
      cause: new Error('driver detail'),
      internal: 'x',
    });
    expect(errorResponse(err, (m) => logs.push(m))).toEqual({
      status: 409,
      body: {
        error: { code: 'ALREADY_RUNNING', message: 'already running: R1', details: { runId: 'R1', pipeline: 'p' } },
      },
    });
    expect(logs).toEqual([]);
  });

  it('5xx: only the kind of failure; the detail goes to the log', () => {
    const logs: string[] = [];
    const store = new InterlockError('STORE_UNAVAILABLE', 'sqlite getRun failed: SQLITE_IOERR /var/db/x', {});
    expect(errorResponse(store, (m) => logs.push(m))).toEqual({
      status: 503,
      body: { error: { code: 'STORE_UNAVAILABLE', message: 'the store is unavailable' } },
    });
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    expect(errorResponse(bug, (m) => logs.push(m))).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL', message: 'internal error' } },
    });
    expect(logs[0]).toContain('SQLITE_IOERR');
    expect(logs[1]).toContain('TypeError');
  });

  it("hono's own 4xx (malformed JSON, unsupported media type) become our codes", () => {
    const log = () => {};
    expect(
      errorResponse(new HTTPException(400, { message: 'Malformed JSON in request body' }), log).body.error,
    ).toEqual({
      code: 'INVALID_REQUEST',
      message: 'the request body is not valid JSON',
    });
    expect(errorResponse(new HTTPException(415, { message: 'Unsupported Media Type' }), log)).toEqual({
      status: 415,
      body: {
        error: {
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: 'the request body must be JSON, sent with Content-Type: application/json',
        },
      },
    });
    expect(errorResponse(new HTTPException(500, { message: 'x' }), log).status).toBe(500);
  });
});
