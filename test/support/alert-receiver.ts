// A local webhook that receives Interlock's alert payloads (the webhook sink's JSON) and records each with the wall
// time it arrived: end-to-end tests, the deadline benchmark and the chaos case count and time alerts with it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedAlert {
  kind: string;
  pipeline: string;
  window?: string;
  message: string;
  details?: Record<string, unknown>;
  timestampMs: number;
  /** Date.now() when the request arrived here. */
  receivedAt: number;
}

export interface AlertReceiver {
  url: string;
  alerts: ReceivedAlert[];
  close(): Promise<void>;
}

/** Starts the receiver on 127.0.0.1 (a free port); answers 200 to every POST whose body is JSON, 400 otherwise. */
export async function startAlertReceiver(): Promise<AlertReceiver> {
  const alerts: ReceivedAlert[] = [];
  const server = http.createServer((req, res) => {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const a = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedAlert;
        alerts.push({ ...a, receivedAt });
        res.writeHead(200).end('ok');
      } catch {
        res.writeHead(400).end('not json');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    alerts,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
