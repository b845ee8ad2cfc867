// GET /metrics on a real `interlock serve` (the built CLI): the token like the API unless server.metricsPublic; the
// real output after an evaluation and a run passes Debian's `promtool check metrics`; a real Prometheus server
// scraping it every second sees interlock_pipeline_ready{pipeline="p"} go from 0 to 1.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { makeProject } from '../support/api-project.js';
import { expectErrorShape, useServers } from '../support/api-server.js';
import { api } from '../support/http-request.js';
import { outageStore } from '../support/outage-store.js';
import { waitFor } from '../support/poll.js';
import {
  type PrometheusServer,
  promtoolCheckMetrics,
  requirePrometheus,
  startPrometheus,
} from '../support/prometheus.js';
import { type ServeProcess, serveProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

const TOKEN = 'metrics-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

let work: { dir: string; cleanup: () => void };
const servers: ServeProcess[] = [];
let prometheus: PrometheusServer | undefined;

beforeAll(() => {
  requirePrometheus();
  work = tempDir('interlock-metrics-e2e-');
});
afterEach(async () => {
  await prometheus?.stop();
  prometheus = undefined;
  for (const s of servers.splice(0)) {
    if (s.child.exitCode === null) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  }
});
afterAll(() => work?.cleanup());

let n = 0;
async function serve(config = ''): Promise<ServeProcess> {
  const root = makeProject(join(work.dir, `project-${++n}`), {
    config: `provider: sqlite\nserver:\n  addr: "127.0.0.1:0"\n${config}`,
  });
  const s = await serveProcess(root, ['--no-watch'], { INTERLOCK_API_TOKEN: TOKEN });
  servers.push(s);
  return s;
}

async function post(s: ServeProcess, path: string): Promise<{ status: number; body: Record<string, never> }> {
  const r = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: '{}',
  });
  return { status: r.status, body: (await r.json()) as Record<string, never> };
}

async function scrape(s: ServeProcess, headers: Record<string, string> = auth) {
  const r = await fetch(`${s.url}/metrics`, { headers });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
}

/** The value of one sample (`name{labels}` exactly as printed), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics on serve', () => {
  it('needs the token like the API; after an evaluation and a run, promtool finds the output valid', async () => {
    const s = await serve();
    const anonymous = await scrape(s, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).not.toContain('interlock_');

    expect((await post(s, '/api/pipelines/p/evaluate')).status).toBe(200);
    const run = await post(s, '/api/pipelines/p/run');
    expect(run.status).toBe(202);
    const runId = (run.body.run as { runId: string }).runId;
    await waitFor('the run to complete', 20_000, async () => {
      const r = await fetch(`${s.url}/api/runs/${runId}`, { headers: auth });
      return ((await r.json()) as { status: string }).status === 'COMPLETED';
    });

    const m = await scrape(s);
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    // The evaluation and the run's own evaluation, the trigger, the run's duration; state read at scrape time.
    expect(sample(m.text, 'interlock_evaluations_total{pipeline="p",source="api",outcome="READY"}')).toBe(2);
    expect(sample(m.text, 'interlock_triggers_total{pipeline="p",type="command",result="accepted"}')).toBe(1);
    expect(sample(m.text, 'interlock_run_duration_seconds_count{pipeline="p",status="COMPLETED"}')).toBe(1);
    expect(sample(m.text, 'interlock_evaluator_duration_seconds_count{pipeline="p",trait="a",status="PASS"}')).toBe(2);
    expect(sample(m.text, 'interlock_pipeline_ready{pipeline="p"}')).toBe(1);
    expect(sample(m.text, 'interlock_pipeline_ready{pipeline="no-trigger"}')).toBe(0);
    expect(sample(m.text, 'interlock_trait_state{pipeline="p",trait="a",state="PASS"}')).toBe(1);
    expect(sample(m.text, 'interlock_trait_ttl_remaining_seconds{pipeline="p",trait="a"}')).toBeGreaterThan(590);
    expect(sample(m.text, 'interlock_runs_active{pipeline="p"}')).toBe(0);
    expect(sample(m.text, 'interlock_store_operation_duration_seconds_count{op="saveEvaluation"}')).toBe(2);
    expect(m.text).toMatch(/^interlock_build_info\{version="[^"]+"\} 1$/m);
    expect(m.text).toMatch(/^process_cpu_seconds_total /m);
    expect(m.text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(m.text).not.toContain(runId);

    const check = promtoolCheckMetrics(m.text);
    expect(check.output).toBe('');
    expect(check.status).toBe(0);
    // promtool is not vacuous: a counter without _total and a malformed line are reported.
    const broken = promtoolCheckMetrics('# HELP x_count c\n# TYPE x_count counter\nx_count 1\n');
    expect(broken.output).toMatch(/counter metrics should have "_total" suffix/);
    expect(promtoolCheckMetrics('interlock_x{ 1\n').status).not.toBe(0);
  }, 60_000);

  it('server.metricsPublic: /metrics answers without the token; the API still needs it', async () => {
    const s = await serve('  metricsPublic: true\n');
    const m = await scrape(s, {});
    expect(m.status).toBe(200);
    expect(m.text).toContain('interlock_pipeline_ready{pipeline="p"} 0');
    expect((await fetch(`${s.url}/api/pipelines`)).status).toBe(401);
    expect((await fetch(`${s.url}/api/pipelines`, { headers: auth })).status).toBe(200);
  }, 60_000);

  it('a real Prometheus scraping serve every second sees interlock_pipeline_ready{pipeline="p"} go 0 → 1', async () => {
    const s = await serve();
    prometheus = await startPrometheus({ target: new URL(s.url).host, token: TOKEN });
    const p = prometheus;
    const ready = async () => (await p.query('interlock_pipeline_ready{pipeline="p"}'))[0]?.value[1];
    await waitFor(`prometheus to scrape p as not ready (${p.output()})`, 30_000, async () => (await ready()) === '0');
    const up = await p.query('up{job="interlock"}');
    expect(up.map((r) => r.value[1])).toEqual(['1']);

    expect((await post(s, '/api/pipelines/p/evaluate')).status).toBe(200);
    await waitFor('prometheus to scrape p as ready', 30_000, async () => (await ready()) === '1');
    const evaluations = await p.query('interlock_evaluations_total{pipeline="p",outcome="READY"}');
    expect(evaluations.map((r) => [r.metric.source, r.value[1]])).toEqual([['api', '1']]);
  }, 90_000);
});

describe('GET /metrics while the store is out', () => {
  const { dir, start } = useServers('interlock-metrics-outage-');

  it('answers 503 STORE_UNAVAILABLE, never gauges it could not read; back up → 200 again', async () => {
    const root = makeProject(dir());
    const flaky = outageStore(new SqliteStore({ path: join(root, '.interlock', 'state.db') }));
    const s = await start(root, { store: flaky.store, metrics: true });
    expect((await api(s.url, 'GET', '/metrics')).text).toContain('interlock_pipeline_ready{pipeline="p"} 0');
    flaky.down = true;
    const r = await api(s.url, 'GET', '/metrics');
    expect(r.status).toBe(503);
    expectErrorShape(r);
    expect(r.body.error.code).toBe('STORE_UNAVAILABLE');
    expect(r.text).not.toContain('interlock_');
    flaky.down = false;
    const back = await api(s.url, 'GET', '/metrics');
    expect(back.status).toBe(200);
    // The failed scrape's store reads were timed too (the wrapper sits above the outage).
    expect(back.text).toMatch(/^interlock_store_operation_duration_seconds_count\{op="getTraitResults"\} \d+$/m);
  });

  it('an in-process server without metrics answers 404', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(s.url, 'GET', '/metrics');
    expect(r.status).toBe(404);
    expectErrorShape(r);
  });
});
