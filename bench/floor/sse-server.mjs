// Floor of the sse-fanout benchmark: a bare node:http Server-Sent Events server. GET /events keeps the response open
// (text/event-stream); POST /emit/<name> writes one event (`id`, `event: trait.pushed`, `data` with `pipeline` and
// `at` = Date.now()) to every open stream and answers 201. No store, no decision, no filter: the least any Node
// program could do to fan one event out to N clients.
// Usage: node sse-server.mjs   → prints "listening on http://127.0.0.1:<port>"
import { createServer } from 'node:http';

const clients = new Set();
let id = 0;
const EMIT = /^\/emit\/([^/?]+)$/;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write('retry: 2000\n\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
    return;
  }
  const m = EMIT.exec(req.url ?? '');
  req.resume();
  req.on('end', () => {
    if (req.method !== 'POST' || !m) {
      res.writeHead(404).end();
      return;
    }
    const frame = `id: ${++id}\nevent: trait.pushed\ndata: ${JSON.stringify({ pipeline: m[1], at: Date.now() })}\n\n`;
    for (const c of clients) c.write(frame);
    res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => {
  for (const c of clients) c.end();
  server.close(() => process.exit(0));
});
