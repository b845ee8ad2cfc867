// `npm run soak -- --minutes N`: a real `interlock serve` (the built CLI, SQLite store) with 200 pipelines of 3 trivial
// evaluators each, evaluated continuously through the API by a bounded concurrent loop (plus readiness, traits and
// status reads). Each interval it samples the serve process from outside — RSS (VmRSS), open fds, child processes
// (its /proc descendants), event-loop lag as the latency of GET /api/health — and counts requests and 5xx. Fails
// (exit 1) when RSS grows > 20 % from the warm-up sample to the end, when fds or processes leak (after load stops
// and settles, above the warm-up idle baseline + slack), or on any 5xx or failed request. Writes
// soak/results/latest.json. The phases are in soak/phases/, their helpers in soak/lib/.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBuild } from '../test/support/build-check.js';
import { serveProcess } from '../test/support/server-process.js';
import { parseArgs } from './lib/args.js';
import { makeSoakProject } from './lib/project.js';
import { runLoad } from './phases/load.js';
import { prepare } from './phases/prepare.js';
import { report } from './phases/report.js';
import { settle } from './phases/settle.js';
import { judgeLeaks, judgeRss, judgeStore } from './phases/verdicts.js';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  checkBuild('soak');
  const root = mkdtempSync(join(tmpdir(), 'interlock-soak-'));
  const t0 = performance.now();
  const log = (m: string) => process.stderr.write(`soak: [${((performance.now() - t0) / 1000).toFixed(1)} s] ${m}\n`);
  makeSoakProject(root, args.pipelines);
  const serve = await serveProcess(root, ['--addr', '127.0.0.1:0']);
  const url = new URL(serve.url);
  log(`serve pid ${serve.pid} at ${url.origin}; project ${root}`);
  try {
    const idle = await prepare(url, serve.pid, args);
    log(
      `idle baseline after warm-up: ${idle.fds.total} fds ${JSON.stringify(idle.fds.byKind)}, ${idle.children} children, RSS ${idle.rssMb} MB`,
    );
    const load = await runLoad(url, serve.pid, args, log);
    const failures = load.died ? ['serve died during the load'] : [];
    const end = await settle(serve.pid, idle);
    const rss = judgeRss(load.samples, failures);
    judgeLeaks(idle, end, load, failures);
    const integrity = judgeStore(root, failures, log);
    // Graceful stop: exit 0 on SIGTERM (SIGKILL after 15 s counts as not clean).
    const serveExit = await serve.stop(15_000);
    if (serveExit.code !== 0) failures.push(`serve did not stop cleanly on SIGTERM: ${JSON.stringify(serveExit)}`);
    report({ args, idle, load, end, rss, integrity, serveExit, failures });
    process.exitCode = failures.length ? 1 : 0;
  } finally {
    await serve.kill();
    if (process.exitCode === 1) log(`serve stderr (tail):\n${serve.stderr().slice(-3000)}`);
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
