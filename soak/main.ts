// `npm run soak -- --minutes N`: a real `interlock serve` (the built CLI, SQLite store) with 200 pipelines of 3 trivial
// evaluators each, evaluated continuously through the API by a bounded concurrent loop (plus readiness, traits and
// status reads). Each interval it samples the serve process from outside — RSS (VmRSS), open fds, child processes
// (its /proc descendants), event-loop lag as the latency of GET /api/health — and counts requests and 5xx. Fails
// (exit 1) when RSS grows > 20 % from the warm-up sample to the end, when fds or processes leak (after load stops
// and settles, above the warm-up idle baseline + slack), or on any 5xx or failed request. Writes
// soak/results/latest.json.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { checkBuild } from '../chaos/lib/build.js';
import { descendants, isAlive, openFds, rssKb } from '../chaos/lib/proc.js';
import { BIN, REPO } from '../test/helpers/cli.js';

interface Args {
  minutes: number;
  pipelines: number;
  concurrency: number;
  /** Seconds between samples (default 60; shorter for runs under 3 minutes). */
  interval: number;
  out: string;
}

function parseArgs(argv: string[]): Args {
  let minutes = Number.NaN;
  let pipelines = 200;
  let concurrency = 8;
  let interval: number | undefined;
  let out = join(REPO, 'soak', 'results', 'latest.json');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${arg} needs a positive number`);
      return v;
    };
    if (arg === '--minutes') minutes = num();
    else if (arg === '--pipelines') pipelines = Math.round(num());
    else if (arg === '--concurrency') concurrency = Math.round(num());
    else if (arg === '--interval') interval = num();
    else if (arg === '--out') out = String(argv[++i]);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        'usage: npm run soak -- --minutes N [--pipelines 200] [--concurrency 8] [--interval SECONDS] [--out FILE]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  if (!Number.isFinite(minutes)) throw new Error('--minutes N is required (e.g. --minutes 10, or 0.5 for a quick run)');
  // A sample a minute, as asked; a short run gets ~6 samples so its table still shows a trend.
  interval ??= minutes >= 3 ? 60 : Math.max(2, (minutes * 60) / 6);
  return { minutes, pipelines, concurrency, interval, out };
}

// ------------------------------------------------------------------ the project

const PASS = '#!/bin/sh\ncat >/dev/null\necho \'{"status":"PASS","value":{"rows":42}}\'\n';
const FAIL = '#!/bin/sh\ncat >/dev/null\necho \'{"status":"FAIL","reason":"soak: every tenth pipeline is blocked"}\'\n';

const name = (i: number) => `soak-${String(i).padStart(3, '0')}`;

/** Every tenth pipeline is NOT_READY (its third trait fails), so blocking and alerting are exercised too. */
function traitsOf(i: number): Record<string, { evaluator: string }> {
  return { t1: { evaluator: 'ok-1' }, t2: { evaluator: 'ok-2' }, t3: { evaluator: i % 10 === 0 ? 'no' : 'ok-3' } };
}

/** A project where the first half of the pipelines are YAML files; the rest get registered through the API. */
function makeProject(root: string, pipelines: number): void {
  const put = (rel: string, text: string, mode = 0o644) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
    chmodSync(join(root, rel), mode);
  };
  put('interlock.yaml', 'provider: sqlite\nalerts:\n  - type: file\n    path: ./alerts.log\n');
  put(
    'archetypes/soak.yaml',
    'name: soak\nrequiredTraits:\n  - type: t1\n  - type: t2\n  - type: t3\n    defaultTtl: 600\n    defaultTimeout: 10\n',
  );
  for (const e of ['ok-1', 'ok-2', 'ok-3']) put(`evaluators/${e}`, PASS, 0o755);
  put('evaluators/no', FAIL, 0o755);
  for (let i = 0; i < Math.ceil(pipelines / 2); i++) {
    const t = traitsOf(i);
    put(
      `pipelines/${name(i)}.yaml`,
      `name: ${name(i)}\narchetype: soak\ntraits:\n${Object.entries(t)
        .map(([k, v]) => `  ${k}:\n    evaluator: ${v.evaluator}\n`)
        .join('')}`,
    );
  }
}

// ------------------------------------------------------------------ HTTP

interface Result {
  status: number;
  ms: number;
  error?: string;
}

/** One request; status 0 and an error when it failed or took more than 30 s. Never rejects. */
function call(agent: Agent, base: URL, method: string, path: string, body?: unknown): Promise<Result> {
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

// ------------------------------------------------------------------ serve

interface Serve {
  child: ChildProcess;
  pid: number;
  url: URL;
  stderrTail(): string;
}

function startServe(root: string): Promise<Serve> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--addr', '127.0.0.1:0'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', INTERLOCK_API_TOKEN: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let tail = '';
    let resolved = false;
    child.stderr?.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-64 * 1024);
      const m = /listening on (http:\/\/\S+)/.exec(tail);
      if (m && !resolved && child.pid !== undefined) {
        resolved = true;
        resolve({ child, pid: child.pid, url: new URL(m[1] as string), stderrTail: () => tail });
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!resolved) reject(new Error(`serve exited (${code ?? signal}) before listening: ${tail}`));
    });
  });
}

// ------------------------------------------------------------------ the run

interface Sample {
  /** Minutes since load started. */
  minute: number;
  rssMb: number;
  fds: number;
  children: number;
  /** GET /api/health latency over the interval (ms): the event-loop lag seen from outside. */
  healthP50Ms: number;
  healthMaxMs: number;
  /** Requests completed in the interval, and per second. */
  requests: number;
  rps: number;
  evaluations: number;
  /** Answers >= 500 and failed requests (no answer) in the interval. */
  status5xx: number;
  errors: number;
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** RSS before this is warm-up (heap growing, code compiling) and is not compared. */
const WARMUP_MINUTES = 2;

function table(samples: Sample[]): string {
  const head = [
    'min',
    'RSS MB',
    'fds',
    'children',
    'health p50 ms',
    'health max ms',
    'requests',
    'req/s',
    'evals',
    '5xx',
    'errors',
  ];
  const rows = samples.map((s) =>
    [
      s.minute,
      s.rssMb,
      s.fds,
      s.children,
      s.healthP50Ms,
      s.healthMaxMs,
      s.requests,
      s.rps,
      s.evaluations,
      s.status5xx,
      s.errors,
    ].map(String),
  );
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padStart(w[i] as number)).join(' | ')} |`;
  return [line(head), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  checkBuild('soak');
  const root = mkdtempSync(join(tmpdir(), 'interlock-soak-'));
  const t0 = performance.now();
  const log = (m: string) => process.stderr.write(`soak: [${((performance.now() - t0) / 1000).toFixed(1)} s] ${m}\n`);
  makeProject(root, args.pipelines);
  const serve = await startServe(root);
  const failures: string[] = [];
  log(`serve pid ${serve.pid} at ${serve.url.origin}; project ${root}`);

  const loadAgent = new Agent({ keepAlive: true, maxSockets: args.concurrency });
  const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    // Register the second half of the pipelines through the API (they live in the store).
    for (let i = Math.ceil(args.pipelines / 2); i < args.pipelines; i++) {
      const r = await call(loadAgent, serve.url, 'POST', '/api/pipelines', {
        name: name(i),
        archetype: 'soak',
        traits: traitsOf(i),
      });
      if (r.status !== 201) throw new Error(`registering ${name(i)}: HTTP ${r.status} ${r.error ?? ''}`);
    }

    // Warm-up burst: every lazily built thing (statements, routes, the JIT) exists before the idle baseline.
    const names = Array.from({ length: args.pipelines }, (_, i) => name(i));
    await Promise.all(
      names.slice(0, 40).map((n) => call(loadAgent, serve.url, 'POST', `/api/pipelines/${n}/evaluate`)),
    );
    loadAgent.destroy();
    await sleep(1500);
    const idle = {
      fds: openFds(serve.pid),
      children: descendants(serve.pid).length,
      rssMb: round((rssKb(serve.pid) ?? 0) / 1024),
    };
    log(
      `idle baseline after warm-up: ${idle.fds.total} fds ${JSON.stringify(idle.fds.byKind)}, ${idle.children} children, RSS ${idle.rssMb} MB`,
    );

    // The load: `concurrency` workers, each: 80 % evaluate, 10 % readiness, 5 % traits, 5 % the runs list.
    const agent = new Agent({ keepAlive: true, maxSockets: args.concurrency });
    let stop = false;
    let window = { requests: 0, evaluations: 0, s5xx: 0, errors: 0, health: [] as number[] };
    const firstErrors: string[] = [];
    const total = { requests: 0, evaluations: 0, s5xx: 0, errors: 0 };
    const worker = async () => {
      while (!stop) {
        const n = names[Math.floor(Math.random() * names.length)] as string;
        const dice = Math.random();
        const [method, path] =
          dice < 0.8
            ? ['POST', `/api/pipelines/${n}/evaluate`]
            : dice < 0.9
              ? ['GET', `/api/pipelines/${n}/readiness`]
              : dice < 0.95
                ? ['GET', `/api/pipelines/${n}/traits`]
                : ['GET', `/api/pipelines/${n}/runs?limit=5`];
        const r = await call(agent, serve.url, method as string, path as string);
        window.requests++;
        total.requests++;
        if (method === 'POST' && r.status === 200) {
          window.evaluations++;
          total.evaluations++;
        }
        if (r.status >= 500 || r.status === 0) {
          if (r.status >= 500) {
            window.s5xx++;
            total.s5xx++;
          } else {
            window.errors++;
            total.errors++;
          }
          if (firstErrors.length < 10) firstErrors.push(`${method} ${path}: ${r.status || r.error}`);
        }
      }
    };
    const prober = async () => {
      while (!stop) {
        const r = await call(probeAgent, serve.url, 'GET', '/api/health');
        if (r.status === 200) window.health.push(r.ms);
        else {
          window.errors++;
          total.errors++;
          if (firstErrors.length < 10) firstErrors.push(`GET /api/health: ${r.status || r.error}`);
        }
        await sleep(500);
      }
    };

    const samples: Sample[] = [];
    const started = performance.now();
    const endAt = started + args.minutes * 60_000;
    const running = [...Array.from({ length: args.concurrency }, worker), prober()];
    log(
      `load: ${args.pipelines} pipelines × 3 evaluators, ${args.concurrency} concurrent requests, ${args.minutes} min, a sample every ${round(args.interval)} s`,
    );
    let next = started + args.interval * 1000;
    while (performance.now() < endAt - 200) {
      await sleep(Math.max(0, Math.min(next, endAt) - performance.now()));
      const w = window;
      window = { requests: 0, evaluations: 0, s5xx: 0, errors: 0, health: [] };
      const secs = (performance.now() - (next - args.interval * 1000)) / 1000;
      const s: Sample = {
        minute: round((performance.now() - started) / 60_000, 2),
        rssMb: round((rssKb(serve.pid) ?? 0) / 1024),
        fds: openFds(serve.pid).total,
        children: descendants(serve.pid).length,
        healthP50Ms: round(pct(w.health, 50)),
        healthMaxMs: round(pct(w.health, 100)),
        requests: w.requests,
        rps: round(w.requests / secs),
        evaluations: w.evaluations,
        status5xx: w.s5xx,
        errors: w.errors,
      };
      samples.push(s);
      log(
        `t=${s.minute} min  RSS ${s.rssMb} MB  fds ${s.fds}  children ${s.children}  health p50 ${s.healthP50Ms} ms max ${s.healthMaxMs} ms  ${s.requests} req (${s.rps}/s)  5xx ${s.status5xx}  errors ${s.errors}`,
      );
      next += args.interval * 1000;
      if (!isAlive(serve.pid)) {
        failures.push('serve died during the load');
        break;
      }
    }
    stop = true;
    await Promise.all(running);
    agent.destroy();
    probeAgent.destroy();

    // Settle: in-flight evaluators end, keep-alive sockets close; then nothing may be left over.
    const settleStart = Date.now();
    let end = { fds: openFds(serve.pid), children: descendants(serve.pid).length };
    while (Date.now() - settleStart < 10_000) {
      await sleep(500);
      end = { fds: openFds(serve.pid), children: descendants(serve.pid).length };
      if (end.children === 0 && end.fds.total <= idle.fds.total) break;
    }
    const endRssMb = round((rssKb(serve.pid) ?? 0) / 1024);

    // Verdicts.
    // RSS is judged from the first sample at minute >= 2 (warm: heap grown, code compiled) to the last one.
    const warm = samples.find((s) => s.minute >= WARMUP_MINUTES);
    const last = samples[samples.length - 1];
    const FD_SLACK = 5;
    let rssGrowthPct: number | undefined;
    let rssVerdict: string;
    if (warm && last && warm !== last) {
      rssGrowthPct = round(((last.rssMb - warm.rssMb) / warm.rssMb) * 100);
      rssVerdict = `${rssGrowthPct} % from minute ${warm.minute} to the end (limit 20 %)`;
      if (rssGrowthPct > 20)
        failures.push(
          `RSS grew ${rssGrowthPct} % (${warm.rssMb} MB at minute ${warm.minute} → ${last.rssMb} MB at the end)`,
        );
    } else {
      const first = samples[0];
      const growth = first && last ? round(((last.rssMb - first.rssMb) / first.rssMb) * 100) : undefined;
      rssVerdict = `not judged: the run ended before the ${WARMUP_MINUTES}-minute warm-up (${growth ?? '?'} % from the first sample, for information)`;
    }
    if (end.fds.total > idle.fds.total + FD_SLACK)
      failures.push(
        `fd leak: ${end.fds.total} open after the load settled, idle baseline ${idle.fds.total} (+${FD_SLACK} slack): ${JSON.stringify(end.fds.byKind)}`,
      );
    if (end.children > idle.children)
      failures.push(
        `process leak: ${end.children} child process(es) after the load settled (baseline ${idle.children})`,
      );
    if (total.s5xx > 0) failures.push(`${total.s5xx} answer(s) were 5xx: ${firstErrors.join('; ')}`);
    if (total.errors > 0) failures.push(`${total.errors} request(s) got no answer: ${firstErrors.join('; ')}`);
    if (total.evaluations === 0) failures.push('no evaluation succeeded');

    // The store after the load: readable and intact.
    let integrity = 'unknown';
    try {
      const db = new Database(join(root, '.interlock', 'state.db'), { readonly: true });
      integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? 'unknown';
      const decisions = (db.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n;
      db.close();
      log(`store: integrity_check ${integrity}, ${decisions} decisions recorded`);
    } catch (e) {
      integrity = `cannot check: ${(e as Error).message}`;
    }
    if (integrity !== 'ok') failures.push(`SQLite integrity_check: ${integrity}`);

    // Graceful stop: exit 0 on SIGTERM.
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
      serve.child.on('exit', (code, signal) => r({ code, signal })),
    );
    serve.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      exited,
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 15_000))),
    ]);
    clearTimeout(timer);
    if (exit?.code !== 0) failures.push(`serve did not stop cleanly on SIGTERM: ${JSON.stringify(exit)}`);

    const minutes = round((performance.now() - started) / 60_000, 2);
    process.stdout.write(`\n${table(samples)}\n\n`);
    process.stdout.write(
      `${total.requests} requests (${total.evaluations} evaluations, ${total.evaluations * 3} evaluator processes) in ${minutes} min; ` +
        `5xx ${total.s5xx}; failed requests ${total.errors}\n` +
        `RSS: ${warm ? `${warm.rssMb} MB at minute ${warm.minute}` : `${samples[0]?.rssMb} MB first`} → ${last?.rssMb} MB at the end, ${endRssMb} MB after settling; growth ${rssVerdict}\n` +
        `fds: idle baseline ${idle.fds.total} → ${end.fds.total} after settling; children: ${idle.children} → ${end.children}\n`,
    );
    process.stdout.write(
      failures.length
        ? `FAIL:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`
        : `PASS: no fd or process leak, no 5xx, no failed request; RSS ${rssGrowthPct === undefined ? 'not judged (shorter than the warm-up)' : `within 20 % (${rssGrowthPct} %)`}\n`,
    );
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(
      args.out,
      `${JSON.stringify(
        {
          finishedAt: new Date().toISOString(),
          node: process.version,
          config: {
            ...args,
            out: undefined,
            evaluatorsPerPipeline: 3,
            registeredThroughApi: Math.floor(args.pipelines / 2),
          },
          samples,
          totals: { ...total, minutes },
          baseline: {
            idleFds: idle.fds,
            idleChildren: idle.children,
            idleRssMb: idle.rssMb,
            warmupSample: warm ?? null,
          },
          end: {
            rssMb: last?.rssMb,
            rssGrowthPct,
            rssVerdict,
            settledRssMb: endRssMb,
            fds: end.fds,
            children: end.children,
          },
          integrity,
          serveExit: exit ?? null,
          ok: failures.length === 0,
          failures,
        },
        null,
        2,
      )}\n`,
    );
    process.stdout.write(`results: ${args.out}\n`);
    process.exitCode = failures.length ? 1 : 0;
  } finally {
    loadAgent.destroy();
    probeAgent.destroy();
    if (isAlive(serve.pid)) serve.child.kill('SIGKILL');
    if (process.exitCode === 1) log(`serve stderr (tail):\n${serve.stderrTail().slice(-3000)}`);
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
