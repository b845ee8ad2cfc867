// The soak run's report: the samples table and the verdict on stdout, everything as JSON in the results file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Exit } from '../../test/support/server-process.js';
import type { Args } from '../lib/args.js';
import { round, table } from '../lib/samples.js';
import type { LoadOutcome } from './load.js';
import type { Baseline } from './prepare.js';
import type { Settled } from './settle.js';
import type { RssVerdict } from './verdicts.js';

export interface Outcome {
  args: Args;
  idle: Baseline;
  load: LoadOutcome;
  end: Settled;
  rss: RssVerdict;
  integrity: string;
  serveExit: Exit | null;
  failures: string[];
}

/** Prints the table and the verdict, and writes the results JSON to args.out. */
export function report(o: Outcome): void {
  const { args, idle, load, end, rss, failures } = o;
  const { samples, total } = load;
  const minutes = round((performance.now() - load.started) / 60_000, 2);
  process.stdout.write(`\n${table(samples)}\n\n`);
  process.stdout.write(
    `${total.requests} requests (${total.evaluations} evaluations, ${total.evaluations * 3} evaluator processes) in ${minutes} min; ` +
      `5xx ${total.s5xx}; failed requests ${total.errors}\n` +
      `RSS: ${rss.warm ? `${rss.warm.rssMb} MB at minute ${rss.warm.minute}` : `${samples[0]?.rssMb} MB first`} → ${rss.last?.rssMb} MB at the end, ${end.rssMb} MB after settling; growth ${rss.verdict}\n` +
      `fds: idle baseline ${idle.fds.total} → ${end.fds.total} after settling; children: ${idle.children} → ${end.children}\n`,
  );
  process.stdout.write(
    failures.length
      ? `FAIL:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`
      : `PASS: no fd or process leak, no 5xx, no failed request; RSS ${rss.growthPct === undefined ? 'not judged (shorter than the warm-up)' : `within 20 % (${rss.growthPct} %)`}\n`,
  );
  mkdirSync(dirname(args.out), { recursive: true });
  const results = {
    finishedAt: new Date().toISOString(),
    node: process.version,
    config: { ...args, out: undefined, evaluatorsPerPipeline: 3, registeredThroughApi: Math.floor(args.pipelines / 2) },
    samples,
    totals: { ...total, minutes },
    baseline: { idleFds: idle.fds, idleChildren: idle.children, idleRssMb: idle.rssMb, warmupSample: rss.warm ?? null },
    end: {
      rssMb: rss.last?.rssMb,
      rssGrowthPct: rss.growthPct,
      rssVerdict: rss.verdict,
      settledRssMb: end.rssMb,
      fds: end.fds,
      children: end.children,
    },
    integrity: o.integrity,
    serveExit: o.serveExit,
    ok: failures.length === 0,
    failures,
  };
  writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results: ${args.out}\n`);
}
