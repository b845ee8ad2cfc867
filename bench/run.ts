// `npm run bench [-- --quick] [--only a,b] [--out FILE]`: every figure of issue 6 measured side by side with its floor
// in one run (interleaved, medians, ratio = candidate / floor), printed as a table and written as JSON.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release as osRelease, platform, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkBuild } from '../test/support/build-check.js';
import { runExitCleanups } from '../test/support/exit-cleanups.js';
import { REPO } from '../test/support/paths.js';
import { builtinSqlCase } from './cases/builtin-sql.js';
import { dashboardCase } from './cases/dashboard.js';
import { evaluateCliCase } from './cases/evaluate-cli.js';
import { idle10kCase } from './cases/idle-10k.js';
import { importsCase } from './cases/imports.js';
import { metricsScrapeCase } from './cases/metrics-scrape.js';
import { pushToTriggerCase } from './cases/push-to-trigger.js';
import { raceCase } from './cases/race.js';
import { readinessCase } from './cases/readiness.js';
import { scaleCase } from './cases/scale.js';
import { slaDeadlineCase } from './cases/sla-deadline.js';
import { sseFanoutCase } from './cases/sse-fanout.js';
import { throughputCase } from './cases/throughput.js';
import { versionCase } from './cases/version.js';
import { windowOpenCase } from './cases/window-open.js';
import { type BenchCase, caseContext, type Figure, markdownTable } from './lib/figure.js';
import { useSnapshot } from './lib/proc.js';

const CASES: BenchCase[] = [
  importsCase,
  versionCase,
  evaluateCliCase,
  readinessCase,
  throughputCase,
  raceCase,
  scaleCase,
  pushToTriggerCase,
  windowOpenCase,
  slaDeadlineCase,
  idle10kCase,
  builtinSqlCase,
  dashboardCase,
  metricsScrapeCase,
  sseFanoutCase,
];
const LATEST = join(REPO, 'bench', 'results', 'latest.json');
/** Where partial runs (--quick, --only) go unless --out says otherwise: never over the committed results. */
const SCRATCH = join(REPO, 'bench', 'results', 'scratch.json');

const USAGE = `usage: npm run bench -- [--quick] [--only ${CASES.map((c) => c.id).join(',')}] [--out FILE]
  --quick      short run (fewer rounds, smaller sizes)
  --only LIST  run only these cases (comma-separated)
  --out FILE   write the JSON results here (default: bench/results/latest.json for a full run of every case,
               bench/results/scratch.json otherwise)`;

interface Args {
  quick: boolean;
  only?: string[];
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') a.quick = true;
    else if (arg === '--only') a.only = value().split(',').filter(Boolean);
    else if (arg.startsWith('--only=')) a.only = arg.slice(7).split(',').filter(Boolean);
    else if (arg === '--out') a.out = value();
    else if (arg.startsWith('--out=')) a.out = arg.slice(6);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  const unknown = (a.only ?? []).filter((id) => !CASES.some((c) => c.id === id));
  if (unknown.length) throw new Error(`unknown case ${unknown.join(', ')}`);
  return a;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function machine() {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    logicalCpus: cpu.length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${osRelease()}`,
    node: process.version,
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: (git(['status', '--porcelain']) ?? '') !== '',
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  checkBuild('bench');
  const selected = args.only ? CASES.filter((c) => args.only?.includes(c.id)) : CASES;
  const full = !args.quick && selected.length === CASES.length;
  const out = resolve(args.out ?? (full ? LATEST : SCRATCH));
  const info = machine();
  process.stderr.write(
    `bench: ${args.quick ? 'quick' : 'full'} run of ${selected.map((c) => c.id).join(', ')} on ${info.cpuModel} × ${info.cores}, node ${info.node}\n`,
  );

  const started = performance.now();
  // Run a private copy of bin/ and dist/: a concurrent `npm run build` empties dist/ while it compiles.
  const snapshot = useSnapshot();
  const ctx = caseContext(args.quick);
  ctx.defer(() => snapshot.remove());
  if (!existsSync(join(snapshot.dir, 'dist', 'cli', 'main.js'))) {
    await ctx.close();
    throw new Error('dist/ changed while it was copied (a build running?): try again');
  }
  // Ctrl-C or a kill: stop the servers and remove the temp dirs before exiting.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`bench: ${sig}; cleaning up\n`);
      void ctx.close().finally(() => process.exit(130));
    });
  }
  const figures: Figure[] = [];
  const timings: Record<string, number> = {};
  try {
    for (const c of selected) {
      process.stderr.write(`bench: ${c.id}: ${c.title}\n`);
      const t0 = performance.now();
      figures.push(...(await c.run(ctx)));
      timings[c.id] = Math.round((performance.now() - t0) / 100) / 10;
    }
  } finally {
    await ctx.close();
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;

  const missed = figures.filter((f) => !f.met);
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const results = {
    schema: 1,
    command,
    quick: args.quick,
    cases: selected.map((c) => c.id),
    machine: info,
    method:
      'Candidate and floor run alternately in the same run (A B B A …); each side’s median is taken and ratio = ' +
      'candidate / floor (for rates: candidate rate / floor rate). Loopback only; servers are real processes.',
    figures,
    missed: missed.map((f) => f.id),
    notes: ctx.notes,
    secondsPerCase: timings,
    seconds,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);

  process.stdout.write(`\n${markdownTable(figures)}\n\n`);
  for (const n of ctx.notes) process.stdout.write(`Note: ${n}\n`);
  process.stdout.write(
    `${info.cpuModel} × ${info.cores} cores, node ${info.node}, ${info.date}; ${seconds} s; ` +
      `${figures.length - missed.length}/${figures.length} targets met${missed.length ? ` (MISSED: ${missed.map((f) => f.id).join(', ')})` : ''}\n` +
      `results: ${relative(process.cwd(), out) || out}\n`,
  );
  return 0;
}

// `npm run bench | head` must not end the run half-way and orphan its servers: a closed stdout/stderr is ignored.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
// Whatever ends the process (a crash included), no server, redis-server or temp dir is left behind.
process.on('exit', runExitCleanups);

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
