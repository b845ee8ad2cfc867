// The soak run's verdicts: RSS growth after the warm-up, fd and process leaks against the idle baseline, 5xx and
// failed requests, and the SQLite file's integrity after the load.
import { join } from 'node:path';
import { counts, integrity } from '../../test/support/sqlite-file.js';
import { round, type Sample } from '../lib/samples.js';
import type { LoadOutcome } from './load.js';
import type { Baseline } from './prepare.js';
import type { Settled } from './settle.js';

/** RSS before this is warm-up (heap growing, code compiling) and is not compared. */
export const WARMUP_MINUTES = 2;
/** Open fds allowed above the idle baseline once the load has settled. */
const FD_SLACK = 5;

export interface RssVerdict {
  warm: Sample | undefined;
  last: Sample | undefined;
  growthPct: number | undefined;
  verdict: string;
}

/** RSS is judged from the first sample at minute >= 2 (warm: heap grown, code compiled) to the last one. */
export function judgeRss(samples: Sample[], failures: string[]): RssVerdict {
  const warm = samples.find((s) => s.minute >= WARMUP_MINUTES);
  const last = samples[samples.length - 1];
  if (warm && last && warm !== last) {
    const growthPct = round(((last.rssMb - warm.rssMb) / warm.rssMb) * 100);
    if (growthPct > 20)
      failures.push(
        `RSS grew ${growthPct} % (${warm.rssMb} MB at minute ${warm.minute} → ${last.rssMb} MB at the end)`,
      );
    return { warm, last, growthPct, verdict: `${growthPct} % from minute ${warm.minute} to the end (limit 20 %)` };
  }
  const first = samples[0];
  const growth = first && last ? round(((last.rssMb - first.rssMb) / first.rssMb) * 100) : undefined;
  return {
    warm,
    last,
    growthPct: undefined,
    verdict: `not judged: the run ended before the ${WARMUP_MINUTES}-minute warm-up (${growth ?? '?'} % from the first sample, for information)`,
  };
}

/** Leaks and failed requests: pushes a failure for each. */
export function judgeLeaks(idle: Baseline, end: Settled, load: LoadOutcome, failures: string[]): void {
  const { total, firstErrors } = load;
  if (end.fds.total > idle.fds.total + FD_SLACK)
    failures.push(
      `fd leak: ${end.fds.total} open after the load settled, idle baseline ${idle.fds.total} (+${FD_SLACK} slack): ${JSON.stringify(end.fds.byKind)}`,
    );
  if (end.children > idle.children)
    failures.push(`process leak: ${end.children} child process(es) after the load settled (baseline ${idle.children})`);
  if (total.s5xx > 0) failures.push(`${total.s5xx} answer(s) were 5xx: ${firstErrors.join('; ')}`);
  if (total.errors > 0) failures.push(`${total.errors} request(s) got no answer: ${firstErrors.join('; ')}`);
  if (total.evaluations === 0) failures.push('no evaluation succeeded');
}

/** The store after the load: readable and intact. Returns integrity_check's answer. */
export function judgeStore(root: string, failures: string[], log: (m: string) => void): string {
  const path = join(root, '.interlock', 'state.db');
  const result = integrity(path, true);
  if (result === 'ok') {
    try {
      log(`store: integrity_check ${result}, ${counts(path, true).decisions} decisions recorded`);
    } catch {}
  } else failures.push(`SQLite integrity_check: ${result}`);
  return result;
}
