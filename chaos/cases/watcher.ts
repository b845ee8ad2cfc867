// Watcher faults: several `interlock serve` replicas on one store (3 on a real redis-server, 3 on the machine's
// PostgreSQL in a schema of their own, 2 on one SQLite file)
// watch 20 pipelines on a 3-second cron while the harness SIGKILLs a random replica every few seconds — the lease
// holder most of the time, often just after a window opened, while triggers are being fired — and restarts it.
// Every fire is counted at the trigger target (each pipeline's command appends $INTERLOCK_RUN_KEY to its own file);
// the windows, runs and the lease are read directly from the store. Properties: no run key and no window fired
// twice; every fired key has its run in the store under that key, claimed by its window; every window whose deadline
// passed is terminal and no window instant is missing; each leader kill hands over within the lease time + 5 s.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findConfigFile, loadProject } from '../../src/config/index.js';
import { isTerminal } from '../../src/engine/run-state.js';
import { isWindowTerminal, type WindowRecord } from '../../src/engine/window.js';
import { DEFAULT_LEASE_MS, WATCHER_LEASE } from '../../src/runtime/watcher/leadership.js';
import { createStore, type Lease, type Store } from '../../src/store/index.js';
import { put } from '../../test/support/files.js';
import { waitMarkedGone } from '../../test/support/leftover-processes.js';
import { sleep, until } from '../../test/support/poll.js';
import { dropSchemas, freshSchemaName, PG_URL, pgAdmin } from '../../test/support/postgres.js';
import { RedisServer } from '../../test/support/redis.js';
import { type Serve, serve } from '../lib/cli.js';
import type { CaseContext, CaseDef } from '../lib/harness.js';

const PIPELINES = 20;
/** Seconds between window openings (the cron below). */
const PERIOD_S = 3;
/** How long replicas are killed and restarted. */
const CHAOS_MS = 54_000;
/** trigger.maxRunSeconds: a run left TRIGGERING by a killed leader is timed out this soon, freeing its pipeline. */
const MAX_RUN_S = 4;
/** Windows whose deadline passed this long before the stop must be terminal (time for the leader to act). */
const MARGIN_MS = 2000;
/** A new leader within the lease time + this, after the leader was killed. */
const HANDOVER_MARGIN_MS = 5000;

const names = Array.from({ length: PIPELINES }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);

/** The project: 20 pipelines, one trait READY for an hour (a passing evaluator), a trigger that records its key. */
function makeWatchProject(root: string, storeYaml: string): void {
  put(root, 'interlock.yaml', `${storeYaml}watcher:\n  sweep: 2s\n`);
  put(root, 'archetypes/gate.yaml', 'name: gate\nrequiredTraits:\n  - type: ready\n');
  put(root, 'evaluators/pass', '#!/bin/sh\ncat >/dev/null\necho \'{"status":"PASS","value":{"ok":true}}\'\n');
  mkdirSync(join(root, 'fired'), { recursive: true });
  for (const p of names) {
    put(
      root,
      `pipelines/${p}.yaml`,
      [
        `name: ${p}`,
        'archetype: gate',
        'traits:',
        '  ready:',
        '    evaluator: pass',
        '    ttl: 1h',
        'trigger:',
        '  type: command',
        `  command: "echo $INTERLOCK_RUN_KEY >> '${join(root, 'fired', p)}'"`,
        '  timeout: 2',
        `  maxRunSeconds: ${MAX_RUN_S}`,
        'schedules:',
        '  - name: fast',
        `    cron: "*/${PERIOD_S} * * * * *"`,
        '',
      ].join('\n'),
    );
  }
}

/** Opens the project's own store (as the CLI would), for reading windows, runs and the lease. */
async function openStore(t: CaseContext, root: string): Promise<Store> {
  const project = loadProject(findConfigFile(root));
  const store = await createStore(project.config);
  t.defer(() => store.close());
  return store;
}

/** The pid inside a lease holder name (`host:pid:random`). */
const pidOf = (holder: string) => Number(holder.split(':').at(-2));

interface LeaseSeen {
  at: number;
  holder: string;
  epoch: number;
}

interface Kill {
  at: number;
  pid: number;
  leader: boolean;
  /** The lease epoch the killed leader held. */
  epoch?: number;
  handoverMs?: number;
  newEpoch?: number;
}

const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
};

/** Runs replicas of `serve` on one store through CHAOS_MS of kills, then checks the windows and the fires. */
async function replicaChaos(t: CaseContext, root: string, replicas: number): Promise<void> {
  const store = await openStore(t, root);
  const storeNow = () => (store.clock ?? { now: () => Date.now() }).now();
  const env = { INTERLOCK_LOG: 'info' };
  const logs: Array<{ pid: number; text: () => string }> = [];
  const start = async (): Promise<Serve> => {
    const s = await serve(t, root, 0, env);
    logs.push({ pid: s.pid, text: () => s.stderr() });
    return s;
  };
  const slots: Array<Serve | undefined> = await Promise.all(Array.from({ length: replicas }, () => start()));
  const startedAt = Date.now();

  // The lease, as the store has it, every 100 ms.
  const seen: LeaseSeen[] = [];
  let current: Lease | undefined;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        current = await store.getLease(WATCHER_LEASE);
        const last = seen.at(-1);
        if (current && (!last || last.epoch !== current.epoch))
          seen.push({ at: Date.now(), holder: current.holder, epoch: current.epoch });
      } catch {}
      await sleep(100);
    }
  })();
  const leaderSlot = (): number | undefined => {
    const l = current;
    if (!l || l.expiresAt <= storeNow()) return undefined;
    const i = slots.findIndex((s) => s?.running && s.pid === pidOf(l.holder));
    return i >= 0 ? i : undefined;
  };

  const gotLeader = await until(() => leaderSlot() !== undefined, 20_000);
  if (!t.check('recovery', 'one replica takes the lease at start', gotLeader, JSON.stringify(current))) return;

  const kills: Kill[] = [];
  const restarts: Array<Promise<void>> = [];
  const endAt = Date.now() + CHAOS_MS;
  while (Date.now() < endAt) {
    // Every 2.5–4.5 s, just after a window opened (0–400 ms in): the leader is then firing its triggers.
    await sleep(2500 + Math.random() * 2000);
    const period = PERIOD_S * 1000;
    await sleep(period - (Date.now() % period) + Math.random() * 400);
    const alive = slots.map((s, i) => (s?.running ? i : -1)).filter((i) => i >= 0);
    if (alive.length < 2) continue; // keep one alive
    const leader = leaderSlot();
    const others = alive.filter((i) => i !== leader);
    const victim =
      leader !== undefined && (Math.random() < 0.7 || others.length === 0)
        ? leader
        : (others[Math.floor(Math.random() * others.length)] as number);
    const s = slots[victim] as Serve;
    const k: Kill = { at: Date.now(), pid: s.pid, leader: victim === leader };
    if (k.leader && current) k.epoch = current.epoch;
    kills.push(k);
    slots[victim] = undefined;
    await s.kill();
    restarts.push(
      (async () => {
        await sleep(1000 + Math.random() * 1500);
        slots[victim] = await start();
      })(),
    );
  }
  await Promise.all(restarts);

  // Settle: a leader, then long enough for it to time out runs a killed leader left TRIGGERING (maxRunSeconds).
  const settled = await until(() => leaderSlot() !== undefined, DEFAULT_LEASE_MS + HANDOVER_MARGIN_MS + 5000);
  t.check('recovery', 'a leader after the last kill', settled, JSON.stringify(current));
  await sleep((MAX_RUN_S + 4) * 1000);
  // Every window whose deadline passed MARGIN before the replicas were told to stop is judged.
  const stopAt = Date.now();
  await Promise.all(slots.map((s) => s?.stop()));
  const stoppedAt = Date.now();
  polling = false;
  await poller;

  // Handovers: the first lease of a higher epoch seen after each leader kill.
  for (const k of kills.filter((x) => x.leader && x.epoch !== undefined)) {
    const next = seen.find((x) => x.at >= k.at && x.epoch > (k.epoch as number));
    if (next) {
      k.handoverMs = next.at - k.at;
      k.newEpoch = next.epoch;
    }
  }
  const leaderKills = kills.filter((k) => k.leader);
  const handovers = leaderKills.map((k) => k.handoverMs).filter((x): x is number => x !== undefined);
  const limit = DEFAULT_LEASE_MS + HANDOVER_MARGIN_MS;
  t.check('recovery', 'the leader was killed at least twice', leaderKills.length >= 2, `${leaderKills.length}`);
  t.check(
    'recovery',
    `after each leader kill, a new leader (higher epoch) within ${limit / 1000} s`,
    handovers.length === leaderKills.length && handovers.every((h) => h <= limit),
    JSON.stringify(leaderKills),
  );

  // What the trigger target saw.
  const fires: Array<{ pipeline: string; key: string }> = [];
  for (const p of names) {
    const f = join(root, 'fired', p);
    const lines = existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
    for (const key of lines) fires.push({ pipeline: p, key });
  }
  const perKey = new Map<string, number>();
  for (const f of fires) perKey.set(f.key, (perKey.get(f.key) ?? 0) + 1);
  const dupKeys = [...perKey].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
  const windowOf = (runKey: string) => runKey.replace(/#\d+$/, '');
  const attemptsFired = new Map<string, string[]>();
  for (const k of perKey.keys()) attemptsFired.set(windowOf(k), [...(attemptsFired.get(windowOf(k)) ?? []), k]);
  const twice = [...attemptsFired].filter(([, ks]) => ks.length > 1).map(([, ks]) => ks.join(' + '));

  // What the store holds.
  const windows: WindowRecord[] = [];
  for (const p of names) windows.push(...(await store.listWindows(p)));
  const byKey = new Map(windows.map((w) => [w.key, w]));
  const byState: Record<string, number> = {};
  for (const w of windows) {
    const d = w.terminal?.detail as { cause?: string; category?: string } | undefined;
    const why = d?.cause ? ` (${d.cause}${d.category ? ` ${d.category}` : ''})` : '';
    byState[`${w.state}${why}`] = (byState[`${w.state}${why}`] ?? 0) + 1;
  }

  t.check('once', 'no run key fired twice (counted at the trigger target)', dupKeys.length === 0, dupKeys.join(', '));
  t.check('once', 'no window fired two attempts', twice.length === 0, twice.join('; '));

  const unrecorded: string[] = [];
  for (const key of perKey.keys()) {
    const run = await store.getRunByKey(key);
    const w = byKey.get(windowOf(key));
    const claimed = w?.attempts.some((a) => a.runKey === key && a.runId === run?.runId);
    if (!run || run.runKey !== key || run.window?.key !== windowOf(key) || !claimed)
      unrecorded.push(`${key}: run ${run?.runId ?? 'none'} ${run?.status ?? ''}, window ${w?.state ?? 'none'}`);
  }
  t.check(
    'gate',
    'every fired key has its run in the store under that key, claimed by its window',
    unrecorded.length === 0,
    unrecorded.join('; '),
  );

  // Every window whose deadline passed well before the stop is terminal; no window instant is missing.
  const cutoff = stopAt - MARGIN_MS;
  // A triggered window follows its run, past the window's deadline too, while that run is within its own deadline.
  const following: string[] = [];
  const live: WindowRecord[] = [];
  for (const w of windows.filter((x) => x.deadlineAt <= cutoff && !isWindowTerminal(x.state))) {
    const cur = w.attempts.at(-1);
    const run = cur && (w.state === 'TRIGGERING' || w.state === 'RUNNING') ? await store.getRun(cur.runId) : undefined;
    if (run && !isTerminal(run.status) && stoppedAt < run.deadlineAt)
      following.push(`${w.key} ${w.state}: run ${run.status} until ${new Date(run.deadlineAt).toISOString()}`);
    else live.push(w);
  }
  t.check(
    'state',
    'every window whose deadline passed is in a terminal state (or follows its run, within the run’s deadline)',
    live.length === 0,
    live.map((w) => `${w.key} ${w.state} (deadline ${new Date(w.deadlineAt).toISOString()})`).join('; '),
  );
  if (following.length)
    t.note(`${following.length} window(s) past their deadline follow their run: ${following.join('; ')}`);
  const gaps: string[] = [];
  for (const p of names) {
    const opens = windows
      .filter((w) => w.pipeline === p)
      .map((w) => w.openAt)
      .sort((a, b) => a - b);
    for (let i = 1; i < opens.length; i++) {
      const d = (opens[i] as number) - (opens[i - 1] as number);
      if (d !== PERIOD_S * 1000) gaps.push(`${p}: ${new Date(opens[i - 1] as number).toISOString()} +${d} ms`);
    }
    const first = opens[0];
    const last = opens.at(-1) as number;
    if (first === undefined || first > startedAt + PERIOD_S * 1000 || last < cutoff - PERIOD_S * 1000)
      gaps.push(`${p}: windows span ${first} … ${last} (replicas ran ${startedAt} … ${stopAt})`);
  }
  t.check('state', 'no window lost: one record for every opening, start to stop', gaps.length === 0, gaps.join('; '));
  const completedUnfired = windows.filter((w) => w.state === 'COMPLETED' && !(attemptsFired.get(w.key)?.length ?? 0));
  t.check(
    'state',
    'every COMPLETED window fired (at the target)',
    completedUnfired.length === 0,
    completedUnfired.map((w) => w.key).join(', '),
  );
  t.check('state', `at least 200 windows`, windows.length >= 200, `${windows.length}`);

  t.eq(
    'recovery',
    'no surviving process once the replicas stopped',
    (await waitMarkedGone(t.mark, 3000)).map((x) => x.cmd),
    [],
  );

  const retried = windows.filter((w) => w.attempts.length > 1);
  const firedNotCompleted = [...attemptsFired.keys()].filter((k) => byKey.get(k)?.state !== 'COMPLETED');
  t.note(
    `${windows.length} windows over ${((stoppedAt - startedAt) / 1000).toFixed(0)} s (${PIPELINES} pipelines, every ${PERIOD_S} s, ${replicas} replicas): ${Object.entries(
      byState,
    )
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
  );
  t.note(
    `${fires.length} fires at the target, ${perKey.size} distinct run keys, ${dupKeys.length} duplicate key(s), ${twice.length} window(s) with two fired attempts`,
  );
  t.note(
    `${kills.length} SIGKILLs (${leaderKills.length} of the leader); handover after a leader kill: max ${Math.max(...handovers)} ms, p50 ${percentile(handovers, 50)} ms (${handovers.join(', ')} ms); lease epochs seen: ${seen.map((s) => s.epoch).join(' → ')}`,
  );
  if (retried.length)
    t.note(
      `${retried.length} window(s) with more than one attempt: ${retried
        .slice(0, 5)
        .map(
          (w) => `${w.key}: ${w.attempts.map((a) => `#${a.attempt} ${a.result ?? ''} ${a.error ?? ''}`).join(' | ')}`,
        )
        .join('; ')}`,
    );
  if (firedNotCompleted.length)
    t.note(
      `${firedNotCompleted.length} window(s) fired but not COMPLETED (a leader killed mid-trigger: outcome unknown): ${firedNotCompleted
        .slice(0, 5)
        .map((k) => `${k} ${byKey.get(k)?.state} ${byKey.get(k)?.terminal?.reason ?? ''}`)
        .join('; ')}`,
    );

  const missedLive = windows.filter(
    (w) => w.state === 'MISSED' && (w.terminal?.detail as { cause?: string } | undefined)?.cause !== 'never-evaluated',
  );
  if (missedLive.length)
    t.note(
      `${missedLive.length} window(s) MISSED while watched: ${missedLive
        .slice(0, 4)
        .map((w) => `${w.key}: ${w.terminal?.reason}`)
        .join('; ')}`,
    );

  const blocked = missedLive.filter((w) => (w.terminal?.detail as { cause?: string } | undefined)?.cause === 'blocked');
  if (t.checks.some((c) => !c.ok) || blocked.length > 0) {
    // Evidence: every replica's log (every window transition at INTERLOCK_LOG=info), the fires and the windows.
    const dir = join(tmpdir(), `interlock-chaos-evidence-${t.mark}`);
    mkdirSync(dir, { recursive: true });
    for (const l of logs) writeFileSync(join(dir, `serve-${l.pid}.log`), l.text());
    writeFileSync(join(dir, 'fires.json'), JSON.stringify(fires, null, 1));
    writeFileSync(join(dir, 'windows.json'), JSON.stringify(windows, null, 1));
    writeFileSync(join(dir, 'kills.json'), JSON.stringify({ kills, seen }, null, 1));
    // A window blocked by a trait whose evaluator always passes: the decisions that said so.
    for (const p of new Set(blocked.map((w) => w.pipeline)))
      writeFileSync(join(dir, `decisions-${p}.json`), JSON.stringify(await store.listDecisions(p), null, 1));
    t.note(`evidence (replica logs, fires, windows, kills): ${dir}`);
  }
}

async function needsRedis(): Promise<string | undefined> {
  if (spawnSync('redis-server', ['--version']).status === 0) return undefined;
  return process.env.CI ? undefined : 'redis-server is not installed (apt-get install redis-server)';
}

async function needsPostgres(): Promise<string | undefined> {
  try {
    await (await pgAdmin()).end();
    return undefined;
  } catch (e) {
    // CI starts the server (.ci/run): there a missing one is a failure, not a case to skip.
    if (process.env.CI) return undefined;
    return `PostgreSQL does not answer at ${PG_URL.replace(/:[^:@/]*@/, ':***@')}: ${(e as Error).message}`;
  }
}

export const watcherCases: CaseDef[] = [
  {
    id: 'watcher-replicas-redis',
    group: 'watcher',
    fault: '3 `serve` replicas on one redis-server, a random one (mostly the leader) SIGKILLed every few seconds',
    timeoutMs: 150_000,
    requires: needsRedis,
    async run(t) {
      const redis = await RedisServer.start();
      t.defer(() => redis.destroy());
      const root = t.dir();
      makeWatchProject(root, `provider: redis\nredis:\n  addr: ${redis.addr}\n  keyPrefix: "chaosw:"\n`);
      await replicaChaos(t, root, 3);
    },
  },
  {
    id: 'watcher-replicas-postgres',
    group: 'watcher',
    fault: '3 `serve` replicas on one PostgreSQL schema, a random one (mostly the leader) SIGKILLed every few seconds',
    timeoutMs: 150_000,
    requires: needsPostgres,
    async run(t) {
      const schema = freshSchemaName('il_chaos');
      t.defer(() => dropSchemas([schema]));
      const root = t.dir();
      makeWatchProject(root, `provider: postgres\npostgres:\n  url: "${PG_URL}"\n  schema: ${schema}\n  poolSize: 4\n`);
      await replicaChaos(t, root, 3);
    },
  },
  {
    id: 'watcher-replicas-sqlite',
    group: 'watcher',
    fault: '2 `serve` replicas on one SQLite file, a random one (mostly the leader) SIGKILLed every few seconds',
    timeoutMs: 150_000,
    async run(t) {
      const root = t.dir();
      makeWatchProject(root, 'provider: sqlite\n');
      await replicaChaos(t, root, 2);
    },
  },
];
