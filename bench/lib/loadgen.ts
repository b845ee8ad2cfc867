// A small HTTP load generator: N concurrent loops over one keep-alive agent, for a fixed duration or a fixed number
// of requests, recording every latency in a histogram. Loopback only; every loop stops by itself.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Histogram } from './stats.js';

export interface LoadOptions {
  /** `http://127.0.0.1:port` (loopback only). */
  base: string;
  method?: string;
  /** Path of the i-th request (0-based, in the order requests are started). */
  path: (i: number) => string;
  /** Concurrent loops, each with at most one request in flight (and at most this many sockets). */
  concurrency: number;
  /** Stop starting requests after this long… */
  durationMs?: number;
  /** …or after this many (whichever comes first; at least one of the two is required). */
  requests?: number;
  /** Expected status (default 200); anything else counts as an error. */
  expectStatus?: number;
  /** Further check of a response body: a message when it is wrong. */
  check?: (body: string) => string | undefined;
  /** Per-request timeout (default 30 s): a request that takes longer is an error. */
  timeoutMs?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  /** Successful requests per second. */
  rps: number;
  latency: Histogram;
  /** CPU the load generator itself used, in % of one core (near 100 % means it, not the server, was the limit). */
  clientCpuPct: number;
}

interface Reply {
  status: number;
  body: string;
}

function send(agent: Agent, url: URL, method: string, path: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // The server requires the JSON content type on every request but GET/HEAD.
    const headers: Record<string, string> =
      method === 'GET' || method === 'HEAD' ? {} : { 'content-type': 'application/json' };
    const req = request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Runs the load and resolves when every loop has stopped. */
export async function load(o: LoadOptions): Promise<LoadResult> {
  if (o.durationMs === undefined && o.requests === undefined) throw new Error('load: durationMs or requests needed');
  const url = new URL(o.base);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`load: not loopback: ${o.base}`);
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const method = o.method ?? 'GET';
  const expect = o.expectStatus ?? 200;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const latency = new Histogram();
  let next = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const fail = (m: string) => {
    errors++;
    firstError ??= m;
  };

  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = o.durationMs === undefined ? Number.POSITIVE_INFINITY : start + o.durationMs;
  const limit = o.requests ?? Number.POSITIVE_INFINITY;
  const loop = async () => {
    while (next < limit && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      try {
        const r = await send(agent, url, method, o.path(i), timeoutMs);
        const ms = performance.now() - t0;
        const problem = r.status !== expect ? `status ${r.status}: ${r.body.slice(0, 300)}` : o.check?.(r.body);
        if (problem) fail(problem);
        else {
          ok++;
          latency.record(ms);
        }
      } catch (e) {
        fail(e instanceof Error ? e.message : String(e));
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  const result: LoadResult = {
    requests: next,
    errors,
    elapsedMs,
    rps: (ok / elapsedMs) * 1000,
    latency,
    clientCpuPct: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
  };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}

/** A `check` for evaluation responses: undefined when READY, else which traits blocked and why. */
export function notReady(body: string): string | undefined {
  const r = JSON.parse(body) as {
    pipeline?: string;
    outcome?: string;
    readiness?: { blocking?: Array<{ trait: string; reasonCode: string; reason: string }> };
  };
  if (r.outcome === 'READY') return undefined;
  const why = (r.readiness?.blocking ?? []).map((b) => `${b.trait} ${b.reasonCode}: ${b.reason}`).join('; ');
  return `${r.pipeline} is ${r.outcome}: ${why || body.slice(0, 300)}`;
}
