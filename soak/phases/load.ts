// The load: `concurrency` workers (80 % evaluate, 10 % readiness, 5 % traits, 5 % the runs list) and a health
// prober, for the run's duration, with a sample of the serve process every interval.
import { Agent } from 'node:http';
import { sleep } from '../../test/support/poll.js';
import { isAlive } from '../../test/support/processes.js';
import type { Args } from '../lib/args.js';
import { call } from '../lib/call.js';
import { pipelineName } from '../lib/project.js';
import { holdings, pct, round, rssMb, type Sample } from '../lib/samples.js';

export interface Totals {
  requests: number;
  evaluations: number;
  s5xx: number;
  errors: number;
}

export interface LoadOutcome {
  samples: Sample[];
  total: Totals;
  /** The first few failed requests, for the verdict. */
  firstErrors: string[];
  /** performance.now() when the load started. */
  started: number;
  /** The serve process died during the load. */
  died: boolean;
}

/** Runs the load until the run's time is up (or serve dies); resolves once every worker has stopped. */
export async function runLoad(url: URL, pid: number, args: Args, log: (m: string) => void): Promise<LoadOutcome> {
  const names = Array.from({ length: args.pipelines }, (_, i) => pipelineName(i));
  const agent = new Agent({ keepAlive: true, maxSockets: args.concurrency });
  const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  let stop = false;
  let window = { requests: 0, evaluations: 0, s5xx: 0, errors: 0, health: [] as number[] };
  const firstErrors: string[] = [];
  const total: Totals = { requests: 0, evaluations: 0, s5xx: 0, errors: 0 };
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
      const r = await call(agent, url, method as string, path as string);
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
      const r = await call(probeAgent, url, 'GET', '/api/health');
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
  let died = false;
  const running = [...Array.from({ length: args.concurrency }, worker), prober()];
  log(
    `load: ${args.pipelines} pipelines × 3 evaluators, ${args.concurrency} concurrent requests, ${args.minutes} min, a sample every ${round(args.interval)} s`,
  );
  try {
    let next = started + args.interval * 1000;
    while (performance.now() < endAt - 200) {
      await sleep(Math.max(0, Math.min(next, endAt) - performance.now()));
      const w = window;
      window = { requests: 0, evaluations: 0, s5xx: 0, errors: 0, health: [] };
      const secs = (performance.now() - (next - args.interval * 1000)) / 1000;
      const now = holdings(pid);
      const s: Sample = {
        minute: round((performance.now() - started) / 60_000, 2),
        rssMb: rssMb(pid),
        fds: now.fds.total,
        children: now.children,
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
      if (!isAlive(pid)) {
        died = true;
        break;
      }
    }
  } finally {
    stop = true;
    await Promise.all(running);
    agent.destroy();
    probeAgent.destroy();
  }
  return { samples, total, firstErrors, started, died };
}
