// The listening HTTP server around the app: bounded request intake, JSON for malformed HTTP, graceful shutdown.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { InterlockError } from '../core/errors.js';
import { withTimeout } from '../core/timeout.js';
import { type Context, EventStream, Tasks } from '../runtime/index.js';
import { formatUrl, type HostLookup, isLoopbackHost, resolveBindAddress } from './address.js';
import { createApi } from './app.js';
import { type ServerSettings, TOKEN_ENV } from './settings.js';
import { SseClients, type SseOptions } from './sse.js';

export interface RunningServer {
  /** `http://host:port` with the real port (when 0 was asked for). */
  url: string;
  host: string;
  port: number;
  tasks: Tasks;
  /** The address actually bound (a name resolved). */
  address: string;
  /** Bound off loopback without a token (allowed by --insecure). */
  insecure: boolean;
  /**
   * Graceful shutdown: stops accepting connections, aborts in-flight evaluators and triggers, waits (at most
   * settings.shutdownTimeoutMs) for in-flight requests and run-state writes, then closes every connection.
   * Idempotent. The caller closes the store afterwards.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  version: string;
  /** Where warnings and 5xx details go (default ctx.warn). */
  log?: (message: string) => void;
  /** What GET /metrics renders (absent: 404). */
  metrics?: { render(): Promise<string>; contentType: string };
  /** Masks secrets out of GET /api/events (the service logger's mask). */
  mask?: (text: string) => string;
  /** GET /api/events' keepalive and bounds (tests). */
  sse?: SseOptions & { capacity?: number };
  /** Resolves a listen name (default: the system resolver). */
  lookup?: HostLookup;
}

/** The refusal to serve a non-loopback address without a token (USAGE, exit 2). */
function offLoopbackRefusal(settings: ServerSettings, address: string): InterlockError {
  return new InterlockError(
    'USAGE',
    `refusing to listen on ${formatUrl(settings.host, settings.port)}: it resolves to ${address}, not a loopback address, and there is no API token: ` +
      `set server.authToken in interlock.yaml or ${TOKEN_ENV}, or pass --insecure to accept unauthenticated requests from the network`,
  );
}

/** A JSON error written straight to a socket, for requests too malformed to reach the app. */
function rawJsonError(socket: Socket, status: number, reason: string, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Starts the API on settings.host:settings.port. A name is resolved once and its address bound; the loopback rule
 * (no token → loopback only, unless --insecure) is applied to that address and again to the one the socket reports.
 * @throws InterlockError IO_ERROR when it cannot listen; USAGE when the bound address is not loopback and unprotected.
 */
export async function startServer(ctx: Context, settings: ServerSettings, opts: StartOptions): Promise<RunningServer> {
  const log = opts.log ?? ((m: string) => ctx.warn(m));
  const unprotectedOk = settings.token !== undefined || settings.insecureAllowed;
  const bindAddress = await resolveBindAddress(settings.host, opts.lookup);
  if (!isLoopbackHost(bindAddress) && !unprotectedOk) throw offLoopbackRefusal(settings, bindAddress);
  const tasks = new Tasks(ctx.clock);
  const stream = new EventStream(ctx, {
    ...(opts.mask ? { mask: opts.mask } : {}),
    ...(opts.sse?.capacity !== undefined ? { capacity: opts.sse.capacity } : {}),
  });
  const events = new SseClients(stream, ctx.clock, opts.sse);
  const app = createApi({
    events,
    ctx,
    tasks,
    maxBodyBytes: settings.maxBodyBytes,
    guard: {
      allowedHostnames: settings.allowedHostnames,
      allowedOrigins: settings.allowedOrigins,
      offLoopback: !isLoopbackHost(bindAddress),
    },
    policy: { allowCommandRegistration: settings.allowCommandRegistration, allowedHosts: settings.allowedHosts },
    version: opts.version,
    log,
    metricsPublic: settings.metricsPublic,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(settings.token !== undefined ? { token: settings.token } : {}),
  });
  const listener = getRequestListener(app.fetch, {
    // Only reached when a request cannot even be turned into a Request (e.g. an unusable Host header).
    errorHandler: () =>
      new Response(JSON.stringify({ error: { code: 'INVALID_REQUEST', message: 'malformed request' } }), {
        status: 400,
        headers: { 'content-type': 'application/json' },
      }),
  });

  let active = 0;
  let idle: (() => void) | undefined;
  const server: Server = createServer(
    {
      // Bounds on how long a client may take to send its request (a slow client cannot hold a slot forever).
      headersTimeout: 20_000,
      requestTimeout: 60_000,
      keepAliveTimeout: 5_000,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      active++;
      res.once('close', () => {
        active--;
        if (active === 0) idle?.();
      });
      void listener(req, res);
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      rawJsonError(socket, 431, 'Request Header Fields Too Large', 'INVALID_REQUEST', 'request headers too large');
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      rawJsonError(socket, 408, 'Request Timeout', 'INVALID_REQUEST', 'request not received in time');
    } else {
      rawJsonError(socket, 400, 'Bad Request', 'INVALID_REQUEST', 'malformed HTTP request');
    }
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(
        new InterlockError(
          'IO_ERROR',
          `cannot listen on ${formatUrl(settings.host, settings.port)}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`,
          { cause: err },
        ),
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(settings.port, bindAddress);
  });
  const bound = server.address() as AddressInfo;
  // What the socket really bound, not what was asked for: never serve a non-loopback address unprotected.
  if (!isLoopbackHost(bound.address) && !unprotectedOk) {
    stream.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw offLoopbackRefusal(settings, bound.address);
  }
  const port = bound.port;
  stream.start();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const deadline = ctx.clock.now() + settings.shutdownTimeoutMs;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Event streams never end by themselves: ended first, so they hold neither the drain nor the exit.
      events.closeAll();
      stream.close();
      // Aborts evaluators and triggers; their runs record a final state (FAILED "aborted by shutdown", BLOCKED).
      const drained = await tasks.drain(settings.shutdownTimeoutMs);
      if (!drained) log(`shutdown: in-flight work did not finish within ${settings.shutdownTimeoutMs} ms`);
      if (active > 0) {
        // Requests still answering get what is left of the shutdown budget, then their connections are closed.
        const allAnswered = new Promise<void>((resolve) => {
          idle = resolve;
        });
        await withTimeout(allAnswered, Math.max(0, deadline - ctx.clock.now()), ctx.clock, () => undefined);
      }
      server.closeAllConnections();
      await closed;
    })();
    return closing;
  };

  return {
    url: formatUrl(settings.host, port),
    host: settings.host,
    port,
    tasks,
    address: bound.address,
    insecure: !isLoopbackHost(bound.address) && settings.token === undefined,
    close,
  };
}
