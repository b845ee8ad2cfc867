// `npm run chaos [-- --short] [--only REGEX] [--concurrency N] [--out FILE]`: inject faults into the real built CLI,
// a real `interlock serve`, real SQLite files and real redis-server processes; check the safety properties; print a
// summary table; write the results as JSON (default chaos/results/latest.json). Exit 1 on any violation.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { checkBuild } from '../test/support/build-check.js';
import { REPO } from '../test/support/paths.js';
import { alertCases } from './cases/alerts.js';
import { evaluatorCases } from './cases/evaluators.js';
import { processCases } from './cases/process.js';
import { slaCases } from './cases/sla.js';
import { storeCases } from './cases/store.js';
import { triggerCases } from './cases/triggers.js';
import { watcherCases } from './cases/watcher.js';
import { type CaseDef, type CaseResult, PROPERTIES, runCases, summaryTable } from './lib/harness.js';

export const ALL_CASES: CaseDef[] = [
  ...evaluatorCases,
  ...storeCases,
  ...triggerCases,
  ...processCases,
  ...alertCases,
  ...watcherCases,
  ...slaCases,
];

interface Args {
  short: boolean;
  only?: RegExp;
  concurrency: number;
  out: string;
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    short: false,
    concurrency: Math.max(2, Math.min(6, cpus().length * 2)),
    out: join(REPO, 'chaos', 'results', 'latest.json'),
    list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--short') a.short = true;
    else if (arg === '--only') a.only = new RegExp(value());
    else if (arg === '--concurrency') a.concurrency = Math.max(1, Number.parseInt(value(), 10) || 1);
    else if (arg === '--out') a.out = value();
    else if (arg === '--list') a.list = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        'usage: npm run chaos -- [--short] [--only REGEX] [--concurrency N] [--out FILE] [--list]\n' +
          '  --short        a representative subset (no mount privileges needed), under a minute\n' +
          '  --only REGEX   cases whose id matches\n' +
          '  --out FILE     results JSON (default chaos/results/latest.json)\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return a;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let cases = ALL_CASES.filter((c) => (args.short ? c.short : true)).filter((c) =>
    args.only ? args.only.test(c.id) : true,
  );
  if (args.list) {
    for (const c of cases)
      process.stdout.write(`${c.id.padEnd(34)} ${c.group.padEnd(10)} ${c.short ? 'short ' : '      '}${c.fault}\n`);
    return;
  }
  checkBuild('chaos');
  if (cases.length === 0) {
    process.stderr.write('chaos: no case matches\n');
    process.exit(2);
  }
  // Slow cases first, so the run ends sooner with a few at once.
  cases = [...cases].sort((a, b) => (b.timeoutMs ?? 0) - (a.timeoutMs ?? 0));
  const start = performance.now();
  process.stderr.write(
    `chaos: ${cases.length} case(s)${args.short ? ' (short)' : ''}, ${args.concurrency} at a time\n`,
  );
  const results = await runCases(cases, args.concurrency, (r) => {
    const tag = r.status === 'pass' ? 'ok  ' : r.status === 'fail' ? 'FAIL' : 'n/a ';
    const why = r.status === 'not-runnable' ? ` — not runnable here: ${r.notRunnable}` : '';
    process.stderr.write(`  ${tag} ${r.id} (${(r.durationMs / 1000).toFixed(1)} s)${why}\n`);
    for (const c of r.checks.filter((x) => !x.ok))
      process.stderr.write(`       violated [${c.property}] ${c.name}: ${c.detail ?? ''}\n`);
    if (r.error) process.stderr.write(`       error: ${r.error}\n`);
  });
  const ordered = ALL_CASES.map((c) => results.find((r) => r.id === c.id)).filter(
    (r): r is CaseResult => r !== undefined,
  );
  const violations = ordered.reduce((n, r) => n + r.violations, 0);
  const seconds = (performance.now() - start) / 1000;

  process.stdout.write(`\n${summaryTable(ordered)}\n\n`);
  process.stdout.write(
    `properties: ${Object.entries(PROPERTIES)
      .map(([k, v]) => `${k} = ${v}`)
      .join('; ')}\n`,
  );
  const notRunnable = ordered.filter((r) => r.status === 'not-runnable').length;
  process.stdout.write(
    `${ordered.length} case(s), ${ordered.reduce((n, r) => n + r.checks.length, 0)} checks, ${violations} violation(s), ${notRunnable} not runnable here, ${seconds.toFixed(1)} s\n`,
  );

  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(
    args.out,
    `${JSON.stringify(
      {
        startedAt: new Date(Date.now() - seconds * 1000).toISOString(),
        durationSeconds: Math.round(seconds * 10) / 10,
        mode: args.short ? 'short' : 'full',
        node: process.version,
        uid: process.getuid?.(),
        properties: PROPERTIES,
        violations,
        cases: ordered,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`results: ${args.out}\n`);
  process.exitCode = violations > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
