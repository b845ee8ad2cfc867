// Request body cap: refuses a declared Content-Length over the limit at once, and counts the bytes actually streamed
// (chunked bodies, or a length that lies) so that no more than the limit is ever buffered.
import type { MiddlewareHandler } from 'hono';
import { InterlockError } from '../core/errors.js';

function tooLarge(max: number): InterlockError {
  return new InterlockError('PAYLOAD_TOO_LARGE', `request body is larger than ${max} bytes`);
}

export function bodyLimit(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    // GET and HEAD carry no body we read: skip, so reads never build a full request object.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const raw = c.req.raw;
    const declared = raw.headers.get('content-length');
    if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
    if (raw.body === null) return next();
    const reader = raw.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
    const body = new Uint8Array(size);
    let offset = 0;
    for (const ch of chunks) {
      body.set(ch, offset);
      offset += ch.byteLength;
    }
    c.req.raw = new Request(raw, { body });
    return next();
  };
}
