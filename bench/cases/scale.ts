// `interlock status` and GET /api/pipelines with 1k and 10k pipelines × 4 traits: the latency must grow at most
// linearly with the number of pipelines, and `serve` must stay under 250 MB of RSS at 10k. The stores are seeded
// straight through the built SqliteStore (10k × 4 evaluator subprocesses would only measure process spawning).

import { httpOk } from '../../test/support/http-request.js';
import { rssOf } from '../../test/support/processes.js';
import type { ServerProcess } from '../../test/support/server-process.js';
import { type BenchCase, type Figure, interleave } from '../lib/figure.js';
import { code, mustRun, NODE, startServer } from '../lib/proc.js';
import { makeBenchProject, seedStore } from '../lib/project.js';
import { median, round } from '../lib/stats.js';

const TRAITS = 4;
const RSS_TARGET_MB = 250;
/** "At most linearly": ms per pipeline at the large size ≤ this × ms per pipeline at the small one (noise margin). */
const LINEAR_SLACK = 1.1;

interface SizeResult {
  pipelines: number;
  seedMs: number;
  statusMs: number[];
  statusJsonMs: number[];
  listMs: number[];
  serveStartMs: number;
  rssMb: number;
  peakRssMb: number;
}

const perPipeline = (ms: number, n: number) => ms / n;
const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const k = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));

interface Sized {
  n: number;
  root: string;
  last: string;
  seedMs: number;
}

export const scaleCase: BenchCase = {
  id: 'scale',
  title: 'status and GET /api/pipelines at 1k and 10k pipelines; serve RSS',
  async run(ctx): Promise<Figure[]> {
    const sizes = ctx.quick ? [100, 1000] : [1000, 10000];
    const statusPairs = ctx.quick ? 1 : 3;
    const listPairs = ctx.quick ? 3 : 7;
    const projects: Sized[] = [];
    for (const n of sizes) {
      const p = makeBenchProject(ctx.tmp(`scale-${n}`), { pipelines: n, traits: TRAITS, prefix: 's' });
      const seed = await seedStore(p.root);
      if (seed.pipelines !== n) throw new Error(`seeded ${seed.pipelines} pipelines, expected ${n}`);
      ctx.log(`scale ${k(n)}: seeded ${n} × ${TRAITS} results in ${fmtMs(seed.ms)}`);
      projects.push({ n, root: p.root, last: p.names[n - 1] as string, seedMs: seed.ms });
    }
    const [small, large] = projects as [Sized, Sized];

    // The two sizes run alternately, like candidate and floor elsewhere, so drift hits both alike.
    const status = (p: Sized, json: boolean) => async () => {
      const args = json ? [code.bin, 'status', '--json'] : [code.bin, 'status'];
      const r = await mustRun(NODE, args, { cwd: p.root, timeoutMs: 300_000 });
      if (!r.stdout.includes(p.last)) throw new Error(`status does not list ${p.last}:\n${r.stdout.slice(-500)}`);
      return r.ms;
    };
    await interleave(1, status(small, true), status(large, true)); // warm the page cache
    const table = await interleave(statusPairs, status(small, false), status(large, false));
    const json = await interleave(statusPairs, status(small, true), status(large, true));

    const start = (p: Sized) =>
      startServer(NODE, [code.bin, 'serve', '--addr', '127.0.0.1:0'], { cwd: p.root, timeoutMs: 300_000 });
    const servers = [await start(small), await start(large)] as [ServerProcess, ServerProcess];
    for (const s of servers) ctx.defer(() => s.stop());
    let list: { a: number[]; b: number[] };
    let rss: Array<{ rssMb: number; peakMb: number }>;
    try {
      const get = (s: ServerProcess, n: number) => async () => {
        const r = await httpOk(s.url, 'GET', '/api/pipelines');
        if (!Array.isArray(r.body) || r.body.length !== n) throw new Error(`GET /api/pipelines: not ${n} pipelines`);
        return r.ms; // to the last byte: the client's JSON.parse is not the server's latency
      };
      await interleave(1, get(servers[0], small.n), get(servers[1], large.n)); // JIT warm-up
      list = await interleave(listPairs, get(servers[0], small.n), get(servers[1], large.n));
      rss = servers.map((s) => rssOf(s.pid));
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
    const results: SizeResult[] = projects.map((p, i) => {
      const side = i === 0 ? 'a' : 'b';
      return {
        pipelines: p.n,
        seedMs: p.seedMs,
        statusMs: table[side],
        statusJsonMs: json[side],
        listMs: list[side],
        serveStartMs: (servers[i] as ServerProcess).startMs,
        rssMb: (rss[i] as { rssMb: number }).rssMb,
        peakRssMb: (rss[i] as { peakMb: number }).peakMb,
      };
    });
    for (const r of results) {
      ctx.log(
        `scale ${k(r.pipelines)}: status ${fmtMs(median(r.statusMs))} (--json ${fmtMs(median(r.statusJsonMs))}), GET /api/pipelines ${fmtMs(median(r.listMs))}, serve RSS ${r.rssMb.toFixed(0)} MB (peak ${r.peakRssMb.toFixed(0)} MB)`,
      );
    }
    ctx.note(
      `scale: each store was seeded with one PASS result per trait (${sizes.map(k).join(' and ')} pipelines × ${TRAITS}) written straight into SQLite through the built SqliteStore.saveEvaluation (with readiness and a decision record, as an evaluation writes them), not by running evaluator subprocesses.`,
    );

    const [rs, rl] = results as [SizeResult, SizeResult];
    const linear = (what: string, id: string, pick: (r: SizeResult) => number[]): Figure => {
      const s = median(pick(rs));
      const l = median(pick(rl));
      const ps = perPipeline(s, rs.pipelines);
      const pl = perPipeline(l, rl.pipelines);
      const growth = pl / ps;
      return {
        id,
        what: `${what}, ${k(rs.pipelines)} → ${k(rl.pipelines)} pipelines × ${TRAITS} traits`,
        measured: `${fmtMs(s)} → ${fmtMs(l)}; ${ps.toFixed(3)} → ${pl.toFixed(3)} ms/pipeline (×${growth.toFixed(2)})`,
        floor: '—',
        ratio: null,
        target: `at most linear (ms/pipeline ×≤ ${LINEAR_SLACK})`,
        met: growth <= LINEAR_SLACK,
        numbers: {
          smallPipelines: rs.pipelines,
          largePipelines: rl.pipelines,
          smallMs: round(s),
          largeMs: round(l),
          smallMsPerPipeline: round(ps, 4),
          largeMsPerPipeline: round(pl, 4),
          perPipelineGrowth: round(growth, 3),
        },
      };
    };
    // The human table costs what `status` costs beyond `status --json` (same loading, same reads): its own growth.
    const tableMs = (r: SizeResult) => [Math.max(1, median(r.statusMs) - median(r.statusJsonMs))];
    return [
      linear('`interlock status` (table) wall time', 'status-scale', (r) => r.statusMs),
      linear('`interlock status --json` wall time', 'status-json-scale', (r) => r.statusJsonMs),
      linear('table rendering of `status` (table − --json medians)', 'status-table-scale', tableMs),
      linear('`GET /api/pipelines` latency', 'list-scale', (r) => r.listMs),
      {
        id: 'serve-rss',
        what: `\`interlock serve\` RSS with ${k(rl.pipelines)} pipelines × ${TRAITS} traits`,
        measured: `peak ${rl.peakRssMb.toFixed(0)} MB (${rl.rssMb.toFixed(0)} MB after the reads; start-up ${fmtMs(rl.serveStartMs)})`,
        floor: '—',
        ratio: null,
        target: `≤ ${RSS_TARGET_MB} MB`,
        met: rl.peakRssMb <= RSS_TARGET_MB,
        numbers: {
          pipelines: rl.pipelines,
          peakRssMb: round(rl.peakRssMb, 1),
          rssMb: round(rl.rssMb, 1),
          serveStartMs: round(rl.serveStartMs),
        },
        details: {
          sizes: results.map((r) => ({
            ...r,
            seedMs: round(r.seedMs),
            statusMs: r.statusMs.map((x) => round(x)),
            statusJsonMs: r.statusJsonMs.map((x) => round(x)),
            listMs: r.listMs.map((x) => round(x)),
            serveStartMs: round(r.serveStartMs),
            rssMb: round(r.rssMb, 1),
            peakRssMb: round(r.peakRssMb, 1),
          })),
        },
      },
    ];
  },
};
