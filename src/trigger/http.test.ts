// http triggers against real local servers that check requests the way Airflow, Databricks, Glue and Step Functions do.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are the subject under test.
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  airflow,
  databricks,
  glue,
  type Handler,
  type MockService,
  startService,
  stepFunctions,
} from '../../test/fixtures/triggers/mock-services.js';
import type { HttpTriggerSpec } from '../core/types.js';
import { fireTrigger, type TriggerContext } from './index.js';

const RUN_ID = '01JTRIGGERTESTRUNID0000001';
const TOKEN = 'af-token-7f3c9e21b4d8a6c0';
const services: MockService[] = [];

async function serve(handler: Handler): Promise<MockService> {
  const s = await startService(handler);
  services.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

const ctx = (env: NodeJS.ProcessEnv = {}, extra: Partial<TriggerContext> = {}): TriggerContext => ({
  projectDir: '/nonexistent-not-used-by-http',
  pipeline: 'daily-sales-rollup',
  runId: RUN_ID,
  env,
  ...extra,
});

/** The seed's AWS urls are real hosts: keep everything after scheme+host, point scheme+host at the local server. */
const local = (seedUrl: string, s: MockService): string => {
  const u = new URL(seedUrl);
  return `${s.url}${seedUrl.slice(u.origin.length)}`;
};

describe('http trigger: the seed examples against faithful mock services', () => {
  it('Airflow: the seed YAML (bearer ${AIRFLOW_TOKEN}, no Content-Type) is accepted; conf and run id arrive', async () => {
    const s = await serve(airflow({ token: TOKEN, dags: ['my_pipeline'] }));
    const spec: HttpTriggerSpec = {
      type: 'http',
      method: 'POST',
      url: `${s.url}/api/v1/dags/my_pipeline/dagRuns`,
      headers: { Authorization: 'Bearer ${AIRFLOW_TOKEN}' },
      body: '{"conf":{"triggered_by":"interlock"}}',
    };
    const out = await fireTrigger(spec, ctx({ AIRFLOW_TOKEN: TOKEN }));
    expect(out).toMatchObject({ type: 'http', ok: true, async: true, httpStatus: 200, method: 'POST' });
    expect(out.error).toBeUndefined();
    expect(out.url).toBe(spec.url);
    expect(JSON.parse(out.bodyExcerpt!)).toMatchObject({
      dag_id: 'my_pipeline',
      state: 'queued',
      conf: { triggered_by: 'interlock' },
    });
    expect(s.requests).toHaveLength(1);
    const req = s.requests[0]!;
    expect(req.headers['x-interlock-run-id']).toBe(RUN_ID);
    // Without a window's run key, the run id is the key a platform deduplicates on.
    expect(req.headers['x-interlock-run-key']).toBe(RUN_ID);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('X-Interlock-Run-Key carries the given run key, and the window variables expand (the env cannot override them)', async () => {
    const s = await serve((_req, res) => res.writeHead(202).end());
    const window = {
      key: 'p@daily@2026-12-01T04:00:00.000Z',
      schedule: 'daily',
      openAt: Date.parse('2026-12-01T04:00:00Z'),
      date: '2026-12-01',
    };
    const spec: HttpTriggerSpec = {
      type: 'http',
      url: `${s.url}/runs/\${INTERLOCK_WINDOW_DATE}`,
      body: '{"k":"${INTERLOCK_RUN_KEY}","w":"${INTERLOCK_WINDOW}","s":"${INTERLOCK_WINDOW_START}","n":"${INTERLOCK_SCHEDULE}"}',
    };
    const env = { INTERLOCK_RUN_KEY: 'forged', INTERLOCK_WINDOW_DATE: '1999-01-01' };
    const out = await fireTrigger(spec, ctx(env, { runKey: `${window.key}#2`, window }));
    expect(out.ok).toBe(true);
    const req = s.requests[0]!;
    expect(req.headers['x-interlock-run-key']).toBe(`${window.key}#2`);
    expect(req.path).toBe('/runs/2026-12-01');
    expect(JSON.parse(req.body)).toEqual({
      k: `${window.key}#2`,
      w: window.key,
      s: '2026-12-01T04:00:00.000Z',
      n: 'daily',
    });
    // Without a window, the same trigger sends nothing (the parent's INTERLOCK_WINDOW_DATE does not count).
    const manual = await fireTrigger(spec, ctx(env));
    expect(manual).toMatchObject({ ok: false, requestSent: false, category: 'PERMANENT' });
    expect(manual.error).toContain("INTERLOCK_WINDOW_DATE is set only in a schedule window's runs");
    expect(s.requests).toHaveLength(1);
  });

  it('Airflow: ${INTERLOCK_RUN_ID} and ${INTERLOCK_PIPELINE} in the body expand (the env cannot override them)', async () => {
    const s = await serve(airflow({ token: TOKEN, dags: ['my_pipeline'] }));
    const out = await fireTrigger(
      {
        type: 'http',
        url: `${s.url}/api/v1/dags/my_pipeline/dagRuns`,
        headers: { Authorization: 'Bearer ${AIRFLOW_TOKEN}' },
        body: '{"dag_run_id":"interlock-${INTERLOCK_RUN_ID}","conf":{"run":"${INTERLOCK_RUN_ID}","pipeline":"${INTERLOCK_PIPELINE}"}}',
      },
      ctx({ AIRFLOW_TOKEN: TOKEN, INTERLOCK_RUN_ID: 'from-env', INTERLOCK_PIPELINE: 'from-env' }),
    );
    expect(out.ok).toBe(true);
    expect(JSON.parse(s.requests[0]!.body)).toEqual({
      dag_run_id: `interlock-${RUN_ID}`,
      conf: { run: RUN_ID, pipeline: 'daily-sales-rollup' },
    });
    // The run id is not a secret: it stays readable in the excerpt.
    expect(JSON.parse(out.bodyExcerpt!).dag_run_id).toBe(`interlock-${RUN_ID}`);
  });

  it('Airflow: a wrong token is a FAILED outcome with 401 and the problem excerpt', async () => {
    const s = await serve(airflow({ token: TOKEN, dags: ['my_pipeline'] }));
    const out = await fireTrigger(
      {
        type: 'http',
        url: `${s.url}/api/v1/dags/my_pipeline/dagRuns`,
        headers: { Authorization: 'Bearer ${AIRFLOW_TOKEN}' },
        body: '{}',
      },
      ctx({ AIRFLOW_TOKEN: 'not-the-token' }),
    );
    expect(out).toMatchObject({ ok: false, async: false, httpStatus: 401, error: 'HTTP 401 Unauthorized' });
    expect(out.bodyExcerpt).toContain('Invalid credentials');
  });

  it('Airflow: a body that is not JSON is rejected (400) and reported', async () => {
    const s = await serve(airflow({ token: TOKEN, dags: ['my_pipeline'] }));
    const out = await fireTrigger(
      {
        type: 'http',
        url: `${s.url}/api/v1/dags/my_pipeline/dagRuns`,
        headers: { Authorization: 'Bearer ${AIRFLOW_TOKEN}' },
        body: 'conf=1',
      },
      ctx({ AIRFLOW_TOKEN: TOKEN }),
    );
    expect(out).toMatchObject({ ok: false, httpStatus: 400 });
    expect(out.bodyExcerpt).toContain('not valid JSON');
  });

  it('a Content-Type set by the user wins over the JSON default, whatever its case', async () => {
    const s = await serve(airflow({ token: TOKEN, dags: ['my_pipeline'] }));
    const out = await fireTrigger(
      {
        type: 'http',
        url: `${s.url}/api/v1/dags/my_pipeline/dagRuns`,
        headers: { Authorization: 'Bearer ${AIRFLOW_TOKEN}', 'content-TYPE': 'text/plain' },
        body: '{"conf":{}}',
      },
      ctx({ AIRFLOW_TOKEN: TOKEN }),
    );
    // Airflow only takes JSON: the user's header was sent as written (one header, not two), and refused.
    expect(s.requests[0]!.headers['content-type']).toBe('text/plain');
    expect(out).toMatchObject({ ok: false, httpStatus: 415 });
  });

  it('Databricks: the seed body with numeric job_id → 200 {run_id}', async () => {
    const s = await serve(databricks({ token: 'dapi-0123456789abcdef', jobs: [12345] }));
    const spec: HttpTriggerSpec = {
      type: 'http',
      method: 'POST',
      url: local('https://workspace.databricks.com/api/2.1/jobs/run-now', s),
      // The seed omits auth; the real API needs a personal access token, so the test sends one.
      headers: { Authorization: 'Bearer ${DATABRICKS_TOKEN}' },
      body: '{"job_id": 12345}',
    };
    const out = await fireTrigger(spec, ctx({ DATABRICKS_TOKEN: 'dapi-0123456789abcdef' }));
    expect(out).toMatchObject({ ok: true, async: true, httpStatus: 200 });
    expect(JSON.parse(out.bodyExcerpt!)).toEqual({ run_id: expect.any(Number), number_in_job: expect.any(Number) });
    expect(s.requests[0]!.headers['x-interlock-run-id']).toBe(RUN_ID);
  });

  it('Databricks: a string job_id → 400 INVALID_PARAMETER_VALUE, FAILED', async () => {
    const s = await serve(databricks({ token: 'dapi-0123456789abcdef', jobs: [12345] }));
    const out = await fireTrigger(
      {
        type: 'http',
        url: `${s.url}/api/2.1/jobs/run-now`,
        headers: { Authorization: 'Bearer ${DATABRICKS_TOKEN}' },
        body: '{"job_id": "12345"}',
      },
      ctx({ DATABRICKS_TOKEN: 'dapi-0123456789abcdef' }),
    );
    expect(out).toMatchObject({ ok: false, httpStatus: 400, error: 'HTTP 400 Bad Request' });
    expect(JSON.parse(out.bodyExcerpt!).error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('AWS Glue: the seed headers and body → 200 {JobRunId}', async () => {
    const s = await serve(glue({ jobs: ['my-etl-job'] }));
    const spec: HttpTriggerSpec = {
      type: 'http',
      method: 'POST',
      url: local('https://glue.us-east-1.amazonaws.com', s),
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSGlue.StartJobRun' },
      body: '{"JobName": "my-etl-job"}',
    };
    const out = await fireTrigger(spec, ctx());
    expect(out).toMatchObject({ ok: true, async: true, httpStatus: 200 });
    expect(JSON.parse(out.bodyExcerpt!).JobRunId).toMatch(/^jr_[0-9a-f]{64}$/);
    const req = s.requests[0]!;
    expect(req).toMatchObject({ method: 'POST', path: '/' });
    expect(req.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(req.headers['x-interlock-run-id']).toBe(RUN_ID);
  });

  it('AWS Glue: a wrong X-Amz-Target → 400 UnknownOperationException, FAILED', async () => {
    const s = await serve(glue({ jobs: ['my-etl-job'] }));
    const out = await fireTrigger(
      {
        type: 'http',
        url: s.url,
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSGlue.StartJobRunn' },
        body: '{"JobName": "my-etl-job"}',
      },
      ctx(),
    );
    expect(out).toMatchObject({ ok: false, httpStatus: 400 });
    expect(JSON.parse(out.bodyExcerpt!)).toEqual({ __type: 'UnknownOperationException' });
  });

  it('AWS Step Functions: the seed headers and body → 200 {executionArn, startDate}', async () => {
    const s = await serve(stepFunctions());
    const spec: HttpTriggerSpec = {
      type: 'http',
      method: 'POST',
      url: local('https://states.us-east-1.amazonaws.com', s),
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AWSStepFunctions.StartExecution' },
      body: '{"stateMachineArn": "arn:aws:states:us-east-1:123456789:stateMachine:my-pipeline"}',
    };
    const out = await fireTrigger(spec, ctx());
    expect(out).toMatchObject({ ok: true, async: true, httpStatus: 200 });
    const body = JSON.parse(out.bodyExcerpt!);
    expect(body.executionArn).toMatch(/^arn:aws:states:us-east-1:123456789:execution:my-pipeline:/);
    expect(typeof body.startDate).toBe('number');
    expect(s.requests[0]!.headers['x-interlock-run-id']).toBe(RUN_ID);
  });

  it('async: false makes an accepted request a finished one', async () => {
    const s = await serve(stepFunctions());
    const out = await fireTrigger(
      {
        type: 'http',
        url: s.url,
        async: false,
        headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AWSStepFunctions.StartExecution' },
        body: '{"stateMachineArn": "arn:aws:states:us-east-1:123456789:stateMachine:my-pipeline"}',
      },
      ctx(),
    );
    expect(out).toMatchObject({ ok: true, async: false });
  });
});

describe('http trigger: failures are outcomes', () => {
  it.each([
    [500, 'Internal Server Error'],
    [404, 'Not Found'],
  ])('a %i is FAILED with the status and a body excerpt', async (status, text) => {
    const s = await serve((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(`upstream says ${status}`);
    });
    const out = await fireTrigger({ type: 'http', url: `${s.url}/hook` }, ctx());
    expect(out).toMatchObject({ ok: false, async: false, httpStatus: status, error: `HTTP ${status} ${text}` });
    expect(out.bodyExcerpt).toBe(`upstream says ${status}`);
  });

  it('keeps only the first 512 bytes of a large body, without reading all of it', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      // 8 MiB: far more than the trigger reads.
      const chunk = 'é'.repeat(32 * 1024);
      for (let i = 0; i < 128; i++) res.write(chunk);
      res.end();
    });
    const out = await fireTrigger({ type: 'http', url: s.url }, ctx());
    expect(out).toMatchObject({ ok: false, httpStatus: 503 });
    expect(Buffer.byteLength(out.bodyExcerpt!)).toBe(512);
    expect(out.bodyExcerpt).toBe('é'.repeat(256));
  });

  it('a hanging server → timedOut within timeout + 200 ms', async () => {
    const s = await serve(() => {});
    const t0 = performance.now();
    const out = await fireTrigger({ type: 'http', url: s.url, timeout: 0.3 }, ctx());
    const wall = performance.now() - t0;
    // Sent, then no answer: the target may have started the job (category UNKNOWN in run.ts).
    expect(out).toMatchObject({
      ok: false,
      timedOut: true,
      requestSent: true,
      error: 'no response within 0.3s; the request was sent, so the target may have started the job',
    });
    expect(wall).toBeGreaterThanOrEqual(290);
    expect(wall).toBeLessThan(500);
    expect(s.requests).toHaveLength(1);
  });

  it('a 2xx whose body then hangs is still accepted (the job was started) once the timeout ends the read', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"run_id": 7');
    });
    const out = await fireTrigger({ type: 'http', url: s.url, timeout: 0.3 }, ctx());
    expect(out).toMatchObject({ ok: true, async: true, httpStatus: 200, bodyExcerpt: '{"run_id": 7' });
    expect(out.durationMs).toBeLessThan(500);
  });

  it('a connection reset by the server → FAILED with the cause', async () => {
    const s = await serve((_req, _res, raw) => raw.socket.destroy());
    const out = await fireTrigger({ type: 'http', url: s.url, body: '{}' }, ctx());
    expect(out.ok).toBe(false);
    expect(out.timedOut).toBeUndefined();
    expect(out.error).toMatch(/^request failed: .*(other side closed|ECONNRESET|socket)/i);
    // The server had the request: whether it acted on it is unknown.
    expect(out.requestSent).toBe(true);
    expect(out.error).toContain('the request was sent');
  });

  it('a refused connection → FAILED with ECONNREFUSED', async () => {
    const s = await serve(() => {});
    const url = s.url;
    await s.close();
    const out = await fireTrigger({ type: 'http', url }, ctx());
    expect(out).toMatchObject({ ok: false, requestSent: false });
    expect(out.error).toContain('ECONNREFUSED');
  });

  it('a DNS failure → FAILED with ENOTFOUND', async () => {
    const out = await fireTrigger(
      { type: 'http', url: 'http://interlock-no-such-host.invalid/hook', timeout: 5 },
      ctx(),
    );
    expect(out.ok).toBe(false);
    expect(out.error).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it('a 302 is not followed: FAILED, and the target never sees the request', async () => {
    const elsewhere = await serve((_req, res) => res.end('ok'));
    const s = await serve((_req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/other` });
      res.end();
    });
    const out = await fireTrigger({ type: 'http', url: s.url, body: '{}' }, ctx());
    expect(out).toMatchObject({ ok: false, httpStatus: 302 });
    expect(out.error).toBe(`redirected (302) to ${elsewhere.url}/other; not followed`);
    expect(s.requests).toHaveLength(1);
    expect(elsewhere.connections).toBe(0);
  });

  it('an unset variable → FAILED and nothing is sent', async () => {
    const s = await serve(airflow({ token: TOKEN, dags: ['my_pipeline'] }));
    const out = await fireTrigger(
      {
        type: 'http',
        url: `${s.url}/api/v1/dags/my_pipeline/dagRuns`,
        headers: { Authorization: 'Bearer ${AIRFLOW_TOKEN}' },
        body: '{}',
      },
      ctx({}),
    );
    expect(out).toMatchObject({ ok: false, error: 'environment variable AIRFLOW_TOKEN is not set' });
    expect(out.httpStatus).toBeUndefined();
    expect(s.connections).toBe(0);
    expect(s.requests).toHaveLength(0);
  });

  it('an empty variable counts as unset; every missing one is named', async () => {
    const s = await serve(() => {});
    const out = await fireTrigger(
      { type: 'http', url: `${s.url}/\${DAG}`, headers: { Authorization: 'Bearer ${AIRFLOW_TOKEN}' } },
      ctx({ AIRFLOW_TOKEN: '' }),
    );
    expect(out.error).toBe('environment variable DAG is not set; environment variable AIRFLOW_TOKEN is empty');
    expect(s.connections).toBe(0);
  });

  it('ctx.signal aborts a request in flight', async () => {
    const s = await serve(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = performance.now();
    const out = await fireTrigger({ type: 'http', url: s.url, timeout: 10 }, ctx({}, { signal: ac.signal }));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(out.ok).toBe(false);
    expect(out.timedOut).toBeUndefined();
    expect(out.error).toMatch(/^aborted/);
  });

  it.each([
    ['not a url', 'airflow:8080/x', /^invalid url|^unsupported url scheme/],
    ['a non-http scheme', 'file:///etc/passwd', /^unsupported url scheme file:/],
    ['credentials in the url', 'http://admin:hunter22@127.0.0.1:9/x', /must not contain credentials/],
  ])('refuses %s without sending', async (_label, url, message) => {
    const out = await fireTrigger({ type: 'http', url }, ctx());
    expect(out.ok).toBe(false);
    expect(out.error).toMatch(message);
    expect(JSON.stringify(out)).not.toContain('hunter22');
  });

  it('refuses a body on GET', async () => {
    const s = await serve((_req, res) => res.end());
    const out = await fireTrigger({ type: 'http', method: 'get', url: s.url, body: '{}' }, ctx());
    expect(out).toMatchObject({ ok: false, method: 'GET', error: 'a GET request cannot have a body' });
    expect(s.connections).toBe(0);
  });

  it('sends no Content-Type when there is no body', async () => {
    const s = await serve((_req, res) => res.end());
    const out = await fireTrigger({ type: 'http', method: 'GET', url: s.url }, ctx());
    expect(out).toMatchObject({ ok: true, method: 'GET', httpStatus: 200 });
    expect(s.requests[0]!.headers['content-type']).toBeUndefined();
    expect(s.requests[0]!.headers['x-interlock-run-id']).toBe(RUN_ID);
  });

  it('a header value with a newline (after expansion) is refused without quoting it', async () => {
    const s = await serve((_req, res) => res.end());
    const out = await fireTrigger(
      { type: 'http', url: s.url, headers: { Authorization: 'Bearer ${TOKEN}' } },
      ctx({ TOKEN: 'line-one\nline-two' }),
    );
    expect(out.ok).toBe(false);
    expect(out.error).toContain('header Authorization');
    expect(JSON.stringify(out)).not.toContain('line-one');
    expect(s.connections).toBe(0);
  });
});

describe('http trigger: secrets never leak', () => {
  it('the token is absent from the outcome even when a 500 echoes the Authorization header back', async () => {
    const s = await serve((req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      // Padding puts one echo of the token across the 512-byte cut: its first half must not survive either.
      const pad = 'p'.repeat(512 - 40);
      res.end(
        JSON.stringify({ pad, echo: req.headers.authorization, again: req.headers.authorization, url: req.path }),
      );
    });
    const spec: HttpTriggerSpec = {
      type: 'http',
      url: `${s.url}/api/v1/dags/my_pipeline/dagRuns?token=\${AIRFLOW_TOKEN}`,
      headers: { Authorization: 'Bearer ${AIRFLOW_TOKEN}' },
      body: '{"conf":{"triggered_by":"interlock"}}',
    };
    const out = await fireTrigger(spec, ctx({ AIRFLOW_TOKEN: TOKEN }));
    expect(s.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(out).toMatchObject({ ok: false, httpStatus: 500 });
    const serialized = JSON.stringify(out);
    expect(serialized).not.toContain(TOKEN);
    expect(serialized).not.toContain(TOKEN.slice(0, 8));
    expect(out.bodyExcerpt).toContain('***');
    expect(out.url).toBe(spec.url);
    expect(out.url).toContain('${AIRFLOW_TOKEN}');
  });

  it('a redirect Location carrying the token is redacted', async () => {
    const s = await serve((req, res) => {
      res.writeHead(307, { location: `https://login.example.com/?${req.headers.authorization?.slice(7)}` });
      res.end();
    });
    const out = await fireTrigger(
      { type: 'http', url: s.url, headers: { Authorization: 'Bearer ${AIRFLOW_TOKEN}' } },
      ctx({ AIRFLOW_TOKEN: TOKEN }),
    );
    expect(out.error).toBe('redirected (307) to https://login.example.com/?***; not followed');
    expect(JSON.stringify(out)).not.toContain(TOKEN);
  });

  it('a literal credential in an auth header is redacted from an echo too', async () => {
    const s = await serve((req, res) => {
      res.writeHead(403);
      res.end(`forbidden for key ${req.headers['x-api-key']}`);
    });
    const out = await fireTrigger({ type: 'http', url: s.url, headers: { 'X-Api-Key': 'literal-key-123' } }, ctx());
    expect(out).toMatchObject({ ok: false, httpStatus: 403, bodyExcerpt: 'forbidden for key ***' });
  });

  // Issue 9 item 15: echoes in other encodings, a non-ASCII status text, and a short secret sent as a whole header.
  it('the token is masked JSON-escaped (with \\/), percent-encoded, HTML-escaped and in a non-ASCII status text', async () => {
    const secret = 'tök/en<&>"\'+=1x';
    const s = await serve((req, res) => {
      const tok = (req.headers.authorization ?? '').slice('Bearer '.length); // node reads header bytes as Latin-1
      const json = JSON.stringify(tok).slice(1, -1);
      const html = tok.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
      res.writeHead(401, `denied ${tok}`); // written as Latin-1 bytes; fetch decodes a status text as UTF-8
      res.end(
        [
          `json=${json.replace(/\//g, '\\/')}`,
          `pct=${encodeURIComponent(tok)}`,
          `html=${html.replace(/'/g, '&#x27;')}`,
          `key=${req.headers['x-api-key']}.`,
        ].join('\n'),
      );
    });
    const out = await fireTrigger(
      { type: 'http', url: s.url, headers: { Authorization: 'Bearer ${TOKEN}', 'X-Api-Key': 'k7' } },
      ctx({ TOKEN: secret }),
    );
    expect(out).toMatchObject({ ok: false, httpStatus: 401 });
    expect(out.error).toBe('HTTP 401 denied ***');
    expect(out.bodyExcerpt).toBe('json=***\npct=***\nhtml=***\nkey=***.');
  });
});
