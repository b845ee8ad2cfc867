// A builtin SQL check against the same check as a script evaluator: POST /api/pipelines/{id}/evaluate through one
// `interlock serve`, pipelines whose one trait is builtin:sql-row-count against pipelines whose one trait is a
// python3 script (sqlite3 module) counting the same table of the same SQLite file. Same server, store and cap;
// load windows alternate between the two sets. A second figure takes the store and HTTP out: the built
// EvaluatorPool evaluating the same two traits in this process, batch against batch.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeFiles } from '../../test/support/files.js';
import { type BenchCase, type Figure, interleave, times } from '../lib/figure.js';
import { type LoadResult, load, notReady } from '../lib/loadgen.js';
import { code, importDist, NODE, startServer } from '../lib/proc.js';
import { pipelineName } from '../lib/project.js';
import { Histogram, median, round } from '../lib/stats.js';

type RunnerModule = typeof import('../../src/evaluator/runner.js');
type Trait = import('../../src/core/types.js').ResolvedTrait;

const TARGET = 10;
const PIPELINES = 20;
const CAP = 8;
const ROWS = 1000;

/** The script side: the same count, min and value as builtin:sql-row-count, in the evaluator protocol. */
const ROW_COUNT_PY = `#!/usr/bin/env python3
# Bench evaluator: count(*) of a table in a SQLite file (read-only) against min, like builtin:sql-row-count.
import json, sqlite3, sys
c = json.load(sys.stdin)
db = sqlite3.connect('file:%s?mode=ro' % c['db'], uri=True)
n = db.execute('SELECT count(*) FROM "%s"' % c['table'].replace('"', '""')).fetchone()[0]
db.close()
ok = n >= c['min']
print(json.dumps({'status': 'PASS' if ok else 'FAIL', 'value': {'table': c['table'], 'rows': n, 'min': c['min']}}))
`;

export const builtinSqlCase: BenchCase = {
  id: 'builtin-sql',
  title: 'builtin:sql-row-count vs the same check as a python3 script evaluator, through POST /evaluate',
  async run(ctx): Promise<Figure[]> {
    const root = ctx.tmp('builtin-sql');
    writeFiles(root, {
      'interlock.yaml': `provider: sqlite\nevaluatorConcurrency: ${CAP}\nconnections:\n  wh: { url: "sqlite:warehouse.db" }\n`,
      'archetypes/gate.yaml':
        'name: gate\nrequiredTraits:\n  - type: rows\n    defaultTtl: 86400\n    defaultTimeout: 30\n',
      'evaluators/row-count.py': ROW_COUNT_PY,
    });
    chmodSync(join(root, 'evaluators/row-count.py'), 0o755);
    const db = new Database(join(root, 'warehouse.db'));
    db.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT)');
    const ins = db.prepare("INSERT INTO events (at) VALUES (datetime('now'))");
    db.transaction(() => {
      for (let i = 0; i < ROWS; i++) ins.run();
    })();
    db.close();
    mkdirSync(join(root, 'pipelines'), { recursive: true });
    const builtin: string[] = [];
    const script: string[] = [];
    for (let i = 0; i < PIPELINES; i++) {
      const b = pipelineName('bsql', i);
      const s = pipelineName('ssql', i);
      builtin.push(b);
      script.push(s);
      writeFileSync(
        join(root, 'pipelines', `${b}.yaml`),
        `name: ${b}\narchetype: gate\ntraits:\n  rows:\n    evaluator: builtin:sql-row-count\n    config: { connection: wh, table: events, min: 1 }\n`,
      );
      writeFileSync(
        join(root, 'pipelines', `${s}.yaml`),
        `name: ${s}\narchetype: gate\ntraits:\n  rows:\n    evaluator: ./evaluators/row-count.py\n    config: { db: warehouse.db, table: events, min: 1 }\n`,
      );
    }
    const pool = await evaluatorLevel(ctx, root);
    const serve = await startServer(NODE, [code.bin, 'serve', '--addr', '127.0.0.1:0'], { cwd: root });
    ctx.defer(() => serve.stop());

    const window = ctx.quick ? 700 : 2000;
    const rounds = ctx.quick ? 2 : 6;
    const run = (names: string[]) => () =>
      load({
        base: serve.url,
        method: 'POST',
        path: (i) => `/api/pipelines/${names[i % names.length]}/evaluate`,
        concurrency: CAP,
        durationMs: window,
        check: notReady,
      });
    await interleave(1, run(builtin), run(script)); // warm-up: the pool opens, JIT, python's page cache
    const s = await interleave(rounds, run(builtin), run(script));
    for (const r of [...s.a, ...s.b])
      if (r.errors) throw new Error(`evaluate load: ${r.errors} errors: ${r.firstError}`);

    const rps = (rs: LoadResult[]) => median(rs.map((r) => r.rps));
    const merged = (rs: LoadResult[]) => rs.reduce((h, r) => h.merge(r.latency), new Histogram());
    const a = rps(s.a);
    const b = rps(s.b);
    const ha = merged(s.a).summary();
    const hb = merged(s.b).summary();
    const ratio = a / b;
    ctx.log(`builtin-sql builtin ${a.toFixed(0)} eval/s, script ${b.toFixed(1)} eval/s → ${times(ratio)}`);
    ctx.note(
      `builtin-sql: ${PIPELINES}+${PIPELINES} pipelines of one trait each on one SQLite file of ${ROWS} rows, evaluatorConcurrency ${CAP}, ${CAP} requests in flight; each request is one evaluation stored (SQLite store) with its decision.`,
    );
    return [
      pool,
      {
        id: 'builtin-sql-serve',
        what: `builtin:sql-row-count evaluations via POST /evaluate (${CAP} in flight, each stored)`,
        measured: `${a.toFixed(0)} eval/s (p50 ${ha.p50.toFixed(2)} ms, p99 ${ha.p99.toFixed(2)} ms)`,
        floor: `${b.toFixed(1)} eval/s (p50 ${hb.p50.toFixed(1)} ms, p99 ${hb.p99.toFixed(1)} ms; python3 script)`,
        ratio: round(ratio, 2),
        target: `≥ ${TARGET}×`,
        met: ratio >= TARGET,
        numbers: {
          builtinRps: round(a, 1),
          scriptRps: round(b, 1),
          ratio: round(ratio, 2),
          builtinP50Ms: ha.p50,
          builtinP99Ms: ha.p99,
          scriptP50Ms: hb.p50,
          scriptP99Ms: hb.p99,
          concurrency: CAP,
          rounds,
          windowMs: window,
        },
        details: {
          builtinRps: s.a.map((r) => round(r.rps, 1)),
          scriptRps: s.b.map((r) => round(r.rps, 1)),
          builtinLatency: ha,
          scriptLatency: hb,
        },
      },
    ];
  },
};

/** The built EvaluatorPool (cap CAP) evaluating batches of the builtin trait and of the script trait, alternately. */
async function evaluatorLevel(ctx: Parameters<BenchCase['run']>[0], root: string): Promise<Figure> {
  const { EvaluatorPool } = (await importDist('evaluator/runner.js')) as RunnerModule;
  const pool = new EvaluatorPool(CAP);
  ctx.defer(() => pool.close());
  const base = { type: 'rows', required: true, timeoutSeconds: 30 };
  const builtinTrait: Trait = {
    ...base,
    builtin: 'sql-row-count',
    evaluatorRef: 'builtin:sql-row-count',
    config: { connection: 'wh', table: 'events', min: 1 },
  };
  const scriptTrait: Trait = {
    ...base,
    evaluator: join(root, 'evaluators/row-count.py'),
    config: { db: 'warehouse.db', table: 'events', min: 1 },
  };
  const ectx = {
    projectDir: root,
    pipeline: 'bench',
    clock: { now: () => Date.now() },
    env: process.env,
    connections: { wh: { url: 'sqlite:warehouse.db' } },
  };
  const batch = (t: Trait, n: number) => async () => {
    const started = performance.now();
    const rs = await pool.evaluateAll(
      Array.from({ length: n }, () => t),
      ectx,
    );
    const bad = rs.find((r) => r.status !== 'PASS' || r.value?.rows !== ROWS);
    if (bad)
      throw new Error(`${t.evaluatorRef ?? t.evaluator}: ${bad.status} ${bad.reasonCode ?? ''} ${bad.reason ?? ''}`);
    const h = new Histogram();
    for (const r of rs) h.record(r.durationMs ?? 0);
    return { rate: n / ((performance.now() - started) / 1000), h };
  };
  const nb = ctx.quick ? 400 : 2000;
  const ns = ctx.quick ? 16 : 64;
  const rounds = ctx.quick ? 2 : 5;
  await interleave(1, batch(builtinTrait, nb), batch(scriptTrait, ns));
  const s = await interleave(rounds, batch(builtinTrait, nb), batch(scriptTrait, ns));
  const a = median(s.a.map((r) => r.rate));
  const b = median(s.b.map((r) => r.rate));
  const ha = s.a.reduce((h, r) => h.merge(r.h), new Histogram()).summary();
  const hb = s.b.reduce((h, r) => h.merge(r.h), new Histogram()).summary();
  const ratio = a / b;
  ctx.log(
    `builtin-sql evaluator level: builtin ${a.toFixed(0)} eval/s, script ${b.toFixed(1)} eval/s → ${times(ratio)}`,
  );
  return {
    id: 'builtin-sql',
    what: `builtin:sql-row-count vs a python3 script, evaluator pool (cap ${CAP}), SQLite`,
    measured: `${a.toFixed(0)} eval/s (p50 ${ha.p50.toFixed(2)} ms, p99 ${ha.p99.toFixed(2)} ms)`,
    floor: `${b.toFixed(1)} eval/s (p50 ${hb.p50.toFixed(1)} ms, p99 ${hb.p99.toFixed(1)} ms; python3 script)`,
    ratio: round(ratio, 2),
    target: `≥ ${TARGET}×`,
    met: ratio >= TARGET,
    numbers: {
      builtinRps: round(a, 1),
      scriptRps: round(b, 1),
      ratio: round(ratio, 2),
      builtinP50Ms: ha.p50,
      builtinP99Ms: ha.p99,
      scriptP50Ms: hb.p50,
      scriptP99Ms: hb.p99,
      builtinBatch: nb,
      scriptBatch: ns,
      rounds,
    },
    details: { builtinRps: s.a.map((r) => round(r.rate, 1)), scriptRps: s.b.map((r) => round(r.rate, 1)) },
  };
}
