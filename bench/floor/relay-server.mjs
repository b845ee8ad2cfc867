// Floor of the push-to-trigger benchmark: the same two hops without Interlock. A bare node:http server that, on
// POST /relay/<name>, reads the body, sends one POST to the recorder (RECORDER_URL) with X-Interlock-Run-Key: <name>
// and answers 201. No store, no decision: the least any Node program could do between "a push arrived" and "the
// trigger request left".
// Usage: RECORDER_URL=http://127.0.0.1:<port>/fire node relay-server.mjs   → prints "listening on http://127.0.0.1:<port>"
import { createServer, request } from 'node:http';

const target = new URL(process.env.RECORDER_URL ?? '');
const ROUTE = /^\/relay\/([^/?]+)$/;

const server = createServer((req, res) => {
  const m = ROUTE.exec(req.url ?? '');
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    if (req.method !== 'POST' || !m) {
      res.writeHead(404).end();
      return;
    }
    const body = Buffer.concat(chunks);
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: target.pathname,
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-interlock-run-key': m[1] },
      },
      (r) => r.resume(),
    );
    out.on('error', () => {});
    out.end(body);
    res.writeHead(201, { 'content-type': 'application/json' }).end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
