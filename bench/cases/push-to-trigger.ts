// Trait push → trigger fired: `interlock serve` with N pipelines, each with an OPEN window blocked on one pushed
// trait (`evaluator: push`) and an http trigger to a recorder in the bench process. For each pipeline we POST the
// push and time from sending it to the trigger request arriving at the recorder. The floor is the same two hops
// without Interlock (bench/floor/relay-server.mjs: on POST it sends one request to the recorder), pushes to the
// two alternating. On SQLite, and on Redis (a real redis-server).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeFiles } from '../../test/support/files.js';
import { raw } from '../../test/support/http-request.js';
import { startRedis } from '../../test/support/redis.js';
import type { ServerProcess } from '../../test/support/server-process.js';
import { type BenchCase, type CaseContext, type Figure, interleave } from '../lib/figure.js';
import { benchEnv, code, NODE, startServer } from '../lib/proc.js';
import { pipelineName } from '../lib/project.js';
import { Histogram, round } from '../lib/stats.js';
import { type Recorder, sleep, startRecorder, windowHeads } from '../lib/watch.js';

const P50_TARGET_MS = 50;
const P99_TARGET_MS = 250;
const TIMEOUT_MS = 10_000;

/** N pipelines with one pushed trait, a daily window that opened a minute ago (catch-up `latest` opens it). */
function writeProject(root: string, n: number, storeConfig: string, recorderUrl: string): string[] {
  const anchor = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString().replace('.000Z', 'Z');
  const files: Record<string, string> = {
    'interlock.yaml': storeConfig,
    'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: upstream\n',
  };
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = pipelineName('push', i);
    names.push(name);
    files[`pipelines/${name}.yaml`] = [
      `name: ${name}`,
      'archetype: gate',
      'traits:',
      '  upstream:',
      '    evaluator: push',
      'trigger:',
      '  type: http',
      `  url: ${recorderUrl}`,
      'schedules:',
      '  - name: daily',
      '    every: 1d',
      `    anchor: "${anchor}"`,
      '    catchup: latest',
      '',
    ].join('\n');
  }
  writeFiles(root, files);
  return names;
}

/** Waits until every pipeline has an OPEN window whose last decision is NOT_READY (blocked on the push). */
async function waitBlocked(root: string, names: string[], maxMs: number): Promise<number> {
  const t0 = performance.now();
  let last = '';
  while (performance.now() - t0 < maxMs) {
    const heads = await windowHeads(root);
    const blocked = new Set(
      heads.filter((w) => w.state === 'OPEN' && w.lastDecision?.outcome === 'NOT_READY').map((w) => w.pipeline),
    );
    if (names.every((n) => blocked.has(n))) return performance.now() - t0;
    last = `${blocked.size}/${names.length} blocked; states: ${[...new Set(heads.map((w) => w.state))].join(',')}`;
    await sleep(200);
  }
  throw new Error(`windows not all OPEN and blocked within ${maxMs} ms (${last})`);
}

const PUSH_BODY = JSON.stringify({ status: 'PASS', ttl: '10m' });

/** Sends one push and resolves with ms from sending it to the trigger request for `name` arriving. */
async function timedPush(base: string, path: string, rec: Recorder, name: string): Promise<number> {
  const arrived = rec.next(name, TIMEOUT_MS);
  const t0 = performance.now();
  const reply = raw(base, {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    body: PUSH_BODY,
    timeoutMs: TIMEOUT_MS,
  });
  const [hit, r] = await Promise.all([arrived, reply]);
  if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${r.text.slice(0, 300)}`);
  return hit.at - t0;
}

async function measure(ctx: CaseContext, store: 'sqlite' | 'redis', storeConfig: string): Promise<Figure> {
  const n = ctx.quick ? 40 : 200;
  const rec = await startRecorder(ctx);
  const root = ctx.tmp(`push-${store}`);
  const names = writeProject(root, n, storeConfig, rec.url);
  const serve = await startServer(NODE, [code.bin, 'serve', '--addr', '127.0.0.1:0'], {
    cwd: root,
    timeoutMs: 120_000,
  });
  ctx.defer(() => serve.stop());
  const floor: ServerProcess = await startServer(NODE, [join(code.floor, 'relay-server.mjs')], {
    cwd: root,
    env: benchEnv({ RECORDER_URL: rec.url }),
  });
  ctx.defer(() => floor.stop());
  try {
    const blockedMs = await waitBlocked(root, names, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${serve.output().slice(-3000)}`);
    });
    if (rec.hits.length) throw new Error(`${rec.hits.length} triggers fired before any push`);
    ctx.log(`push-to-trigger ${store}: ${n} windows OPEN and blocked ${(blockedMs / 1000).toFixed(1)} s after start`);

    // Warm-up of the floor only (the candidate's pipelines fire once each; its first push is a sample like the rest).
    for (let i = 0; i < 5; i++) await timedPush(floor.url, `/relay/warm-${i}`, rec, `warm-${i}`);
    let i = 0;
    let j = 0;
    const s = await interleave(
      n,
      async () => {
        const name = names[i++] as string;
        return timedPush(serve.url, `/api/pipelines/${name}/traits/upstream`, rec, name);
      },
      async () => {
        const name = `floor-${j++}`;
        return timedPush(floor.url, `/relay/${name}`, rec, name);
      },
    );
    // Exactly one trigger per window: a second one, if any, would have come by now.
    await sleep(500);
    const fired = rec.hits.filter((h) => h.key.startsWith('push-'));
    const keys = new Set(fired.map((h) => h.key));
    if (fired.length !== n || keys.size !== n) {
      throw new Error(`expected ${n} triggers, one per window; got ${fired.length} (${keys.size} distinct keys)`);
    }
    const ha = new Histogram();
    for (const x of s.a) ha.record(x);
    const hb = new Histogram();
    for (const x of s.b) hb.record(x);
    const a = ha.summary();
    const b = hb.summary();
    const ratio50 = a.p50 / b.p50;
    const ratio99 = a.p99 / b.p99;
    const label = store === 'sqlite' ? 'SQLite' : 'Redis (real redis-server)';
    ctx.log(
      `push-to-trigger ${store}: p50 ${a.p50.toFixed(1)} ms, p99 ${a.p99.toFixed(1)} ms; floor p50 ${b.p50.toFixed(2)} ms, p99 ${b.p99.toFixed(2)} ms`,
    );
    return {
      id: `push-to-trigger-${store}`,
      what: `trait push (POST …/traits/{type}) → http trigger request arrives, ${n} windows, ${label}`,
      measured: `p50 ${a.p50.toFixed(1)} ms, p99 ${a.p99.toFixed(1)} ms (max ${a.max.toFixed(1)} ms)`,
      floor: `p50 ${b.p50.toFixed(2)} ms, p99 ${b.p99.toFixed(2)} ms (relay-server.mjs)`,
      ratio: round(ratio50, 2),
      target: `p50 ≤ ${P50_TARGET_MS} ms, p99 ≤ ${P99_TARGET_MS} ms`,
      met: a.p50 <= P50_TARGET_MS && a.p99 <= P99_TARGET_MS,
      numbers: {
        pushes: n,
        p50Ms: a.p50,
        p90Ms: a.p90,
        p99Ms: a.p99,
        maxMs: a.max,
        floorP50Ms: b.p50,
        floorP99Ms: b.p99,
        ratioP50: round(ratio50, 2),
        ratioP99: round(ratio99, 2),
        triggers: fired.length,
      },
      details: {
        candidate: a,
        floor: b,
        candidateMs: s.a.map((x) => round(x, 2)),
        floorMs: s.b.map((x) => round(x, 2)),
        blockedAfterStartMs: round(blockedMs),
      },
    };
  } finally {
    await Promise.all([serve.stop(), floor.stop()]);
  }
}

export const pushToTriggerCase: BenchCase = {
  id: 'push-to-trigger',
  title: 'trait push → trigger fired through the watcher (SQLite, Redis) vs a bare two-hop relay',
  async run(ctx): Promise<Figure[]> {
    const figures = [await measure(ctx, 'sqlite', 'provider: sqlite\n')];
    const redis = await startRedis();
    ctx.defer(() => redis.stop());
    const prefix = `bench${Math.random().toString(36).slice(2, 8)}:`;
    figures.push(
      await measure(ctx, 'redis', `provider: redis\nredis:\n  addr: ${redis.addr}\n  keyPrefix: "${prefix}"\n`),
    );
    await redis.stop();
    ctx.note(
      'push-to-trigger: each pipeline has one window OPEN and blocked (decided NOT_READY on its `evaluator: push` trait, checked in the store) before the pushes start; one push per pipeline, one at a time, on a fresh connection; the time runs from sending the POST to the trigger request arriving at a recorder in the bench process. The floor relay receives the same POST and sends one request to the same recorder.',
    );
    return figures;
  },
};
