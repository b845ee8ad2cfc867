// Evaluations per second through the API: POST /api/pipelines/{id}/evaluate for 200 pipelines × 3 traits with as
// many requests in flight as the evaluator cap, against a bare Node script spawning the same 600 evaluator runs
// under the same cap (bench/floor/spawn-pool.mjs).
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { cpuMsOf } from '../../test/support/processes.js';
import { type BenchCase, type Figure, interleave, times } from '../lib/figure.js';
import { load, notReady } from '../lib/loadgen.js';
import { code, NODE, startServer, timeProcess } from '../lib/proc.js';
import { makeBenchProject, TRAIT_CONFIG } from '../lib/project.js';
import { median, round } from '../lib/stats.js';

const TARGET = 0.8;
const PIPELINES = 200;
const TRAITS = 3;

export const throughputCase: BenchCase = {
  id: 'throughput',
  title: 'evaluations/s through POST /evaluate vs raw spawn under the same cap',
  async run(ctx): Promise<Figure[]> {
    // The engine's default cap, written out so both sides use the same number.
    const cap = 4 * availableParallelism();
    const p = makeBenchProject(ctx.tmp('throughput'), {
      pipelines: PIPELINES,
      traits: TRAITS,
      prefix: 'tp',
      config: `provider: sqlite\nevaluatorConcurrency: ${cap}\n`,
    });
    const serve = await startServer(NODE, [code.bin, 'serve', '--addr', '127.0.0.1:0'], { cwd: p.root });
    ctx.defer(() => serve.stop());

    // Besides the rates: the CPU time each side's own process spends per evaluation (evaluators excluded).
    const apiCpu: number[] = [];
    const rawCpu: number[] = [];
    const failures: string[] = [];
    let apiFailed = 0;
    let rawFailed = 0;
    const api = async (count: number) => {
      const cpu0 = cpuMsOf(serve.pid);
      const r = await load({
        base: serve.url,
        method: 'POST',
        path: (i) => `/api/pipelines/${p.names[i]}/evaluate`,
        concurrency: cap,
        requests: count,
        check: notReady,
      });
      // A rare failed evaluation (a busy shared machine) is reported, not fatal; a pattern of them is.
      if (r.errors > count / 100) throw new Error(`POST evaluate: ${r.errors} of ${count} failed: ${r.firstError}`);
      if (r.errors) failures.push(`serve: ${r.errors} of ${count} requests failed, first: ${r.firstError}`);
      apiFailed += r.errors;
      apiCpu.push((cpuMsOf(serve.pid) - cpu0) / (count * TRAITS));
      return (count * TRAITS * 1000) / r.elapsedMs;
    };
    const raw = async (count: number) => {
      const r = await timeProcess(
        NODE,
        [join(code.floor, 'spawn-pool.mjs'), String(cap), String(count), JSON.stringify(TRAIT_CONFIG), ...p.evaluators],
        { cwd: p.root },
      );
      if (r.code !== 0 && r.code !== 1) throw new Error(`spawn-pool.mjs exited ${r.code}: ${r.stderr.slice(-1000)}`);
      const out = JSON.parse(r.stdout) as { evaluations: number; ms: number; cpuMs: number; failed: number };
      if (out.failed > out.evaluations / 100) throw new Error(`spawn-pool.mjs: ${out.failed} evaluations failed`);
      if (out.failed) failures.push(`floor: ${out.failed} of ${out.evaluations} evaluations failed`);
      rawFailed += out.failed;
      rawCpu.push(out.cpuMs / out.evaluations);
      return (out.evaluations * 1000) / out.ms;
    };
    await interleave(
      1,
      () => api(20),
      () => raw(20),
    ); // warm-up (first evaluations write their first results)
    const rounds = ctx.quick ? 1 : 5;
    apiCpu.length = 0;
    rawCpu.length = 0;
    apiFailed = 0;
    rawFailed = 0;
    failures.length = 0;
    const s = await interleave(
      rounds,
      () => api(PIPELINES),
      () => raw(PIPELINES),
    );
    const a = median(s.a);
    const b = median(s.b);
    const ratio = a / b;
    const cpuA = median(apiCpu);
    const cpuB = median(rawCpu);
    ctx.log(`evaluations/s API ${a.toFixed(0)}, raw spawn ${b.toFixed(0)} → ${times(ratio)}`);
    return [
      {
        id: 'throughput',
        what: `evaluations/s, ${PIPELINES} pipelines × ${TRAITS} traits via POST …/evaluate (${cap} in flight = the cap)`,
        measured: `${a.toFixed(0)} evaluations/s (${cpuA.toFixed(2)} ms CPU each in serve${apiFailed ? `; ${apiFailed} requests not READY` : ''})`,
        floor: `${b.toFixed(0)} evaluations/s (${cpuB.toFixed(2)} ms CPU each; raw spawn, cap ${cap})`,
        ratio: round(ratio, 3),
        target: `≥ ${TARGET}×`,
        met: ratio >= TARGET,
        numbers: {
          candidatePerSec: round(a, 1),
          floorPerSec: round(b, 1),
          ratio: round(ratio, 3),
          cap,
          rounds,
          candidateCpuMsPerEvaluation: round(cpuA, 3),
          floorCpuMsPerEvaluation: round(cpuB, 3),
          candidateFailedRequests: apiFailed,
          floorFailedEvaluations: rawFailed,
        },
        details: {
          candidatePerSec: s.a.map((x) => round(x, 1)),
          floorPerSec: s.b.map((x) => round(x, 1)),
          candidateCpuMsPerEvaluation: apiCpu.map((x) => round(x, 3)),
          floorCpuMsPerEvaluation: rawCpu.map((x) => round(x, 3)),
          failures,
        },
      },
    ];
  },
};
