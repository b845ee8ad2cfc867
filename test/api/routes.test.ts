// HTTP API through a real listening server: every route's happy path and its error statuses.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { makeProject } from '../support/api-project.js';
import { expectErrorShape, useServers, waitForRun } from '../support/api-server.js';
import { api, raw } from '../support/http-request.js';
import { cli } from '../support/run-cli.js';
import { fired, RECORD_TRIGGER } from '../support/trigger-recorder.js';

const { dir, start, cleanup } = useServers();

/** A local orchestrator stand-in: answers 200 to every request and counts them. */
async function orchestrator(): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(String(req.headers['x-interlock-run-id']));
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"dag_run_id":"x"}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

describe('GET /api/health', () => {
  it('200 {"status":"ok"}', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(s.url, 'GET', '/api/health');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
    expect(r.headers['content-type']).toContain('application/json');
  });
});

describe('pipelines', () => {
  it('GET /api/pipelines lists every pipeline by name, with its origin', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(s.url, 'GET', '/api/pipelines');
    expect(r.status).toBe(200);
    expect(r.body.map((p: { name: string }) => p.name)).toEqual(['no-trigger', 'p']);
    expect(r.body[1]).toMatchObject({ name: 'p', archetype: 'gate', origin: 'yaml', source: 'pipelines/p.yaml' });
    expect(r.body[1].traits[0]).toMatchObject({ type: 'a', required: true, evaluatorRef: 'pass' });
  });

  it('GET /api/pipelines/{id}: 200, unknown → 404 PIPELINE_NOT_FOUND', async () => {
    const s = await start(makeProject(dir()));
    const ok = await api(s.url, 'GET', '/api/pipelines/p');
    expect(ok.status).toBe(200);
    expect(ok.body.trigger).toEqual({ type: 'command', command: 'echo $INTERLOCK_RUN_ID >> fired.log' });
    const missing = await api(s.url, 'GET', '/api/pipelines/nope');
    expect(missing.status).toBe(404);
    expectErrorShape(missing);
    expect(missing.body.error.code).toBe('PIPELINE_NOT_FOUND');
    expect(missing.body.error.message).toContain("unknown pipeline 'nope'");
  });

  it(`literal credentials in a trigger are masked in the view; \${VAR} references are shown`, async () => {
    const s = await start(
      makeProject(dir(), {
        trigger: `trigger:\n  type: http\n  url: https://u:hunter22@airflow.example.com/api\n  headers:\n    Authorization: "Bearer s3cr3t-literal"\n    X-Api-Key: "\${API_KEY}"\n    X-Trace: on\n`,
      }),
    );
    const r = await api(s.url, 'GET', '/api/pipelines/p');
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('s3cr3t-literal');
    expect(r.text).not.toContain('hunter22');
    expect(r.body.trigger.headers).toEqual({ Authorization: '***', 'X-Api-Key': `\${API_KEY}`, 'X-Trace': 'on' });
    expect(r.body.trigger.url).toBe('https://u:***@airflow.example.com/api');
  });
});

describe('evaluate, readiness, traits', () => {
  it('POST evaluate: READY, recorded with source api — the same records the CLI writes (source cli)', async () => {
    const root = makeProject(dir());
    const s = await start(root);
    const r = await api(s.url, 'POST', '/api/pipelines/p/evaluate');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ pipeline: 'p', outcome: 'READY' });
    expect(r.body.readiness.traits[0]).toMatchObject({ trait: 'a', state: 'PASS' });
    const c = await cli(['evaluate', 'p', '--json'], { cwd: root });
    expect(c.code, c.stderr).toBe(0);
    const fromCli = JSON.parse(c.stdout);
    // The same JSON shape from both adapters.
    expect(Object.keys(fromCli).sort()).toEqual(Object.keys(r.body).sort());
    const h = await api(s.url, 'GET', '/api/pipelines/p/history');
    const decisions = h.body.filter((e: { type: string }) => e.type === 'decision');
    expect(decisions.map((d: { source: string }) => d.source)).toEqual(['cli', 'api']);
    expect(decisions[1].id).toBe(r.body.decisionId);
    expect(Object.keys(decisions[0]).sort()).toEqual(Object.keys(decisions[1]).sort());
  });

  it('POST evaluate: NOT_READY is still 200 (an answer, not an error), with the blocking traits', async () => {
    const s = await start(makeProject(dir(), { evaluator: 'fail' }));
    const r = await api(s.url, 'POST', '/api/pipelines/p/evaluate');
    expect(r.status).toBe(200);
    expect(r.body.outcome).toBe('NOT_READY');
    expect(r.body.readiness.blocking[0]).toMatchObject({ trait: 'a', reasonCode: 'EVALUATOR_FAIL' });
    expect((await api(s.url, 'POST', '/api/pipelines/nope/evaluate')).status).toBe(404);
  });

  it('GET readiness: never evaluated → NOT_READY with a STALE trait; after evaluate → READY; 404 unknown', async () => {
    const s = await start(makeProject(dir()));
    const before = await api(s.url, 'GET', '/api/pipelines/p/readiness');
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ pipeline: 'p', outcome: 'NOT_READY', lastEvaluatedAt: null });
    expect(before.body.traits[0]).toMatchObject({ trait: 'a', state: 'STALE', result: null });
    await api(s.url, 'POST', '/api/pipelines/p/evaluate');
    const after = await api(s.url, 'GET', '/api/pipelines/p/readiness');
    expect(after.body).toMatchObject({ outcome: 'READY', lastOutcome: 'READY' });
    expect(after.body.traits[0].ttlLeftMs).toBeGreaterThan(0);
    expect((await api(s.url, 'GET', '/api/pipelines/nope/readiness')).status).toBe(404);
  });

  it('GET traits: [] before any evaluation, then the results; GET traits/{type}: 200, or 404', async () => {
    const s = await start(makeProject(dir()));
    const empty = await api(s.url, 'GET', '/api/pipelines/p/traits');
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual([]);
    const noResult = await api(s.url, 'GET', '/api/pipelines/p/traits/a');
    expect(noResult.status).toBe(404);
    expect(noResult.body.error.code).toBe('TRAIT_NOT_FOUND');
    await api(s.url, 'POST', '/api/pipelines/p/evaluate');
    const all = await api(s.url, 'GET', '/api/pipelines/p/traits');
    expect(all.body).toHaveLength(1);
    expect(all.body[0]).toMatchObject({ trait: 'a', status: 'PASS', state: 'PASS', required: true });
    const one = await api(s.url, 'GET', '/api/pipelines/p/traits/a');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ pipeline: 'p', trait: 'a', value: { rows: 42 } });
    const unknown = await api(s.url, 'GET', '/api/pipelines/p/traits/zzz');
    expect(unknown.status).toBe(404);
    expectErrorShape(unknown);
    expect(unknown.body.error.message).toContain("has no trait 'zzz'");
    expect((await api(s.url, 'GET', '/api/pipelines/nope/traits')).status).toBe(404);
    expect((await api(s.url, 'GET', '/api/pipelines/nope/traits/a')).status).toBe(404);
  });
});

describe('POST /api/pipelines/{id}/run', () => {
  it('READY → 202 with the TRIGGERING run and a Location; the trigger runs once; final state at GET /api/runs/{id}', async () => {
    const root = makeProject(dir());
    const s = await start(root);
    const r = await api(s.url, 'POST', '/api/pipelines/p/run');
    expect(r.status, r.text).toBe(202);
    expect(r.body.run).toMatchObject({ pipeline: 'p', status: 'TRIGGERING', version: 2, source: 'api' });
    expect(r.body.readiness.outcome).toBe('READY');
    expect(r.headers.location).toBe(`/api/runs/${r.body.run.runId}`);
    const done = await waitForRun(s.url, r.body.run.runId, ['COMPLETED', 'FAILED']);
    // PENDING v1 → TRIGGERING v2 → its command's process recorded v3 → COMPLETED v4
    expect(done.body).toMatchObject({ status: 'COMPLETED', version: 4, triggerType: 'command' });
    expect(done.body.job).toMatchObject({ pgid: expect.any(Number), host: expect.any(String) });
    expect(fired(root)).toEqual([r.body.run.runId]);
    // The CLI sees the same run (one store, one set of records).
    const c = await cli(['runs', '--id', r.body.run.runId, '--json'], { cwd: root });
    expect(JSON.parse(c.stdout)).toMatchObject({ runId: r.body.run.runId, status: 'COMPLETED', source: 'api' });
  });

  it('NOT_READY → 412 listing the blocking traits with reasons; the run is BLOCKED and nothing fired', async () => {
    const root = makeProject(dir(), { evaluator: 'fail' });
    const s = await start(root);
    const r = await api(s.url, 'POST', '/api/pipelines/p/run');
    expect(r.status).toBe(412);
    expectErrorShape(r);
    expect(r.body.error.code).toBe('NOT_READY');
    expect(r.body.error.details.blocking).toEqual([
      {
        trait: 'a',
        state: 'FAIL',
        reasonCode: 'EVALUATOR_FAIL',
        reason: 'upstream partition 2024-01-01 missing',
      },
    ]);
    const run = await api(s.url, 'GET', `/api/runs/${r.body.error.details.runId}`);
    expect(run.body.status).toBe('BLOCKED');
    expect(fired(root)).toEqual([]);
  });

  it('another run active → 409 ALREADY_RUNNING with the active runId', async () => {
    const root = makeProject(dir(), {
      trigger: 'trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log; sleep 1.5"\n',
    });
    const s = await start(root);
    const first = await api(s.url, 'POST', '/api/pipelines/p/run');
    expect(first.status).toBe(202);
    const second = await api(s.url, 'POST', '/api/pipelines/p/run');
    expect(second.status).toBe(409);
    expectErrorShape(second);
    expect(second.body.error.code).toBe('ALREADY_RUNNING');
    expect(second.body.error.details.runId).toBe(first.body.run.runId);
    await waitForRun(s.url, first.body.run.runId, ['COMPLETED']);
  });

  it('no trigger → 400 NO_TRIGGER; unknown pipeline → 404; GET on the run route → 405', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(s.url, 'POST', '/api/pipelines/no-trigger/run');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('NO_TRIGGER');
    expect((await api(s.url, 'POST', '/api/pipelines/nope/run')).status).toBe(404);
    expect((await api(s.url, 'GET', '/api/pipelines/p/run')).status).toBe(405);
  });

  it(`a trigger needing an unset \${VAR} → 400 TRIGGER_ENV_MISSING before any run exists`, async () => {
    delete process.env.INTERLOCK_TEST_UNSET_VAR;
    const s = await start(
      makeProject(dir(), {
        trigger: `trigger:\n  type: http\n  url: "https://example.invalid/\${INTERLOCK_TEST_UNSET_VAR}"\n`,
      }),
    );
    const r = await api(s.url, 'POST', '/api/pipelines/p/run');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('TRIGGER_ENV_MISSING');
    expect((await api(s.url, 'GET', '/api/pipelines/p/runs')).body).toEqual([]);
  });
});

describe('INVALID pipelines (a bad pipeline file blocks only the pipelines it defines)', () => {
  it('listed as INVALID with their problems; evaluate/run/readiness answer 400 and fire nothing; the rest work', async () => {
    const root = makeProject(dir(), {
      files: {
        'pipelines/typo.yaml': `name: typo\narchetype: gate\ntraits:\n  a: { evaluator: pass, timout: 5 }\n${RECORD_TRIGGER}`,
      },
    });
    const s = await start(root);
    expect(s.logs).toEqual([
      "invalid config in pipelines/typo.yaml: pipeline typo is INVALID (never evaluated or triggered); run 'interlock validate'",
    ]);
    const list = await api(s.url, 'GET', '/api/pipelines');
    expect(list.status).toBe(200);
    expect(list.body.map((p: { name: string }) => p.name)).toEqual(['no-trigger', 'p', 'typo']);
    const problem = expect.objectContaining({ file: 'pipelines/typo.yaml', line: 4, path: 'traits.a.timout' });
    expect(list.body[2]).toEqual({
      name: 'typo',
      status: 'INVALID',
      source: 'pipelines/typo.yaml',
      origin: 'yaml',
      problems: [problem],
    });
    expect((await api(s.url, 'GET', '/api/pipelines/typo')).body).toMatchObject({ status: 'INVALID' });
    for (const [method, path] of [
      ['POST', '/api/pipelines/typo/evaluate'],
      ['POST', '/api/pipelines/typo/run'],
      ['GET', '/api/pipelines/typo/readiness'],
    ] as const) {
      const r = await api(s.url, method, path);
      expect(r.status, path).toBe(400);
      expectErrorShape(r);
      expect(r.body.error.code).toBe('CONFIG_INVALID');
      expect(r.body.error.message).toContain("pipeline 'typo' is INVALID");
      expect(r.body.error.details.problems).toEqual([problem]);
    }
    // Its name stays taken: neither registered over it nor deleted.
    const reg = await api(s.url, 'POST', '/api/pipelines', { name: 'typo', archetype: 'gate' });
    expect(reg.status).toBe(409);
    expect((await api(s.url, 'DELETE', '/api/pipelines/typo')).status).toBe(409);
    // The valid pipeline still evaluates and runs.
    expect((await api(s.url, 'POST', '/api/pipelines/p/evaluate')).body.outcome).toBe('READY');
    const run = await api(s.url, 'POST', '/api/pipelines/p/run');
    expect(run.status).toBe(202);
    await waitForRun(s.url, run.body.run.runId, ['COMPLETED']);
    expect(fired(root)).toEqual([run.body.run.runId]);
  });
});

describe('runs and history', () => {
  it('GET runs: newest first, ?limit; bad limit → 400', async () => {
    const s = await start(makeProject(dir()));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api(s.url, 'POST', '/api/pipelines/p/run');
      ids.push(r.body.run.runId);
      await waitForRun(s.url, r.body.run.runId, ['COMPLETED']);
    }
    const all = await api(s.url, 'GET', '/api/pipelines/p/runs');
    expect(all.body.map((r: { runId: string }) => r.runId)).toEqual([...ids].reverse());
    const two = await api(s.url, 'GET', '/api/pipelines/p/runs?limit=2');
    expect(two.body).toHaveLength(2);
    for (const bad of ['limit=0', 'limit=abc', 'limit=1.5', 'limit=100000', 'before=yesterday']) {
      const r = await api(s.url, 'GET', `/api/pipelines/p/runs?${bad}`);
      expect(r.status, bad).toBe(400);
      expectErrorShape(r);
      expect(r.body.error.code).toBe('INVALID_REQUEST');
    }
    // The same time reader as `history --at`: the message names the accepted forms; epoch seconds work.
    const yesterday = await api(s.url, 'GET', '/api/pipelines/p/history?before=yesterday');
    expect(yesterday.status).toBe(400);
    expect(yesterday.body.error.message).toMatch(
      /^invalid query: before: expected a time: ISO 8601 .*epoch seconds or milliseconds/,
    );
    const lastSecond = Math.ceil(all.body[0].createdAt / 1000) + 1;
    const bySeconds = await api(s.url, 'GET', `/api/pipelines/p/runs?before=${lastSecond}`);
    expect(bySeconds.status).toBe(200);
    expect(bySeconds.body).toHaveLength(3);
    expect((await api(s.url, 'GET', '/api/pipelines/p/runs?before=1000000000')).body).toEqual([]);
    expect((await api(s.url, 'GET', '/api/pipelines/nope/runs')).status).toBe(404);
  });

  it('GET history: run transitions beside the decision, newest first, like `history --json`; ?before filters', async () => {
    const root = makeProject(dir());
    const s = await start(root);
    const r = await api(s.url, 'POST', '/api/pipelines/p/run');
    await waitForRun(s.url, r.body.run.runId, ['COMPLETED']);
    const h = await api(s.url, 'GET', '/api/pipelines/p/history');
    expect(h.status).toBe(200);
    expect(h.body.map((e: { type: string; to?: string }) => (e.type === 'run' ? e.to : e.type))).toEqual([
      'COMPLETED',
      'TRIGGERING', // the command's process recorded
      'TRIGGERING',
      'decision',
      'PENDING',
    ]);
    const c = await cli(['history', 'p', '--json'], { cwd: root });
    expect(JSON.parse(c.stdout)).toEqual(h.body);
    const none = await api(s.url, 'GET', '/api/pipelines/p/history?before=2000-01-01T00:00:00Z');
    expect(none.body).toEqual([]);
    expect((await api(s.url, 'GET', '/api/pipelines/nope/history')).status).toBe(404);
  });

  it('GET /api/runs/{runId}: 404 RUN_NOT_FOUND for an unknown run', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(s.url, 'GET', '/api/runs/01NOPE');
    expect(r.status).toBe(404);
    expectErrorShape(r);
    expect(r.body.error.code).toBe('RUN_NOT_FOUND');
  });
});

describe('completion callback and cancel', () => {
  async function runningRun() {
    const o = await orchestrator();
    const root = makeProject(dir(), {
      trigger: `trigger:\n  type: http\n  url: ${o.url}/dags/p/dagRuns\n  async: true\n`,
    });
    const s = await start(root);
    const r = await api(s.url, 'POST', '/api/pipelines/p/run');
    expect(r.status, r.text).toBe(202);
    const runId: string = r.body.run.runId;
    await waitForRun(s.url, runId, ['RUNNING']);
    expect(o.hits).toEqual([runId]);
    return { s, runId, root };
  }

  it('success → 200 COMPLETED with metadata; the same again → 200 unchanged; failed after → 409', async () => {
    const { s, runId } = await runningRun();
    const done = await api(s.url, 'POST', `/api/runs/${runId}/complete`, {
      status: 'success',
      metadata: { rows_processed: 150000 },
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      changed: true,
      run: { status: 'COMPLETED', metadata: { rows_processed: 150000 } },
    });
    const again = await api(s.url, 'POST', `/api/runs/${runId}/complete`, { status: 'success' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ changed: false, run: { status: 'COMPLETED' } });
    const conflict = await api(s.url, 'POST', `/api/runs/${runId}/complete`, { status: 'failed' });
    expect(conflict.status).toBe(409);
    expectErrorShape(conflict);
    expect(conflict.body.error.code).toBe('CONFLICT');
    expect((await api(s.url, 'GET', `/api/runs/${runId}`)).body.status).toBe('COMPLETED');
  });

  it('the CLI `complete` and the API callback share one code path: `failed` from the CLI, then `success` over HTTP → 409', async () => {
    const { s, runId, root } = await runningRun();
    const c = await cli(['complete', runId, '--status', 'failed', '--json'], { cwd: root });
    expect(c.code).toBe(0);
    const api409 = await api(s.url, 'POST', `/api/runs/${runId}/complete`, { status: 'success' });
    expect(api409.status).toBe(409);
    const same = await api(s.url, 'POST', `/api/runs/${runId}/complete`, { status: 'failed' });
    expect(same.body).toMatchObject({ changed: false, run: { status: 'FAILED' } });
  });

  it('bad callbacks: 404 unknown run, 400 bad status / unknown key / metadata not an object / not JSON, 415 not JSON', async () => {
    const { s, runId } = await runningRun();
    expect((await api(s.url, 'POST', '/api/runs/01NOPE/complete', { status: 'success' })).status).toBe(404);
    const cases: Array<[string, unknown]> = [
      ['status ok', { status: 'ok' }],
      ['missing status', {}],
      ['unknown key', { status: 'success', extra: 1 }],
      ['metadata array', { status: 'success', metadata: [1, 2] }],
      ['metadata string', { status: 'success', metadata: 'x' }],
      ['body array', [{ status: 'success' }]],
      ['body null', null],
    ];
    for (const [what, body] of cases) {
      const r = await api(s.url, 'POST', `/api/runs/${runId}/complete`, body);
      expect(r.status, what).toBe(400);
      expectErrorShape(r);
      expect(r.body.error.code, what).toBe('INVALID_REQUEST');
    }
    const unknownKey = await api(s.url, 'POST', `/api/runs/${runId}/complete`, { status: 'success', extra: 1 });
    expect(unknownKey.body.error.details.problems).toEqual([{ path: 'extra', message: "unknown key 'extra'" }]);
    const notJson = await raw(s.url, {
      method: 'POST',
      path: `/api/runs/${runId}/complete`,
      headers: { 'content-type': 'application/json' },
      body: '{"status":',
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toEqual({ code: 'INVALID_REQUEST', message: 'the request body is not valid JSON' });
    const text = await raw(s.url, {
      method: 'POST',
      path: `/api/runs/${runId}/complete`,
      headers: { 'content-type': 'text/plain' },
      body: 'status=success',
    });
    expect(text.status).toBe(415);
    expectErrorShape(text);
    expect(text.body.error).toEqual({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'the request body must be JSON, sent with Content-Type: application/json',
    });
    expect(text.headers.accept).toBe('application/json');
    // nothing changed
    expect((await api(s.url, 'GET', `/api/runs/${runId}`)).body.status).toBe('RUNNING');
  });

  it('cancel: 200 CANCELLED (frees the lock), again → 200 unchanged, after an end → 409, unknown → 404', async () => {
    const { s, runId } = await runningRun();
    const c = await api(s.url, 'POST', `/api/runs/${runId}/cancel`, { reason: 'operator said so' });
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ changed: true, run: { status: 'CANCELLED', reason: 'operator said so' } });
    const again = await api(s.url, 'POST', `/api/runs/${runId}/cancel`);
    expect(again.body).toMatchObject({ changed: false });
    const next = await api(s.url, 'POST', '/api/pipelines/p/run');
    expect(next.status).toBe(202);
    await waitForRun(s.url, next.body.run.runId, ['RUNNING']);
    await api(s.url, 'POST', `/api/runs/${next.body.run.runId}/complete`, { status: 'success' });
    const ended = await api(s.url, 'POST', `/api/runs/${next.body.run.runId}/cancel`);
    expect(ended.status).toBe(409);
    expect((await api(s.url, 'POST', '/api/runs/01NOPE/cancel')).status).toBe(404);
    expect((await api(s.url, 'POST', `/api/runs/${runId}/cancel`, { reason: 5 })).status).toBe(400);
  });
});

describe('limits and unknown routes', () => {
  it('a body over 1 MiB → 413, whether declared (Content-Length) or streamed (chunked)', async () => {
    const { s, runId } = await (async () => {
      const st = await start(makeProject(dir()));
      return { s: st, runId: '01NOPE' };
    })();
    const big = JSON.stringify({ status: 'success', metadata: { pad: 'x'.repeat(1024 * 1024) } });
    const declared = await raw(s.url, {
      method: 'POST',
      path: `/api/runs/${runId}/complete`,
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(declared.status).toBe(413);
    expectErrorShape(declared);
    expect(declared.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const chunked = await raw(s.url, {
      method: 'POST',
      path: '/api/pipelines',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: big,
      chunked: true,
    });
    expect(chunked.status).toBe(413);
    expect(chunked.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    // Just under the limit is read (and then judged on its content).
    const under = JSON.stringify({ status: 'success', metadata: { pad: 'x'.repeat(1000) } });
    const ok = await raw(s.url, {
      method: 'POST',
      path: `/api/runs/${runId}/complete`,
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: under,
      chunked: true,
    });
    expect(ok.status).toBe(404);
    expect((await api(s.url, 'GET', '/api/health')).status).toBe(200);
  });

  it('unknown routes → 404 JSON', async () => {
    const s = await start(makeProject(dir()));
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/api'],
      ['GET', '/api/pipelines/p/nope'],
      ['PUT', '/api/nope'],
      ['GET', '/api/health/'],
      ['GET', '/api/runs/'],
    ] as const) {
      const r = await api(s.url, method, path);
      expect(r.status, `${method} ${path}`).toBe(404);
      expectErrorShape(r);
      expect(r.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('a known path with a method it does not have → 405 JSON with Allow; nothing is done', async () => {
    const root = makeProject(dir());
    const s = await start(root);
    for (const [method, path, allow] of [
      ['PUT', '/api/pipelines/p', 'DELETE, GET, HEAD'],
      ['PATCH', '/api/pipelines', 'GET, HEAD, POST'],
      ['DELETE', '/api/runs/x', 'GET, HEAD'],
      ['GET', '/api/pipelines/p/run', 'POST'],
      ['PUT', '/api/runs/x/complete', 'POST'],
      ['POST', '/api/health', 'GET, HEAD'],
      ['OPTIONS', '/api/openapi.json', 'GET, HEAD'],
    ] as const) {
      const r = await api(s.url, method, path);
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.allow, `${method} ${path}`).toBe(allow);
      expectErrorShape(r);
      expect(r.body.error.code).toBe('METHOD_NOT_ALLOWED');
      expect(r.body.error.message).toContain(allow);
    }
    expect(fired(root)).toEqual([]);
  });
});

describe('GET /api/openapi.json', () => {
  it('is OpenAPI 3.1 with every route, generated from the request schemas', async () => {
    const s = await start(makeProject(dir()));
    const r = await api(s.url, 'GET', '/api/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    const ops = Object.entries(r.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(ops.sort()).toEqual(
      [
        'GET /api/health',
        'GET /metrics',
        'GET /api/openapi.json',
        'GET /api/pipelines',
        'POST /api/pipelines',
        'GET /api/pipelines/{id}',
        'DELETE /api/pipelines/{id}',
        'POST /api/pipelines/{id}/evaluate',
        'GET /api/pipelines/{id}/readiness',
        'GET /api/pipelines/{id}/traits',
        'GET /api/pipelines/{id}/traits/{type}',
        'GET /api/pipelines/{id}/why',
        'POST /api/pipelines/{id}/traits/{type}',
        'POST /api/pipelines/{id}/run',
        'GET /api/pipelines/{id}/runs',
        'GET /api/pipelines/{id}/history',
        'GET /api/pipelines/{id}/windows',
        'GET /api/windows/{key}',
        'GET /api/runs/{runId}',
        'POST /api/runs/{runId}/complete',
        'POST /api/runs/{runId}/cancel',
        'GET /api/events',
        'GET /api/status',
        'GET /api/session',
        'POST /api/session',
        'DELETE /api/session',
      ].sort(),
    );
    const schemas = r.body.components.schemas;
    // The completion body: exactly the fields the validator accepts, and no others.
    expect(schemas.CompletionCallback).toMatchObject({
      type: 'object',
      required: ['status'],
      additionalProperties: false,
      properties: { status: { enum: ['success', 'failed'] } },
    });
    // The pipeline document is the YAML loader's own schema.
    expect(Object.keys(schemas.PipelineDocument.properties).sort()).toEqual(
      ['archetype', 'description', 'name', 'tier', 'traits', 'trigger'].sort(),
    );
    expect(r.body.paths['/api/pipelines/{id}/run'].post.responses).toHaveProperty('412');
    expect(r.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});
