// Request body cap: refuses a declared Content-Length over the limit at once, and counts the bytes actually streamed
// (chunked bodies, or a length that lies) so that no more than the limit is ever buffered; then refuses JSON nested
// deeper than a limit before anything parses or walks it.
import type { MiddlewareHandler } from 'hono';
import { InterlockError } from '../core/errors.js';

function tooLarge(max: number): InterlockError {
  return new InterlockError('PAYLOAD_TOO_LARGE', `request body is larger than ${max} bytes`);
}

/** Methods whose empty body reads as `{}` (others, e.g. TRACE, cannot be given one). */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Deepest JSON nesting a request body may have (`{}` is depth 1, `{"a":[]}` depth 2). */
export const MAX_JSON_DEPTH = 64;

/**
 * True when the JSON text in `bytes` nests arrays/objects deeper than `max`. A linear scan over the bytes (brackets
 * inside strings do not count), so a deep document is refused without recursion: parsing, validating, comparing or
 * storing thousands of levels overflows the stack somewhere (a 500 or 503 instead of a 400).
 */
export function jsonDepthExceeds(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) {
      inString = true;
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) {
      depth--;
    }
  }
  return false;
}

export function bodyLimit(maxBytes: number, maxDepth = MAX_JSON_DEPTH): MiddlewareHandler {
  return async (c, next) => {
    // GET and HEAD carry no body we read: skip, so reads never build a full request object.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const raw = c.req.raw;
    const declared = raw.headers.get('content-length');
    if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
    // A request without a body (the guard made sure it is typed JSON) reads as `{}`, what a client sends when it has
    // nothing to say: routes with an optional body then see no body rather than invalid JSON.
    const empty = () => {
      if (BODY_METHODS.has(c.req.method)) c.req.raw = new Request(raw, { body: '{}' });
      return next();
    };
    if (raw.body === null) return empty();
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
    if (size === 0) return empty();
    const body = new Uint8Array(size);
    let offset = 0;
    for (const ch of chunks) {
      body.set(ch, offset);
      offset += ch.byteLength;
    }
    if (jsonDepthExceeds(body, maxDepth)) {
      throw new InterlockError('INVALID_REQUEST', `request body nests deeper than ${maxDepth} levels`);
    }
    c.req.raw = new Request(raw, { body });
    return next();
  };
}
