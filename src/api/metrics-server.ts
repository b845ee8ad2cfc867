// The metrics-only HTTP listener of `interlock watch --metrics-addr`: GET /metrics and nothing else, loopback unless
// protected, the same token and Host rules as serve's GET /metrics.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InterlockError } from '../core/errors.js';
import { formatUrl, isLoopbackHost, normaliseHost, parseListenAddress, resolveBindAddress } from './address.js';

export interface MetricsServerOptions {
  /** `host:port` (--metrics-addr). */
  addr: string;
  metrics: { render(): Promise<string>; contentType: string };
  /** The API token (server.authToken / INTERLOCK_API_TOKEN): needed unless `metricsPublic`. */
  token?: string;
  metricsPublic: boolean;
  /** Host header names accepted besides loopback ones (server.allowedHostnames). */
  allowedHostnames: readonly string[];
  /** Where a failed scrape's detail goes. */
  log: (message: string) => void;
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Listens on `addr` and answers GET /metrics. Refuses (USAGE) a non-loopback address when scrapes would be
 * anonymous (no token, or server.metricsPublic): metrics name every pipeline.
 */
export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const listen = parseListenAddress(o.addr);
  const address = await resolveBindAddress(listen.host);
  const anonymous = o.token === undefined || o.metricsPublic;
  if (!isLoopbackHost(address) && anonymous) {
    throw new InterlockError(
      'USAGE',
      `refusing to serve metrics on ${formatUrl(listen.host, listen.port)}: it is not a loopback address and scrapes would need no token (set server.authToken or INTERLOCK_API_TOKEN, without server.metricsPublic)`,
    );
  }
  const expected = o.token !== undefined && !o.metricsPublic ? digest(o.token) : undefined;
  const allowed = new Set(o.allowedHostnames.map(normaliseHost));
  const server: Server = createServer({ headersTimeout: 20_000, requestTimeout: 30_000 }, (req, res) => {
    const send = (status: number, code: string, message: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
      res.end(JSON.stringify({ error: { code, message } }));
    };
    req.resume();
    const host = /^(\[[^\]]*\]|[^:]*)/.exec(req.headers.host ?? '')?.[1] ?? '';
    if (!isLoopbackHost(host) && !allowed.has(normaliseHost(host))) {
      send(421, 'MISDIRECTED_REQUEST', 'this Host is not served here (server.allowedHostnames)');
      return;
    }
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      send(404, 'NOT_FOUND', 'only GET /metrics is served here');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on /metrics (allowed: GET)`, { Allow: 'GET' });
      return;
    }
    if (expected) {
      const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
      if (!m || !timingSafeEqual(digest(m[1] as string), expected)) {
        send(401, 'UNAUTHORIZED', 'missing or invalid bearer token', {
          'WWW-Authenticate': 'Bearer realm="interlock"',
        });
        return;
      }
    }
    o.metrics.render().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': o.metrics.contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        o.log(`metrics scrape failed: ${err instanceof Error ? err.message : String(err)}`);
        send(503, 'STORE_UNAVAILABLE', 'the metrics could not be read from the store');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new InterlockError(
          'IO_ERROR',
          `cannot serve metrics on ${formatUrl(listen.host, listen.port)}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`,
          { cause: err },
        ),
      ),
    );
    server.listen(listen.port, address, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    url: formatUrl(listen.host, bound.port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
