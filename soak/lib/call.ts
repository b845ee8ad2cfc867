// One request of the soak load over a keep-alive agent: its status and latency, never a rejection.
import { type Agent, request } from 'node:http';

export interface CallResult {
  status: number;
  ms: number;
  error?: string;
}

/** One request; status 0 and an error when it failed or took more than 30 s. Never rejects. */
export function call(agent: Agent, base: URL, method: string, path: string, body?: unknown): Promise<CallResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        agent,
        // The server requires the JSON content type on every request but GET/HEAD, body or not.
        headers: data
          ? { 'content-type': 'application/json', 'content-length': data.length }
          : method === 'GET'
            ? {}
            : { 'content-type': 'application/json' },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start }));
        res.on('error', (e) => resolve({ status: 0, ms: performance.now() - start, error: e.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no response within 30 s')));
    req.on('error', (e) => resolve({ status: 0, ms: performance.now() - start, error: e.message }));
    req.end(data);
  });
}
