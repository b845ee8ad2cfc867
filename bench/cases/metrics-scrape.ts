// GET /metrics on a real `interlock serve` with 1,000 pipelines × 4 traits, each evaluated once (results seeded
// through the built SqliteStore, the same write an evaluation makes): time of a scrape, from sending the request to
// its last byte, on a fresh connection, and the body's size. The floor is a bare node:http server answering a
// prom-client registry of the same size (bench/floor/metrics-server.mjs: the same state gauges, set from memory on
// every scrape, no store read); scrapes of the two alternate. GET /api/health on the same serve is recorded too.
import { join } from 'node:path';
import { raw } from '../../test/support/http-request.js';
import { type BenchCase, type Figure, interleave } from '../lib/figure.js';
import { benchEnv, code, NODE, startServer } from '../lib/proc.js';
import { makeBenchProject, seedStore } from '../lib/project.js';
import { Histogram, median, round } from '../lib/stats.js';

const TRAITS = 4;
const P99_TARGET_MS = 50;

async function scrape(base: string, path: string): Promise<{ ms: number; bytes: number; text: string }> {
  const r = await raw(base, { path, timeoutMs: 30_000 });
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text.slice(0, 300)}`);
  return { ms: r.ms, bytes: Buffer.byteLength(r.text), text: r.text };
}

const seriesOf = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;

export const metricsScrapeCase: BenchCase = {
  id: 'metrics-scrape',
  title: 'GET /metrics on serve with 1,000 pipelines × 4 traits',
  async run(ctx): Promise<Figure[]> {
    const pipelines = ctx.quick ? 50 : 1000;
    const scrapes = ctx.quick ? 10 : 50;
    const warmup = ctx.quick ? 2 : 5;
    const p = makeBenchProject(ctx.tmp('metrics'), { pipelines, traits: TRAITS, prefix: 'm' });
    const seed = await seedStore(p.root);
    if (seed.pipelines !== pipelines) throw new Error(`seeded ${seed.pipelines} pipelines, expected ${pipelines}`);
    ctx.log(`metrics-scrape: ${pipelines} pipelines × ${TRAITS} traits seeded in ${(seed.ms / 1000).toFixed(1)} s`);
    const serve = await startServer(NODE, [code.bin, 'serve', '--addr', '127.0.0.1:0'], {
      cwd: p.root,
      timeoutMs: 300_000,
    });
    ctx.defer(() => serve.stop());
    const floor = await startServer(NODE, [join(code.floor, 'metrics-server.mjs')], {
      cwd: p.root,
      env: benchEnv({ PIPELINES: String(pipelines), TRAITS: String(TRAITS) }),
    });
    ctx.defer(() => floor.stop());

    // Every pipeline READY and every trait PASS in the candidate's scrape: it did read the seeded store.
    const first = await scrape(serve.url, '/metrics');
    const readyLines = first.text.split('\n').filter((l) => l.startsWith('interlock_pipeline_ready{'));
    const ready = readyLines.filter((l) => l.endsWith(' 1')).length;
    const passLines = first.text
      .split('\n')
      .filter((l) => l.startsWith('interlock_trait_state{') && l.includes('state="PASS"') && l.endsWith(' 1'));
    if (readyLines.length !== pipelines || ready !== pipelines || passLines.length !== pipelines * TRAITS) {
      throw new Error(
        `GET /metrics shows ${ready}/${readyLines.length} pipelines ready and ${passLines.length} traits PASS, expected ${pipelines} and ${pipelines * TRAITS}`,
      );
    }
    for (let i = 0; i < warmup; i++) {
      await scrape(serve.url, '/metrics');
      await scrape(floor.url, '/metrics');
      await scrape(serve.url, '/api/health');
    }
    const bytes = { a: 0, b: 0 };
    const series = { a: seriesOf(first.text), b: 0 };
    const s = await interleave(
      scrapes,
      async () => {
        const r = await scrape(serve.url, '/metrics');
        bytes.a = r.bytes;
        return r.ms;
      },
      async () => {
        const r = await scrape(floor.url, '/metrics');
        bytes.b = r.bytes;
        series.b = seriesOf(r.text);
        return r.ms;
      },
    );
    const health: number[] = [];
    for (let i = 0; i < scrapes; i++) health.push((await scrape(serve.url, '/api/health')).ms);
    const ha = new Histogram();
    for (const x of s.a) ha.record(x);
    const hb = new Histogram();
    for (const x of s.b) hb.record(x);
    const a = ha.summary();
    const b = hb.summary();
    const hh = new Histogram();
    for (const x of health) hh.record(x);
    const h = hh.summary();
    const kb = (n: number) => `${(n / 1024).toFixed(0)} kB`;
    ctx.log(
      `metrics-scrape: p50 ${a.p50.toFixed(1)} ms, p99 ${a.p99.toFixed(1)} ms, ${kb(bytes.a)}; floor p50 ${b.p50.toFixed(1)} ms, p99 ${b.p99.toFixed(1)} ms; /api/health p50 ${h.p50.toFixed(1)} ms`,
    );
    ctx.note(
      `metrics-scrape: ${pipelines} pipelines × ${TRAITS} traits seeded through the built SqliteStore (one PASS result per trait, one decision each); ${scrapes} scrapes of serve and of the floor alternating after ${warmup} warm-up scrapes each, each on a fresh connection, timed to the last byte; floor = bare node:http + prom-client registry with the same state gauges (${series.b} series vs serve's ${series.a}), set from memory.`,
    );
    const ratio = a.p50 / b.p50;
    return [
      {
        id: 'metrics-scrape',
        what: `GET /metrics, ${pipelines} pipelines × ${TRAITS} traits (${kb(bytes.a)})`,
        measured: `p50 ${a.p50.toFixed(1)} ms, p95 ${ha.percentile(95).toFixed(1)} ms, p99 ${a.p99.toFixed(1)} ms`,
        floor: `p50 ${b.p50.toFixed(1)} ms, p99 ${b.p99.toFixed(1)} ms (prom-client, ${kb(bytes.b)})`,
        ratio: round(ratio, 2),
        target: `p99 ≤ ${P99_TARGET_MS} ms`,
        met: a.p99 <= P99_TARGET_MS,
        numbers: {
          pipelines,
          traits: TRAITS,
          scrapes,
          p50Ms: a.p50,
          p95Ms: round(ha.percentile(95), 3),
          p99Ms: a.p99,
          maxMs: a.max,
          bodyBytes: bytes.a,
          series: series.a,
          floorP50Ms: b.p50,
          floorP95Ms: round(hb.percentile(95), 3),
          floorP99Ms: b.p99,
          floorBodyBytes: bytes.b,
          floorSeries: series.b,
          healthP50Ms: h.p50,
          healthP99Ms: h.p99,
          ratioP50: round(ratio, 2),
          ratioP99: round(a.p99 / b.p99, 2),
          seedSeconds: round(seed.ms / 1000, 1),
        },
        details: {
          samplesMs: s.a.map((x) => round(x)),
          floorSamplesMs: s.b.map((x) => round(x)),
          healthMedianMs: round(median(health)),
        },
      },
    ];
  },
};
