// Floor of the metrics-scrape benchmark: a bare node:http server answering GET /metrics from a prom-client registry
// of the same size as serve's for PIPELINES × TRAITS (trait_state 3 per trait, ttl_remaining 1 per trait,
// pipeline_ready and runs_active 1 per pipeline, one evaluations_total series per pipeline, the default process_* /
// nodejs_* metrics). The gauges are set afresh on every scrape (serve computes them at scrape time too), but from
// memory: no store read. The least any Node program with prom-client could do per scrape.
// Usage: PIPELINES=1000 TRAITS=4 node metrics-server.mjs   → prints "listening on http://127.0.0.1:<port>"
import { createServer } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

const P = Number(process.env.PIPELINES ?? 1000);
const T = Number(process.env.TRAITS ?? 4);
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const state = new Gauge({
  name: 'interlock_trait_state',
  help: 'trait state',
  labelNames: ['pipeline', 'trait', 'state'],
  registers: [registry],
});
const ttl = new Gauge({
  name: 'interlock_trait_ttl_remaining_seconds',
  help: 'ttl left',
  labelNames: ['pipeline', 'trait'],
  registers: [registry],
});
const ready = new Gauge({
  name: 'interlock_pipeline_ready',
  help: 'ready',
  labelNames: ['pipeline'],
  registers: [registry],
});
const runs = new Gauge({
  name: 'interlock_runs_active',
  help: 'runs',
  labelNames: ['pipeline'],
  registers: [registry],
});
const evals = new Counter({
  name: 'interlock_evaluations_total',
  help: 'decisions',
  labelNames: ['pipeline', 'source', 'outcome'],
  registers: [registry],
});
const names = Array.from({ length: P }, (_, i) => `m-${String(i + 1).padStart(5, '0')}`);
for (const pipeline of names) evals.inc({ pipeline, source: 'test', outcome: 'READY' });

function refresh() {
  state.reset();
  ttl.reset();
  ready.reset();
  runs.reset();
  const now = Date.now();
  for (const pipeline of names) {
    for (let t = 1; t <= T; t++) {
      const trait = `t${t}`;
      for (const s of ['PASS', 'FAIL', 'STALE']) state.set({ pipeline, trait, state: s }, s === 'PASS' ? 1 : 0);
      ttl.set({ pipeline, trait }, Math.max(0, (now + 86_400_000 - Date.now()) / 1000));
    }
    ready.set({ pipeline }, 1);
    runs.set({ pipeline }, 0);
  }
}

const server = createServer((req, res) => {
  if (req.method !== 'GET' || req.url !== '/metrics') {
    res.writeHead(404).end();
    return;
  }
  refresh();
  registry.metrics().then(
    (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
    () => res.writeHead(500).end(),
  );
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
