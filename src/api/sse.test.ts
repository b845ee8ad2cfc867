// The event stream's bounds and timing with a fake clock and a memory store: the ring buffer and its reset, the
// keepalive, a client too slow to read dropped instead of queued without bound, store.changed coalesced and
// deduplicated against this process's own events, secrets masked.
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { openGateContext, writeGateProject } from '../../test/support/runtime-context.js';
import { tempDir } from '../../test/support/temp-dir.js';
import type { Alert } from '../core/types.js';
import type { Context } from '../runtime/context-type.js';
import { EventStream, type StreamEvent } from '../runtime/event-stream.js';
import type { StoreChange } from '../store/types.js';
import { SseClients } from './sse.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A Context whose change feed the test drives (`feed(change)`), and a started EventStream on it. */
async function setup(o: { capacity?: number; mask?: (t: string) => string } = {}) {
  const t = tempDir('interlock-sse-unit-');
  cleanups.push(t.cleanup);
  writeGateProject(t.dir);
  const { ctx, clock } = await openGateContext(t.dir);
  cleanups.push(() => ctx.close());
  const feeds: Array<(c: StoreChange) => void> = [];
  const real = ctx.store;
  ctx.store = new Proxy(real, {
    get(target, prop) {
      if (prop === 'watchChanges') {
        return (l: (c: StoreChange) => void) => {
          feeds.push(l);
          return () => feeds.splice(feeds.indexOf(l), 1);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const stream = new EventStream(ctx, o);
  stream.start();
  cleanups.push(() => stream.close());
  const seen: StreamEvent[] = [];
  stream.listen((e) => seen.push(e));
  const feed = (c: StoreChange) => {
    for (const l of feeds) l(c);
  };
  return { ctx, clock, stream, seen, feed };
}

function alert(pipeline: string, message = 'm'): Alert {
  return {
    level: 'warning',
    kind: 'PIPELINE_BLOCKED',
    pipeline,
    message,
    timestamp: 1,
    uca: { category: 'not-provided', description: 'd' },
  };
}

const raise = (ctx: Context, pipeline: string, message?: string) =>
  ctx.events.publish('alert.raised', { alert: alert(pipeline, message) });

/** What a stream body has queued so far (without waiting for more); a read still pending carries over to the next call. */
function drainer(body: ReadableStream<Uint8Array> | null) {
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  let pending: ReturnType<typeof reader.read> | undefined;
  const dec = new TextDecoder();
  const drain = async (): Promise<string> => {
    let text = '';
    for (;;) {
      pending ??= reader.read();
      const r = await Promise.race([pending, new Promise<null>((res) => setImmediate(() => res(null)))]);
      if (r === null) return text;
      pending = undefined;
      if (r.done) return text;
      text += dec.decode(r.value);
    }
  };
  return { reader, drain, done: async () => (await (pending ?? reader.read())).done };
}

describe('EventStream', () => {
  it('numbers events from 1; Last-Event-ID replays within the buffer and resets once it was overrun', async () => {
    const { ctx, stream, seen } = await setup({ capacity: 3 });
    for (let i = 0; i < 5; i++) await raise(ctx, `p${i}`);
    expect(seen.map((e) => e.id)).toEqual([1, 2, 3, 4, 5]);
    expect(seen.map((e) => e.event)).toEqual(Array(5).fill('alert.raised'));
    expect(JSON.parse(seen[0]?.data ?? '')).toMatchObject({ pipeline: 'p0', at: 1, kind: 'PIPELINE_BLOCKED' });
    // Ids 3..5 are buffered: a client at 2 missed only buffered ones.
    expect(stream.resume('2')).toEqual({ kind: 'replay', events: seen.slice(2) });
    expect(stream.resume('5')).toEqual({ kind: 'replay', events: [] });
    expect(stream.resume('1')).toMatchObject({ kind: 'reset', reason: expect.stringMatching(/older than the buffer/) });
    expect(stream.resume('6')).toMatchObject({ kind: 'reset', reason: expect.stringMatching(/not from this server/) });
    for (const bad of ['', 'abc', '1.5', '-3', '9'.repeat(40)]) expect(stream.resume(bad).kind).toBe('reset');
  });

  it('store.changed: waits 250 ms coalescing repeats; dropped when this process announced the pipeline after it', async () => {
    const { ctx, clock, seen, feed } = await setup();
    // Another process's writes: two notifications of one pipeline and kind become one event, 250 ms later.
    feed({ pipeline: 'a', kind: 'evaluation' });
    feed({ pipeline: 'a', kind: 'evaluation' });
    feed({ pipeline: 'a', kind: 'run' });
    await clock.advanceAsync(249);
    expect(seen).toEqual([]);
    await clock.advanceAsync(1);
    expect(seen.map((e) => [e.event, JSON.parse(e.data)])).toEqual([
      ['store.changed', { pipeline: 'a', at: clock.now(), kind: 'evaluation' }],
      ['store.changed', { pipeline: 'a', at: clock.now(), kind: 'run' }],
    ]);

    // This process's own write: the feed reports it before the bus announces it → only the domain event goes out.
    seen.length = 0;
    feed({ pipeline: 'b', kind: 'evaluation' });
    await raise(ctx, 'b');
    await clock.advanceAsync(250);
    expect(seen.map((e) => e.event)).toEqual(['alert.raised']);

    // An event of b announced BEFORE a later notification does not hide it (that write may be newer than it).
    seen.length = 0;
    await raise(ctx, 'b');
    feed({ pipeline: 'b', kind: 'evaluation' });
    await clock.advanceAsync(250);
    expect(seen.map((e) => e.event)).toEqual(['alert.raised', 'store.changed']);

    // A registration has no domain event: always sent.
    seen.length = 0;
    feed({ pipeline: 'c', kind: 'pipeline' });
    await raise(ctx, 'c');
    await clock.advanceAsync(250);
    expect(seen.map((e) => e.event)).toEqual(['alert.raised', 'store.changed']);
  });

  it('masks secrets out of the JSON it sends', async () => {
    const { ctx, seen } = await setup({ mask: (t) => t.replaceAll('s3cr3t', '***') });
    await raise(ctx, 'p', 'token s3cr3t leaked');
    expect(seen[0]?.data).toContain('token *** leaked');
    expect(seen[0]?.data).not.toContain('s3cr3t');
  });
});

describe('SseClients', () => {
  async function app(o: { keepaliveMs?: number; maxQueuedBytes?: number; maxClients?: number } = {}) {
    const s = await setup();
    const clients = new SseClients(s.stream, s.clock, o);
    const hono = new Hono().get('/events', (c) => clients.respond(c));
    hono.onError((err, c) => c.json({ error: String(err) }, 500));
    return { ...s, clients, hono };
  }

  it('retry first, events as id/event/data, a keepalive every 15 s of the (fake) clock', async () => {
    const { ctx, clock, clients, hono } = await app();
    const r = await hono.request('/events');
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    const { reader, drain } = drainer(r.body);
    await raise(ctx, 'p');
    expect(await drain()).toBe(
      'retry: 2000\n\nid: 1\nevent: alert.raised\ndata: {"pipeline":"p","at":1,"kind":"PIPELINE_BLOCKED","level":"warning","message":"m"}\n\n',
    );
    await clock.advanceAsync(14_999);
    expect(await drain()).toBe('');
    await clock.advanceAsync(1);
    expect(await drain()).toBe(': keepalive\n\n');
    await clock.advanceAsync(15_000);
    expect(await drain()).toBe(': keepalive\n\n');
    expect(clients.size).toBe(1);
    await reader.cancel();
    expect(clients.size).toBe(0);
    // Cancelled: no timer left behind.
    expect(clock.pending).toBe(0);
  });

  it('a client that does not read is dropped once its queue passes the bound (memory stays bounded)', async () => {
    const { ctx, clients, hono, stream } = await app({ maxQueuedBytes: 4096 });
    const slow = await hono.request('/events');
    const fast = await hono.request('/events');
    const f = drainer(fast.body);
    let fastText = '';
    for (let i = 0; i < 100; i++) {
      await raise(ctx, 'p', 'x'.repeat(100));
      fastText += await f.drain();
    }
    // The slow one was cut off after ~4 KiB (about 20 events of ~200 bytes), the reader sees an error.
    expect(clients.size).toBe(1);
    const slowReader = (slow.body as ReadableStream<Uint8Array>).getReader();
    let got = '';
    await expect(
      (async () => {
        for (;;) {
          const r = await slowReader.read();
          if (r.done) return;
          got += new TextDecoder().decode(r.value);
        }
      })(),
    ).rejects.toThrow(/too slow/);
    expect(got.length).toBeLessThan(4096 + 400);
    // The fast one got everything.
    expect(fastText.match(/^id: /gm)).toHaveLength(100);
    expect(stream.lastId).toBe(100);
  });

  it('closeAll ends every stream and refuses new ones; past maxClients a stream is refused', async () => {
    const { hono, clients } = await app({ maxClients: 2 });
    const a = await hono.request('/events');
    await hono.request('/events');
    expect((await hono.request('/events')).status).toBe(500);
    clients.closeAll();
    const d = drainer(a.body);
    expect(await d.drain()).toBe('retry: 2000\n\n');
    expect(await d.done()).toBe(true);
    expect(clients.size).toBe(0);
    expect((await hono.request('/events')).status).toBe(500);
  });
});
