// builtin:http through the evaluator runner against a real local node:http server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import type { ResolvedTrait } from '../../core/types.js';
import { type EvalContext, EvaluatorPool, evaluateTrait } from '../runner.js';
import { atJsonPath } from './http.js';

let server: Server;
let base: string;
const seen: string[] = [];
const hanging: ServerResponse[] = [];
const held: Array<() => void> = [];
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/health') return json(200, { status: 'ok', checks: [{ name: 'db', up: true }] });
    if (req.url === '/degraded') return json(200, { status: 'degraded' });
    if (req.url === '/down') return json(503, { status: 'down' });
    if (req.url === '/text') return res.end('not json');
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/health' });
      return res.end();
    }
    if (req.url === '/hang') return void hanging.push(res);
    if (req.url === '/held') {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Answered by the test once it has seen how many arrived together.
      held.push(() => {
        inFlight--;
        json(200, { status: 'ok' });
      });
      return;
    }
    json(404, {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const r of hanging) r.destroy();
  await new Promise((r) => server.close(r));
});

function httpTrait(config: Record<string, unknown>, over: Partial<ResolvedTrait> = {}): ResolvedTrait {
  return {
    type: 'api-up',
    required: true,
    builtin: 'http',
    evaluatorRef: 'builtin:http',
    config,
    timeoutSeconds: 5,
    ...over,
  };
}
const ctx = (over: Partial<EvalContext> = {}): EvalContext => ({
  projectDir: '/',
  pipeline: 'p',
  clock: new FakeClock(),
  env: {},
  ...over,
});

describe('builtin:http', () => {
  it('PASSes on the expected status and a matching JSON value, and reports both', async () => {
    const r = await evaluateTrait(
      httpTrait({ url: `${base}/health`, expectStatus: 200, jsonPath: '$.status', equals: 'ok' }),
      ctx(),
    );
    expect(r.status).toBe('PASS');
    expect(r.value).toMatchObject({ url: `${base}/health`, status: 200, jsonPath: '$.status', found: 'ok' });
    const nested = await evaluateTrait(
      httpTrait({ url: `${base}/health`, jsonPath: '$.checks[0].up', equals: true }),
      ctx(),
    );
    expect(nested.status).toBe('PASS');
  });

  it('FAILs CHECK_FAILED on another status, another value, a missing path or a body that is not JSON', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ url: `${base}/down` }, /answered 503, expected 200/],
      [{ url: `${base}/degraded`, jsonPath: '$.status', equals: 'ok' }, /\$\.status is "degraded", expected "ok"/],
      [{ url: `${base}/health`, jsonPath: '$.nope' }, /\$\.nope not found/],
      [{ url: `${base}/text`, jsonPath: '$.status' }, /is not JSON/],
      // Redirects are not followed: a 302 is a status like any other.
      [{ url: `${base}/redirect` }, /answered 302/],
    ];
    for (const [config, reason] of cases) {
      const r = await evaluateTrait(httpTrait(config), ctx());
      expect(r, JSON.stringify(config)).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED' });
      expect(r.reason).toMatch(reason);
    }
    expect((await evaluateTrait(httpTrait({ url: `${base}/down`, expectStatus: [200, 503] }), ctx())).status).toBe(
      'PASS',
    );
  });

  it('FAILs CONNECTION_FAILED when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await evaluateTrait(httpTrait({ url: `http://127.0.0.1:${port}/` }), ctx());
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'CONNECTION_FAILED' });
    expect(r.reason).toMatch(/ECONNREFUSED/);
  });

  it('a hanging server: the config timeout, or the trait timeout, FAILs EVALUATOR_TIMEOUT', async () => {
    const own = await evaluateTrait(httpTrait({ url: `${base}/hang`, timeout: 1 }), ctx());
    expect(own).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_TIMEOUT' });
    expect(own.reason).toMatch(/no answer .* within 1s/);
    const trait = await evaluateTrait(httpTrait({ url: `${base}/hang` }, { timeoutSeconds: 0.3 }), ctx());
    expect(trait).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_TIMEOUT' });
    expect(trait.durationMs).toBeLessThan(3000);
  });

  it('an untrusted pipeline passes the address guard first: refused hosts get no request', async () => {
    const before = seen.length;
    const refused = await evaluateTrait(
      httpTrait({ url: `${base}/health` }),
      ctx({ confineTo: ['/nowhere'], guardHost: async (h) => ({ ok: false, reason: `host '${h}' is loopback` }) }),
    );
    expect(refused).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_FORBIDDEN' });
    expect(seen.length).toBe(before);
    // Allowed: the connection goes to the checked address, whatever the name resolves to.
    const pinned = await evaluateTrait(
      httpTrait({ url: `${base.replace('127.0.0.1', 'checked.invalid')}/health` }),
      ctx({ guardHost: async () => ({ ok: true, address: { address: '127.0.0.1', family: 4 } }) }),
    );
    expect(pinned.status).toBe('PASS');
    expect(seen.at(-1)).toBe('GET /health');
  });

  it("builtins run under the pool's concurrency cap like subprocess evaluators", async () => {
    const pool = new EvaluatorPool(2);
    const traits = [1, 2, 3, 4, 5].map((i) => httpTrait({ url: `${base}/held` }, { type: `t${i}` }));
    const all = pool.evaluateAll(traits, ctx());
    const until = async (cond: () => boolean) => {
      while (!cond()) await new Promise((r) => setTimeout(r, 5));
    };
    // Two requests arrive and are held; with the cap, no third one is sent while they are (without it, all five
    // would be in flight by now).
    await until(() => held.length === 2);
    await new Promise((r) => setTimeout(r, 150));
    expect(held.length).toBe(2);
    expect(pool.active).toBe(2);
    for (let released = 0; released < traits.length; released++) {
      await until(() => held.length > 0);
      held.shift()?.();
    }
    const results = await all;
    expect(results.map((r) => r.status)).toEqual(['PASS', 'PASS', 'PASS', 'PASS', 'PASS']);
    expect(maxInFlight).toBe(2);
  });

  it('atJsonPath walks keys and indexes', () => {
    const doc = { a: { b: [{ c: 1 }, null] } };
    expect(atJsonPath(doc, '$.a.b[0].c')).toEqual({ found: true, value: 1 });
    expect(atJsonPath(doc, '$.a.b[1]')).toEqual({ found: true, value: null });
    expect(atJsonPath(doc, '$.a.b[2]')).toEqual({ found: false });
    expect(atJsonPath(doc, '$.a.x')).toEqual({ found: false });
    expect(atJsonPath(doc, '$')).toEqual({ found: true, value: doc });
  });
});
