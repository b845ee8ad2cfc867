// Floor of the readiness benchmark: a bare node:http server answering GET /api/pipelines/{id}/readiness with the
// same JSON as `interlock serve`, from the same SQLite store through the same built code — the project loaded by
// dist/config, the same four SqliteStore reads the runtime makes, engine decideReadiness, the runtime's statusView —
// but without hono, routing, validation, middleware or the overdue-run check.
// Usage (in the project root): node readiness-server.mjs [port]   → prints "listening on http://127.0.0.1:<port>"
import { createServer } from 'node:http';

const dist = new URL('../../dist/', import.meta.url);
const { assertValid, findConfigFile, loadProject } = await import(new URL('config/index.js', dist).href);
const { SqliteStore } = await import(new URL('store/sqlite/index.js', dist).href);
const { decideReadiness } = await import(new URL('engine/index.js', dist).href);
const { statusView } = await import(new URL('runtime/status.js', dist).href);

const project = loadProject(findConfigFile(process.cwd()));
assertValid(project);
const store = new SqliteStore({ path: project.config.sqlite.path });
const headers = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};
const ROUTE = /^\/api\/pipelines\/([^/?]+)\/readiness$/;

async function readiness(p) {
  const [results, last, active, runs] = await Promise.all([
    store.getTraitResults(p.name),
    store.getReadiness(p.name),
    store.getActiveRun(p.name),
    store.listRuns(p.name, { limit: 1 }),
  ]);
  const s = { pipeline: p, readiness: decideReadiness(p.name, p.traits, results, p.readinessRule, Date.now()) };
  if (active) s.activeRun = active;
  if (runs[0]) s.lastRun = runs[0];
  if (last) {
    s.lastEvaluatedAt = last.decidedAt;
    s.lastOutcome = last.outcome;
  }
  return JSON.stringify(statusView(s));
}

const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
  const m = req.method === 'GET' ? ROUTE.exec(req.url ?? '') : null;
  const p = m ? project.pipelines.get(decodeURIComponent(m[1])) : undefined;
  if (!p) {
    res.writeHead(404, headers).end('{"error":{"code":"NOT_FOUND","message":"not found"}}');
    return;
  }
  readiness(p).then(
    (body) => res.writeHead(200, headers).end(body),
    () =>
      res.writeHead(503, headers).end('{"error":{"code":"STORE_UNAVAILABLE","message":"the store is unavailable"}}'),
  );
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stderr.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  store.close().finally(() => process.exit(0));
});
