// A real HTTP server on 127.0.0.1 that misbehaves on demand (trigger targets, alert webhooks), counting every
// connection and request it sees.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { CaseContext } from './harness.js';

export type Behaviour =
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'redirect'; location: string };

export interface Target {
  /** http://127.0.0.1:PORT */
  url: string;
  requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders }>;
  connections: number;
  /** What the next requests get; may be changed at any time. */
  behaviour: Behaviour;
}

/** Starts a target; it is closed (every socket destroyed) at the end of the case. */
export async function startTarget(t: CaseContext, behaviour: Behaviour): Promise<Target> {
  const sockets = new Set<Socket>();
  const target: Target = { url: '', requests: [], connections: 0, behaviour };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      target.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
      const b = target.behaviour;
      if (b.kind === 'hang') return;
      if (b.kind === 'reset') {
        req.socket.resetAndDestroy();
        return;
      }
      if (b.kind === 'redirect') {
        res.writeHead(302, { location: b.location }).end();
        return;
      }
      res.writeHead(b.status, { 'content-type': 'application/json' }).end(b.body ?? `{"status":${b.status}}`);
    });
  });
  server.on('connection', (s: Socket) => {
    target.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.defer(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return target;
}
