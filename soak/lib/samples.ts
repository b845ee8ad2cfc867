// What the soak run samples each interval, seen from outside the serve process, and the table of the samples.
import { descendants, openFds, rssKb } from '../../test/support/processes.js';

export interface Sample {
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

/** The p-th percentile (0–100) of xs, 0 for none. */
export const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};

export const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** RSS of `pid` in MB (0 when it is gone), rounded. */
export const rssMb = (pid: number) => round((rssKb(pid) ?? 0) / 1024);

/** What the serve process holds now: open fds (by kind) and live descendant processes. */
export function holdings(pid: number): { fds: ReturnType<typeof openFds>; children: number } {
  return { fds: openFds(pid), children: descendants(pid).length };
}

/** The samples as a Markdown table. */
export function table(samples: Sample[]): string {
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
