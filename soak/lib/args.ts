// The soak run's command line: `--minutes N` (required), pipelines, concurrency, sample interval, results file.
import { join } from 'node:path';
import { REPO } from '../../test/support/paths.js';

export interface Args {
  minutes: number;
  pipelines: number;
  concurrency: number;
  /** Seconds between samples (default 60; shorter for runs under 3 minutes). */
  interval: number;
  out: string;
}

export const USAGE =
  'usage: npm run soak -- --minutes N [--pipelines 200] [--concurrency 8] [--interval SECONDS] [--out FILE]\n';

/** Parses the arguments; prints the usage and exits 0 on --help; throws on anything it does not know. */
export function parseArgs(argv: string[]): Args {
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
      process.stdout.write(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  if (!Number.isFinite(minutes)) throw new Error('--minutes N is required (e.g. --minutes 10, or 0.5 for a quick run)');
  // A sample a minute, as asked; a short run gets ~6 samples so its table still shows a trend.
  interval ??= minutes >= 3 ? 60 : Math.max(2, (minutes * 60) / 6);
  return { minutes, pipelines, concurrency, interval, out };
}
