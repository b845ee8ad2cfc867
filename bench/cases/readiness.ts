// Cached readiness reads, GET /api/pipelines/{id}/readiness through `interlock serve`, against a bare node:http
// server answering the same JSON from the same SQLite store through the same built store and engine code
// (bench/floor/readiness-server.mjs). Both servers run side by side; load windows alternate between them.
import { join } from 'node:path';
import { httpOk } from '../../test/support/http-request.js';
import { type BenchCase, type Figure, interleave, times } from '../lib/figure.js';
import { type LoadResult, load, notReady } from '../lib/loadgen.js';
import { code, NODE, startServer } from '../lib/proc.js';
import { makeBenchProject } from '../lib/project.js';
import { Histogram, median, round } from '../lib/stats.js';

const TARGET = 0.7;
const PIPELINES = 20;
const CONCURRENCY = 8;

/** The readiness JSON without what depends on the instant it was computed. */
function comparable(body: unknown): string {
  return JSON.stringify(body, (k, v) => (k === 'ttlLeftMs' ? undefined : v));
}

export const readinessCase: BenchCase = {
  id: 'readiness',
  title: 'GET /api/pipelines/{id}/readiness: interlock serve vs a bare node:http server',
  async run(ctx): Promise<Figure[]> {
    const p = makeBenchProject(ctx.tmp('readiness'), { pipelines: PIPELINES, traits: 3, prefix: 'read' });
    const serve = await startServer(NODE, [code.bin, 'serve', '--addr', '127.0.0.1:0'], { cwd: p.root });
    ctx.defer(() => serve.stop());
    // Real evaluations through the API, so the store holds what the servers will read.
    const seeded = await load({
      base: serve.url,
      method: 'POST',
      path: (i) => `/api/pipelines/${p.names[i]}/evaluate`,
      concurrency: 4,
      requests: p.names.length,
      check: notReady,
    });
    if (seeded.errors) throw new Error(`seeding evaluations failed: ${seeded.firstError}`);
    const floor = await startServer(NODE, [join(code.floor, 'readiness-server.mjs')], { cwd: p.root });
    ctx.defer(() => floor.stop());

    const path = (i: number) => `/api/pipelines/${p.names[i % p.names.length]}/readiness`;
    const a0 = await httpOk(serve.url, 'GET', path(0));
    const b0 = await httpOk(floor.url, 'GET', path(0));
    if (a0.body?.outcome !== 'READY') throw new Error(`serve says ${a0.text.slice(0, 300)}`);
    if (comparable(a0.body) !== comparable(b0.body)) {
      throw new Error(`the floor does not answer the same JSON:\nserve: ${a0.text}\nfloor: ${b0.text}`);
    }

    // Many short windows rather than a few long ones: a burst of someone else's work on this shared machine then
    // spoils one window of one side, and the medians shrug it off.
    const window = ctx.quick ? 700 : 1500;
    const rounds = ctx.quick ? 3 : 12;
    const run = (base: string) => () => load({ base, path, concurrency: CONCURRENCY, durationMs: window });
    await interleave(1, run(serve.url), run(floor.url)); // JIT warm-up of both servers
    const s = await interleave(rounds, run(serve.url), run(floor.url));
    for (const r of [...s.a, ...s.b])
      if (r.errors) throw new Error(`readiness load: ${r.errors} errors: ${r.firstError}`);

    const rps = (rs: LoadResult[]) => median(rs.map((r) => r.rps));
    const merged = (rs: LoadResult[]) => rs.reduce((h, r) => h.merge(r.latency), new Histogram());
    const a = rps(s.a);
    const b = rps(s.b);
    const ha = merged(s.a).summary();
    const hb = merged(s.b).summary();
    const ratio = a / b;
    const clientCpu = median([...s.a, ...s.b].map((r) => r.clientCpuPct));
    ctx.log(`readiness serve ${a.toFixed(0)} req/s, floor ${b.toFixed(0)} req/s → ${times(ratio)}`);
    return [
      {
        id: 'readiness',
        what: `cached readiness reads via \`interlock serve\` (${CONCURRENCY} keep-alive connections)`,
        measured: `${a.toFixed(0)} req/s (p50 ${ha.p50.toFixed(2)} ms, p99 ${ha.p99.toFixed(2)} ms)`,
        floor: `${b.toFixed(0)} req/s (p50 ${hb.p50.toFixed(2)} ms, p99 ${hb.p99.toFixed(2)} ms; bare node:http)`,
        ratio: round(ratio, 3),
        target: `≥ ${TARGET}×`,
        met: ratio >= TARGET,
        numbers: {
          candidateRps: round(a, 1),
          floorRps: round(b, 1),
          ratio: round(ratio, 3),
          candidateP50Ms: ha.p50,
          candidateP99Ms: ha.p99,
          floorP50Ms: hb.p50,
          floorP99Ms: hb.p99,
          concurrency: CONCURRENCY,
          rounds,
          windowMs: window,
          loadGeneratorCpuPct: round(clientCpu, 1),
        },
        details: {
          candidateRps: s.a.map((r) => round(r.rps, 1)),
          floorRps: s.b.map((r) => round(r.rps, 1)),
          candidateLatency: ha,
          floorLatency: hb,
          pipelines: PIPELINES,
          sameJson: true,
        },
      },
    ];
  },
};
