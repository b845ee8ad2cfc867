// GET /api/events: the process's EventStream as Server-Sent Events, one bounded stream per client; every stream is
// ended when the server shuts down.
import type { Context as HonoContext } from 'hono';
import type { Clock, TimerHandle } from '../core/clock.js';
import { InterlockError } from '../core/errors.js';
import type { EventStream, StreamEvent } from '../runtime/index.js';

export interface SseOptions {
  /** A `: keepalive` comment this often (default 15 s). */
  keepaliveMs?: number;
  /** Bytes a client may have waiting (not yet taken by its socket) before it is dropped (default 1 MiB). */
  maxQueuedBytes?: number;
  /** Streams open at once; more are refused with 503 (default 1,000). */
  maxClients?: number;
}

/** `retry:` the stream asks EventSource to wait before reconnecting, ms. */
export const SSE_RETRY_MS = 2000;
const DEFAULT_KEEPALIVE_MS = 15_000;
const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;
const DEFAULT_MAX_CLIENTS = 1000;
/** Pipeline filters per request, and their length. */
const MAX_FILTERS = 100;
const MAX_NAME = 256;

const encoder = new TextEncoder();

/** An event as SSE lines (its data is one JSON line: no newline can split it). */
export function sseFrame(e: Pick<StreamEvent, 'id' | 'event' | 'data'>): string {
  return `id: ${e.id}\nevent: ${e.event}\ndata: ${e.data}\n\n`;
}

/** The open streams of one server, and how a new one is answered. */
export class SseClients {
  private readonly open = new Set<() => void>();
  private readonly keepaliveMs: number;
  private readonly maxQueuedBytes: number;
  private readonly maxClients: number;
  private closed = false;

  constructor(
    private readonly stream: EventStream,
    private readonly clock: Clock,
    o: SseOptions = {},
  ) {
    this.keepaliveMs = o.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.maxQueuedBytes = o.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.maxClients = o.maxClients ?? DEFAULT_MAX_CLIENTS;
  }

  /** Streams open now. */
  get size(): number {
    return this.open.size;
  }

  /** Ends every open stream (what was queued is still written) and refuses new ones: shutdown. */
  closeAll(): void {
    this.closed = true;
    for (const end of [...this.open]) end();
  }

  /** The response to GET /api/events (auth and the request guard ran before). */
  respond(c: HonoContext): Response {
    if (this.closed) throw new InterlockError('SHUTTING_DOWN', 'the server is shutting down');
    if (this.open.size >= this.maxClients) {
      throw new InterlockError('STORE_UNAVAILABLE', `too many event streams open (${this.maxClients})`);
    }
    const names = c.req.queries('pipeline') ?? [];
    if (names.length > MAX_FILTERS || names.some((n) => n.length === 0 || n.length > MAX_NAME)) {
      throw new InterlockError(
        'INVALID_REQUEST',
        `invalid query: pipeline: at most ${MAX_FILTERS} names of 1 to ${MAX_NAME} characters`,
      );
    }
    const only = names.length > 0 ? new Set(names) : undefined;
    const lastEventId = c.req.header('last-event-id');
    const { stream, clock, keepaliveMs } = this;
    let end: (() => void) | undefined;
    let gone: (() => void) | undefined;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          let timer: TimerHandle | undefined;
          let off: (() => void) | undefined;
          let done = false;
          const cleanup = () => {
            done = true;
            off?.();
            clock.clearTimeout(timer);
            if (end) this.open.delete(end);
          };
          /** Queues `text`; a client whose queue is past the bound is dropped (it reconnects and resumes or resets). */
          const write = (text: string) => {
            if (done) return;
            controller.enqueue(encoder.encode(text));
            if ((controller.desiredSize ?? 0) < 0) {
              cleanup();
              controller.error(new Error('event stream client too slow: dropped'));
            }
          };
          end = () => {
            if (done) return;
            cleanup();
            controller.close();
          };
          this.open.add(end);
          write(`retry: ${SSE_RETRY_MS}\n\n`);
          if (lastEventId !== undefined) {
            const r = stream.resume(lastEventId);
            if (r.kind === 'reset') {
              // The id moves the client past the gap: its next reconnect resumes from here.
              write(`id: ${stream.lastId}\nevent: reset\ndata: ${JSON.stringify({ reason: r.reason })}\n\n`);
            } else {
              for (const e of r.events) if (!only || only.has(e.pipeline)) write(sseFrame(e));
            }
          }
          off = stream.listen((e) => {
            if (!only || only.has(e.pipeline)) write(sseFrame(e));
          });
          const keepalive = () => {
            write(': keepalive\n\n');
            if (!done) timer = clock.setTimeout(keepalive, keepaliveMs);
          };
          timer = clock.setTimeout(keepalive, keepaliveMs);
          gone = cleanup;
        },
        // The client went away (node-server cancels the body when the socket closes).
        cancel: () => gone?.(),
      },
      { highWaterMark: this.maxQueuedBytes, size: (chunk) => chunk.byteLength },
    );
    return c.body(body, 200, {
      'Content-Type': 'text/event-stream',
      'X-Accel-Buffering': 'no',
    });
  }
}
