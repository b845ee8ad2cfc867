// Before the load: register the second half of the pipelines through the API, warm everything up, and take the
// idle baseline (fds, child processes, RSS) that the end of the run is compared with.
import { Agent } from 'node:http';
import { sleep } from '../../test/support/poll.js';
import type { Args } from '../lib/args.js';
import { call } from '../lib/call.js';
import { fromFiles, pipelineName, traitsOf } from '../lib/project.js';
import { holdings, rssMb } from '../lib/samples.js';

export interface Baseline {
  fds: { total: number; byKind: Record<string, number> };
  children: number;
  rssMb: number;
}

/** Registers the API half of the pipelines, runs a warm-up burst, lets it settle; returns the idle baseline. */
export async function prepare(url: URL, pid: number, args: Args): Promise<Baseline> {
  const agent = new Agent({ keepAlive: true, maxSockets: args.concurrency });
  try {
    // Register the second half of the pipelines through the API (they live in the store).
    for (let i = fromFiles(args.pipelines); i < args.pipelines; i++) {
      const name = pipelineName(i);
      const r = await call(agent, url, 'POST', '/api/pipelines', { name, archetype: 'soak', traits: traitsOf(i) });
      if (r.status !== 201) throw new Error(`registering ${name}: HTTP ${r.status} ${r.error ?? ''}`);
    }
    // Warm-up burst: every lazily built thing (statements, routes, the JIT) exists before the idle baseline.
    const names = Array.from({ length: Math.min(40, args.pipelines) }, (_, i) => pipelineName(i));
    await Promise.all(names.map((n) => call(agent, url, 'POST', `/api/pipelines/${n}/evaluate`)));
  } finally {
    agent.destroy();
  }
  await sleep(1500);
  return { ...holdings(pid), rssMb: rssMb(pid) };
}
