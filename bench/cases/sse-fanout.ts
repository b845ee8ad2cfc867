// Event → every client: a real `interlock serve` with N clients on GET /api/events (test/support/sse.ts, which
// stamps each message's arrival), then pushes (POST /api/pipelines/{id}/traits/t1, one pipeline each, one at a
// time). Per event: from the event's own `at` (epoch ms, stamped by serve when the push was decided) to its arrival
// at the LAST of the N clients; also from sending the push. The floor is the same fan-out from a bare node:http SSE
// server (bench/floor/sse-server.mjs: POST /emit writes one frame to every open stream) to the same number of clients
// of the same kind; events of the two alternate.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { raw } from '../../test/support/http-request.js';
import { dataOf, openSse, type SseConnection } from '../../test/support/sse.js';
import { type BenchCase, type CaseContext, type Figure, interleave } from '../lib/figure.js';
import { code, NODE, startServer } from '../lib/proc.js';
import { makeBenchProject } from '../lib/project.js';
import { Histogram, round } from '../lib/stats.js';

const P99_TARGET_MS = 100;
const TIMEOUT_MS = 10_000;
const PUSH_BODY = JSON.stringify({ status: 'PASS', ttl: '10m' });

interface Sample {
  /** From the event's `at` to the last client's arrival. */
  fromAt: number;
  /** From sending the write to the last client's arrival. */
  fromSend: number;
}

async function connect(url: string, n: number): Promise<SseConnection[]> {
  const clients: SseConnection[] = [];
  for (let i = 0; i < n; i++) {
    const c = await openSse(url);
    if (c.status !== 200) throw new Error(`GET ${url}: ${c.status} ${c.text().slice(0, 300)}`);
    clients.push(c);
  }
  return clients;
}

/** Sends the write and waits until every client got the `trait.pushed` event of `name`. */
async function fanout(clients: SseConnection[], base: string, path: string, name: string): Promise<Sample> {
  const from = clients.map((c) => c.messages.length);
  const match = (m: { event: string; data: string }) =>
    m.event === 'trait.pushed' && dataOf(m as never).pipeline === name;
  const arrived = Promise.all(clients.map((c, i) => c.next(match, TIMEOUT_MS, from[i])));
  const t0 = performance.now();
  const r = await raw(base, {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    body: PUSH_BODY,
    timeoutMs: TIMEOUT_MS,
  });
  if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${r.text.slice(0, 300)}`);
  const got = await arrived;
  const last = Math.max(...got.map((m) => m.at));
  const at = Number(dataOf(got[0] as never).at);
  if (!Number.isFinite(at)) throw new Error(`event of ${name} has no numeric at: ${got[0]?.data}`);
  return { fromAt: performance.timeOrigin + last - at, fromSend: last - t0 };
}

function summary(xs: number[]) {
  const h = new Histogram();
  for (const x of xs) h.record(x);
  return { ...h.summary(), p95: round(h.percentile(95), 3) };
}

export const sseFanoutCase: BenchCase = {
  id: 'sse-fanout',
  title: 'GET /api/events: one push delivered to 100 connected clients',
  async run(ctx: CaseContext): Promise<Figure[]> {
    const nClients = ctx.quick ? 10 : 100;
    const events = ctx.quick ? 10 : 50;
    const warmup = ctx.quick ? 2 : 5;
    const p = makeBenchProject(ctx.tmp('sse'), { pipelines: events + warmup, traits: 1, prefix: 's' });
    const serve = await startServer(NODE, [code.bin, 'serve', '--addr', '127.0.0.1:0'], {
      cwd: p.root,
      timeoutMs: 120_000,
    });
    ctx.defer(() => serve.stop());
    const floor = await startServer(NODE, [join(code.floor, 'sse-server.mjs')], { cwd: p.root });
    ctx.defer(() => floor.stop());
    const a = await connect(`${serve.url}/api/events`, nClients);
    ctx.defer(() => {
      for (const c of a) c.close();
    });
    const b = await connect(`${floor.url}/events`, nClients);
    ctx.defer(() => {
      for (const c of b) c.close();
    });
    const push = (name: string) => fanout(a, serve.url, `/api/pipelines/${name}/traits/t1`, name);
    let j = 0;
    const emit = () => {
      const name = `floor-${j++}`;
      return fanout(b, floor.url, `/emit/${name}`, name);
    };
    for (let i = 0; i < warmup; i++) {
      await push(p.names[events + i] as string);
      await emit();
    }
    let i = 0;
    const s = await interleave(events, () => push(p.names[i++] as string), emit);
    const ca = summary(s.a.map((x) => x.fromAt));
    const cb = summary(s.b.map((x) => x.fromAt));
    const sa = summary(s.a.map((x) => x.fromSend));
    const sb = summary(s.b.map((x) => x.fromSend));
    ctx.log(
      `sse-fanout: ${nClients} clients, event at → last client p50 ${ca.p50.toFixed(1)} ms, p99 ${ca.p99.toFixed(1)} ms; floor p50 ${cb.p50.toFixed(1)} ms, p99 ${cb.p99.toFixed(1)} ms`,
    );
    ctx.note(
      `sse-fanout: ${nClients} clients (fetch + the test/support/sse.ts parser, all in the bench process) on each server; ${events} pushes (POST /api/pipelines/{id}/traits/t1, a different pipeline each, one at a time, the next once all clients had the last) alternating with the floor's events after ${warmup} warm-up events each; latency = last client's arrival − the event's \`at\` (epoch ms, so ±1 ms), and from sending the write in numbers.fromSend*; floor = bare node:http SSE server writing one frame to every stream.`,
    );
    const ratio = ca.p99 / cb.p99;
    return [
      {
        id: 'sse-fanout',
        what: `event → last of ${nClients} SSE clients (GET /api/events, push events)`,
        measured: `p50 ${ca.p50.toFixed(1)} ms, p99 ${ca.p99.toFixed(1)} ms (from push sent: p50 ${sa.p50.toFixed(1)}, p99 ${sa.p99.toFixed(1)})`,
        floor: `p50 ${cb.p50.toFixed(1)} ms, p99 ${cb.p99.toFixed(1)} ms (bare node:http SSE)`,
        ratio: round(ratio, 2),
        target: `p99 ≤ ${P99_TARGET_MS} ms`,
        met: ca.p99 <= P99_TARGET_MS,
        numbers: {
          clients: nClients,
          events,
          p50Ms: ca.p50,
          p95Ms: ca.p95,
          p99Ms: ca.p99,
          maxMs: ca.max,
          fromSendP50Ms: sa.p50,
          fromSendP99Ms: sa.p99,
          floorP50Ms: cb.p50,
          floorP95Ms: cb.p95,
          floorP99Ms: cb.p99,
          floorFromSendP50Ms: sb.p50,
          floorFromSendP99Ms: sb.p99,
          ratioP50: round(ca.p50 / cb.p50, 2),
          ratioP99: round(ratio, 2),
        },
        details: {
          samplesMs: s.a.map((x) => round(x.fromAt)),
          floorSamplesMs: s.b.map((x) => round(x.fromAt)),
        },
      },
    ];
  },
};
