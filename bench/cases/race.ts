// 50 concurrent run attempts on one pipeline, spread over two `interlock serve` processes sharing the store, on
// SQLite and on a real redis-server: exactly one must win (one 202, 49 × 409 naming the winner, one trigger
// execution, one run recorded), and we time how long it takes to decide all fifty.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { onExit } from '../../test/support/exit-cleanups.js';
import { http, httpOk } from '../../test/support/http-request.js';
import { startRedis } from '../../test/support/redis.js';
import type { ServerProcess } from '../../test/support/server-process.js';
import type { BenchCase, CaseContext, Figure } from '../lib/figure.js';
import { code, NODE, startServer } from '../lib/proc.js';
import { makeBenchProject } from '../lib/project.js';
import { median, round } from '../lib/stats.js';

const ATTEMPTS = 50;
const SERVERS = 2;

interface Round {
  decideMs: number;
  winners: number;
  conflicts: number;
  other: number[];
  fired: number;
  runs: number;
  ok: boolean;
}

async function firedLines(root: string, name: string, waitMs: number): Promise<string[]> {
  const f = join(root, 'fired', `${name}.log`);
  const until = Date.now() + waitMs;
  while (!existsSync(f) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  // A second trigger, if there were one, would have fired by now too.
  await new Promise((r) => setTimeout(r, 300));
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

async function race(ctx: CaseContext, store: 'sqlite' | 'redis', config: string): Promise<Figure> {
  const rounds = ctx.quick ? 1 : 5;
  const p = makeBenchProject(ctx.tmp(`race-${store}`), {
    pipelines: rounds,
    traits: 3,
    prefix: 'race',
    config,
    // The trigger keeps the run active (and the lock held) for the whole round.
    trigger: (name) =>
      `trigger:\n  type: command\n  command: "mkdir -p fired && echo $INTERLOCK_RUN_ID >> fired/${name}.log && sleep 5"`,
  });
  const servers: ServerProcess[] = [];
  for (let i = 0; i < SERVERS; i++) {
    const s = await startServer(NODE, [code.bin, 'serve', '--addr', '127.0.0.1:0'], { cwd: p.root });
    ctx.defer(() => s.stop());
    servers.push(s);
  }
  try {
    return await runRounds(ctx, store, p.root, p.names, servers);
  } finally {
    // Stops the sleeping triggers too (aborted by shutdown), so they cost nothing to the next case.
    await Promise.all(servers.map((s) => s.stop()));
  }
}

async function runRounds(
  ctx: CaseContext,
  store: 'sqlite' | 'redis',
  root: string,
  names: string[],
  servers: ServerProcess[],
): Promise<Figure> {
  // Warm every server's store connection, so the race is on the lock and nothing else.
  for (const s of servers) await httpOk(s.url, 'GET', `/api/pipelines/${names[0]}/runs`);
  const rounds = names.length;
  const results: Round[] = [];
  for (const name of names) {
    const t0 = performance.now();
    const replies = await Promise.all(
      Array.from({ length: ATTEMPTS }, (_, i) =>
        http((servers[i % SERVERS] as ServerProcess).url, 'POST', `/api/pipelines/${name}/run`),
      ),
    );
    const decideMs = performance.now() - t0;
    const won = replies.filter((r) => r.status === 202);
    const winner: string | undefined = won[0]?.body?.run?.runId;
    const conflicts = replies.filter(
      (r) => r.status === 409 && r.body?.error?.code === 'ALREADY_RUNNING' && r.body.error.details?.runId === winner,
    ).length;
    const other = replies.filter((r) => r.status !== 202 && r.status !== 409).map((r) => r.status);
    const fired = await firedLines(root, name, 10_000);
    const runs = (await httpOk((servers[0] as ServerProcess).url, 'GET', `/api/pipelines/${name}/runs?limit=1000`))
      .body as unknown[];
    const ok =
      won.length === 1 && conflicts === ATTEMPTS - 1 && fired.length === 1 && fired[0] === winner && runs.length === 1;
    results.push({ decideMs, winners: won.length, conflicts, other, fired: fired.length, runs: runs.length, ok });
    ctx.log(
      `race ${store} ${name}: ${won.length} winner, ${conflicts} × 409, ${fired.length} trigger, ${decideMs.toFixed(0)} ms`,
    );
  }
  const decide = median(results.map((r) => r.decideMs));
  const worst = Math.max(...results.map((r) => r.decideMs));
  const allOk = results.every((r) => r.ok);
  const winners = results.map((r) => r.winners);
  return {
    id: `race-${store}`,
    what: `${ATTEMPTS} concurrent POST …/run on one pipeline, ${SERVERS} servers, ${store === 'sqlite' ? 'SQLite' : 'Redis (real redis-server)'}`,
    measured: `exactly one winner in ${results.filter((r) => r.ok).length}/${rounds} rounds${allOk ? '' : ` (winners: ${winners.join(', ')})`}; all ${ATTEMPTS} decided in ${decide.toFixed(0)} ms (median; worst ${worst.toFixed(0)} ms)`,
    floor: '—',
    ratio: null,
    target: 'exactly one winner',
    met: allOk,
    numbers: {
      rounds,
      attempts: ATTEMPTS,
      servers: SERVERS,
      exactlyOneWinnerEveryRound: allOk,
      decideAllMedianMs: round(decide),
      decideAllWorstMs: round(worst),
    },
    details: { rounds: results.map((r) => ({ ...r, decideMs: round(r.decideMs) })) },
  };
}

export const raceCase: BenchCase = {
  id: 'race',
  title: '50 concurrent run attempts on one pipeline (SQLite, Redis)',
  async run(ctx): Promise<Figure[]> {
    const out = [await race(ctx, 'sqlite', 'provider: sqlite\n')];
    const redis = await startRedis();
    const pid = redis.pid;
    const forget = onExit(() => {
      if (pid !== undefined) process.kill(pid, 'SIGTERM');
      rmSync(redis.dir, { recursive: true, force: true });
    });
    ctx.defer(async () => {
      await redis.destroy();
      forget();
    });
    out.push(await race(ctx, 'redis', `provider: redis\nredis:\n  addr: ${redis.addr}\n  keyPrefix: "bench:"\n`));
    return out;
  },
};
