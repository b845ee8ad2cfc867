// The webhook sink against a real HTTP server on 127.0.0.1: retries, backoff, timeouts, refused connections, payload.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InterlockError } from '../core/errors.js';
import type { Alert } from '../core/types.js';
import { alertPayload, makeAlert } from './alert.js';
import { AlertDispatcher } from './dispatcher.js';
import { createSinks } from './sink.js';
import { WebhookSink, type WebhookSinkOptions, webhookBackoffMs } from './webhook-sink.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What the server does with the n-th request: answer with a status (and body), or never answer. */
type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

interface Server {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A real server; request n gets replies[n] (the last one repeats). */
async function serve(...replies: Reply[]): Promise<Server> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const reply = replies[Math.min(received.length - 1, replies.length - 1)];
      if (reply === 'hang' || reply === undefined) return;
      res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const s: Server = {
    url: `http://127.0.0.1:${port}/hooks/T0/SECRET`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const NOW = Date.UTC(2025, 0, 6, 6, 2, 0);
const alert = (over: Partial<Parameters<typeof makeAlert>[1]> = {}): Alert =>
  makeAlert('PIPELINE_BLOCKED', { pipeline: 'daily-sales', message: 'source-freshness is FAIL', ...over }, NOW);

/** A sink whose backoff waits are recorded, not slept. */
function sink(url: string, o: Partial<WebhookSinkOptions> = {}) {
  const waits: number[] = [];
  const s = new WebhookSink({
    url,
    timeoutSeconds: 2,
    retries: 2,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...o,
  });
  return { sink: s, waits };
}

async function failureOf(p: Promise<unknown>): Promise<InterlockError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(InterlockError);
    return err as InterlockError;
  }
  throw new Error('expected the send to fail');
}

describe('webhook sink', () => {
  it('POSTs the documented JSON payload with Content-Type and the configured headers', async () => {
    const server = await serve({ status: 204 });
    const a = alert({ runId: 'r-1', trait: 'fresh', details: { lagSeconds: 900 } });
    const { sink: s } = sink(server.url, { headers: { Authorization: 'Bearer t0k', 'X-Team': 'data' } });
    await s.send(a);
    expect(server.received).toHaveLength(1);
    const [req] = server.received;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hooks/T0/SECRET');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBe('Bearer t0k');
    expect(req.headers['x-team']).toBe('data');
    expect(JSON.parse(req.body)).toEqual({
      level: 'warning',
      kind: 'PIPELINE_BLOCKED',
      pipeline: 'daily-sales',
      runId: 'r-1',
      trait: 'fresh',
      message: 'source-freshness is FAIL',
      details: { lagSeconds: 900 },
      timestamp: '2025-01-06T06:02:00.000Z',
      timestampMs: NOW,
      uca: alertPayload(a).uca,
    });
  });

  it('lets a configured header override the content type', async () => {
    const server = await serve({ status: 200 });
    await sink(server.url, { headers: { 'content-type': 'application/vnd.alert+json' } }).sink.send(alert());
    expect(server.received[0].headers['content-type']).toBe('application/vnd.alert+json');
  });

  it('sends user:password from the URL as Basic auth, never in an error message', async () => {
    const server = await serve({ status: 200 });
    const withCreds = server.url.replace('http://', 'http://alice:s%40cret@');
    await sink(withCreds).sink.send(alert());
    expect(server.received[0].headers.authorization).toBe(`Basic ${Buffer.from('alice:s@cret').toString('base64')}`);
    const refused = `http://alice:s%40cret@127.0.0.1:${await closedPort()}/T0/SECRET`;
    const err = await failureOf(sink(refused, { retries: 0 }).sink.send(alert()));
    expect(err.message).not.toMatch(/alice|cret|SECRET/);
  });

  it('500 then 200: delivered once after one retry, waiting 250 ms', async () => {
    const server = await serve({ status: 500 }, { status: 200 });
    const { sink: s, waits } = sink(server.url);
    await s.send(alert());
    expect(server.received).toHaveLength(2);
    expect(server.received[1].body).toBe(server.received[0].body);
    expect(waits).toEqual([250]);
  });

  it('always 500: gives up after retries + 1 attempts with exponential backoff, quoting the response', async () => {
    const server = await serve({ status: 500, body: 'database\n is down' });
    const { sink: s, waits } = sink(server.url, { retries: 3 });
    const err = await failureOf(s.send(alert()));
    expect(server.received).toHaveLength(4);
    expect(waits).toEqual([250, 500, 1000]);
    expect(err.code).toBe('IO_ERROR');
    expect(err.message).toBe(
      `webhook ${new URL(server.url).origin}: gave up after 4 attempts: HTTP 500 Internal Server Error: database is down`,
    );
    expect(err.context).toMatchObject({ attempts: 4, httpStatus: 500 });
    expect(err.message).not.toContain('SECRET');
  });

  it('400: fails at once, no retry', async () => {
    const server = await serve({ status: 400, body: 'bad payload' });
    const { sink: s, waits } = sink(server.url);
    const err = await failureOf(s.send(alert()));
    expect(server.received).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(err.message).toMatch(/: HTTP 400 Bad Request: bad payload \(not retried\)$/);
  });

  it('429 (try later) is retried', async () => {
    const server = await serve({ status: 429 }, { status: 200 });
    const { sink: s, waits } = sink(server.url);
    await s.send(alert());
    expect(server.received).toHaveLength(2);
    expect(waits).toEqual([250]);
  });

  it('does not follow a redirect (it would turn the POST into a GET)', async () => {
    const server = await serve({ status: 302, headers: { location: '/elsewhere' } });
    const err = await failureOf(sink(server.url).sink.send(alert()));
    expect(server.received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /hooks/T0/SECRET']);
    expect(err.message).toMatch(/HTTP 302 Found \(not retried\)$/);
  });

  it('a hanging server: each attempt times out, and the send ends within timeout × attempts + backoff', async () => {
    const server = await serve('hang');
    const s = new WebhookSink({ url: server.url, timeoutSeconds: 0.3, retries: 1 }); // real backoff timer
    const started = performance.now();
    const err = await failureOf(s.send(alert()));
    const elapsed = performance.now() - started;
    expect(err.message).toMatch(/: gave up after 2 attempts: timed out after 0\.3s$/);
    expect(server.received).toHaveLength(2);
    const bound = 0.3 * 1000 * 2 + webhookBackoffMs(1);
    expect(elapsed).toBeGreaterThanOrEqual(bound - 50);
    expect(elapsed).toBeLessThan(bound + 1000);
  });

  it('connection refused: retried, then gives up naming the errno', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/x`;
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const { sink: s, waits } = sink(url, { fetchImpl: counting });
    const err = await failureOf(s.send(alert()));
    expect(calls).toBe(3);
    expect(waits).toEqual([250, 500]);
    expect(err.message).toMatch(/: gave up after 3 attempts: connection failed: ECONNREFUSED$/);
  });

  it('retries 0 means exactly one attempt', async () => {
    const server = await serve({ status: 503 });
    const err = await failureOf(sink(server.url, { retries: 0 }).sink.send(alert()));
    expect(server.received).toHaveLength(1);
    expect(err.message).toMatch(/gave up after 1 attempt: HTTP 503/);
  });

  it('an aborted send stops its attempt in flight and makes no retry (the dispatcher gave up on it)', async () => {
    const server = await serve('hang');
    const s = new WebhookSink({ url: server.url, timeoutSeconds: 30, retries: 5 });
    const abandon = new AbortController();
    const sent = s.send(alert(), abandon.signal);
    while (server.received.length === 0) await new Promise((r) => setTimeout(r, 5)); // the request has arrived
    const t0 = performance.now();
    abandon.abort();
    await expect(sent).rejects.toThrow(/abandoned/);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(server.received).toHaveLength(1);
  });

  it('an abort during the backoff wait ends the wait: no further attempt', async () => {
    const server = await serve({ status: 503 });
    const abandon = new AbortController();
    let waiting: (() => void) | undefined;
    const s = new WebhookSink({
      url: server.url,
      timeoutSeconds: 5,
      retries: 3,
      // A wait that only ends by its signal: the send must not hang on it.
      sleep: (_ms, signal) =>
        new Promise<void>((_r, reject) => {
          waiting?.();
          signal?.addEventListener('abort', () => reject(new Error('wait aborted')));
        }),
    });
    const inWait = new Promise<void>((r) => (waiting = r));
    const sent = s.send(alert(), abandon.signal);
    await inWait;
    abandon.abort();
    await expect(sent).rejects.toThrow();
    expect(server.received).toHaveLength(1);
  });

  it('backs off 250 ms, 500 ms, 1 s … up to 10 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(webhookBackoffMs)).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});

describe('dispatch to a real webhook', () => {
  it('reports a sink that gave up through onError and still resolves; the other sinks deliver', async () => {
    const down = await serve({ status: 500 });
    const up = await serve({ status: 200 });
    const waits: number[] = [];
    const errors: Array<[string, string]> = [];
    const sinks = createSinks(
      [
        { type: 'webhook', url: down.url, timeout: 1, retries: 2 },
        { type: 'webhook', url: up.url },
      ],
      { sleep: async (ms) => void waits.push(ms) },
    );
    const d = new AlertDispatcher(sinks, { onError: (name, err) => errors.push([name, (err as Error).message]) });
    await expect(d.dispatch([alert(), alert({ trait: 't2' })])).resolves.toBeUndefined();
    expect(down.received).toHaveLength(6); // 2 alerts × 3 attempts
    expect(up.received.map((r) => JSON.parse(r.body).trait ?? null).sort()).toEqual([null, 't2'].sort());
    expect(errors).toHaveLength(2);
    for (const [name, message] of errors) {
      expect(name).toBe(`webhook ${new URL(down.url).origin}`);
      expect(message).toMatch(/gave up after 3 attempts: HTTP 500/);
    }
  });

  it('a hanging webhook delays dispatch by at most timeout × attempts + backoff, for any number of alerts', async () => {
    const server = await serve('hang');
    const errors: string[] = [];
    const d = new AlertDispatcher(createSinks([{ type: 'webhook', url: server.url, timeout: 0.25, retries: 1 }]), {
      onError: (_n, err) => errors.push((err as Error).message),
    });
    const started = performance.now();
    await d.dispatch([alert(), alert({ trait: 'a' }), alert({ trait: 'b' })]);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(0.25 * 1000 * 2 + webhookBackoffMs(1) + 1000);
    expect(errors).toHaveLength(3);
    expect(server.received).toHaveLength(6);
  });
});
