// A Server-Sent Events client for tests and benches: fetch, then the body read as a stream and parsed by the
// text/event-stream rules (fields id/event/data/retry, comment lines, a blank line ends an event).

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
  /** When the message's last line was parsed (performance.now()). */
  at: number;
}

export interface SseConnection {
  status: number;
  headers: Headers;
  /** Every message so far (comments aside), in order. */
  messages: SseMessage[];
  /** Comment lines so far (`: keepalive` → `keepalive`). */
  comments: string[];
  /** The `retry:` values seen. */
  retries: number[];
  /** The raw text so far. */
  text(): string;
  /** Resolves when the server ended the stream (or the connection failed), with how. */
  ended: Promise<'closed' | 'error'>;
  /** Resolves with the first message after index `from` that satisfies `match` (rejects after `ms`). */
  next(match: (m: SseMessage) => boolean, ms?: number, from?: number): Promise<SseMessage>;
  /** Aborts the request (the client goes away). */
  close(): void;
}

/** Parses SSE text incrementally: feed chunks, get messages, comments and retries. */
export class SseParser {
  private buffer = '';
  private id: string | undefined;
  private event = '';
  private data: string[] = [];

  constructor(
    private readonly on: {
      message: (m: SseMessage) => void;
      comment?: (c: string) => void;
      retry?: (ms: number) => void;
    },
  ) {}

  feed(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const nl = this.buffer.search(/\r\n|\r|\n/);
      if (nl < 0) return;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith('\r\n', nl) ? 2 : 1));
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0 || this.event !== '') {
        this.on.message({
          ...(this.id !== undefined ? { id: this.id } : {}),
          event: this.event || 'message',
          data: this.data.join('\n'),
          at: performance.now(),
        });
      }
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) {
      this.on.comment?.(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'id') this.id = value;
    else if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) this.on.retry?.(Number(value));
  }
}

/** Opens `url` as an event stream (GET with `headers`); resolves once the response headers are in. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  let raw = '';
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  const parser = new SseParser({
    message: (m) => {
      messages.push(m);
      wake();
    },
    comment: (c) => {
      comments.push(c);
      wake();
    },
    retry: (ms) => retries.push(ms),
  });
  let finished = false;
  const ended = (async (): Promise<'closed' | 'error'> => {
    if (!response.body) return 'closed';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        raw += text;
        parser.feed(text);
      }
      return 'closed';
    } catch {
      return 'error';
    } finally {
      finished = true;
      wake();
    }
  })();
  const next = (match: (m: SseMessage) => boolean, ms = 10_000, from = 0) =>
    new Promise<SseMessage>((resolve, reject) => {
      const look = () => {
        const found = messages.slice(from).find(match);
        if (found) {
          done();
          resolve(found);
        } else if (finished) {
          done();
          reject(new Error(`stream ended without the message; got: ${raw.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no such message within ${ms} ms; got: ${raw.slice(-2000)}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(look);
      };
      waiters.add(look);
      look();
    });
  return {
    status: response.status,
    headers: response.headers,
    messages,
    comments,
    retries,
    text: () => raw,
    ended,
    next,
    close: () => abort.abort(),
  };
}

/** The JSON of a message's data. */
// biome-ignore lint/suspicious/noExplicitAny: event data is checked by the assertions, not by types.
export function dataOf(m: SseMessage): any {
  return JSON.parse(m.data);
}
