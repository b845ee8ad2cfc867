// One HTTP request on its own connection (no agent), for set-up, checks and races.
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Reply {
  status: number;
  /** From sending the request to the last byte of the response (before any parsing), ms. */
  ms: number;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: response JSON is checked by the bench, not by types.
  body: any;
}

export function http(base: string, method: string, path: string, timeoutMs = 30_000): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // The server requires the JSON content type on every request but GET/HEAD.
    const headers: Record<string, string> =
      method === 'GET' || method === 'HEAD' ? {} : { 'content-type': 'application/json' };
    const req = request({ host: u.hostname, port: u.port, method, path, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const ms = performance.now() - t0;
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, ms, text, body });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Like `http`, but throws unless the status is `expect`. */
export async function httpOk(base: string, method: string, path: string, expect = 200): Promise<Reply> {
  const r = await http(base, method, path);
  if (r.status !== expect)
    throw new Error(`${method} ${path}: ${r.status} (expected ${expect}): ${r.text.slice(0, 500)}`);
  return r;
}
