// Idle `interlock serve` with 10,000 scheduled pipelines whose traits are all fresh: CPU of the serve process (% of
// one core, from /proc utime+stime), evaluator spawns per minute (each evaluator appends a line to a spawn log) and
// RSS, over a minute after start-up has settled; and the start-up time. Every pipeline has a daily window 11–12 h
// away (catch-up skip, so the one in progress at start is recorded SKIPPED and nothing fires) and one trait
// whose PASS result (TTL one day) is written into the store before start. The same is measured a second time with
// `watcher.sweep: 1h`, so the share of the 60 s reconciling sweep in the idle CPU is known. No floor: the targets
// are absolute.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cpuMsOf, rssOf } from '../../test/support/processes.js';
import type { BenchCase, CaseContext, Figure } from '../lib/figure.js';
import { code, NODE, startServer } from '../lib/proc.js';
import { makeBenchProject, seedStore } from '../lib/project.js';
import { round } from '../lib/stats.js';
import { cpuOver, settle, sleep, windowReader } from '../lib/watch.js';

const CPU_TARGET_PCT = 2;
const RSS_TARGET_MB = 300;

const spawnLogger = (log: string) => `#!/bin/sh
# Bench evaluator: log the spawn, answer PASS.
echo spawn >> '${log}'
cat >/dev/null
echo '{"status":"PASS","value":{"ok":1}}'
`;

const lineCount = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0);

interface IdleRun {
  sweep: string;
  startMs: number;
  recordedMs: number;
  settledMs: number;
  /** CPU serve used from spawn until start-up had settled (less sensitive to a loaded machine than wall time). */
  startCpuMs: number;
  cpuPct: number;
  cpuMs: number;
  wallMs: number;
  spawns: number;
  spawnsTotal: number;
  rssMb: number;
  peakRssMb: number;
}

async function idleRun(ctx: CaseContext, root: string, n: number, sweep: string, measureMs: number): Promise<IdleRun> {
  writeFileSync(join(root, 'interlock.yaml'), `provider: sqlite\nwatcher:\n  sweep: ${sweep}\n`);
  const log = join(root, 'spawns.log');
  const before = lineCount(log);
  const reader = await windowReader(root);
  ctx.defer(() => reader.close());
  const serve = await startServer(NODE, [code.bin, 'serve', '--addr', '127.0.0.1:0'], {
    cwd: root,
    timeoutMs: 300_000,
  });
  ctx.defer(() => serve.stop());
  try {
    // Start-up is done once every pipeline's window in progress is recorded (SKIPPED) and the CPU has calmed down.
    const t0 = performance.now();
    for (;;) {
      const heads = await reader.heads();
      if (heads.length >= n) break;
      if (performance.now() - t0 > 300_000) throw new Error(`only ${heads.length}/${n} windows recorded`);
      await sleep(250);
    }
    const recordedMs = performance.now() - t0;
    const settledMs = recordedMs + (await settle(serve.pid, { quietPct: 10, quietSeconds: 3, maxMs: 60_000 }));
    const startCpuMs = cpuMsOf(serve.pid);
    const spawns0 = lineCount(log);
    const cpu = await cpuOver(serve.pid, measureMs);
    const spawns = lineCount(log) - spawns0;
    const rss = rssOf(serve.pid);
    const run: IdleRun = {
      sweep,
      startMs: serve.startMs,
      recordedMs,
      settledMs,
      startCpuMs,
      ...cpu,
      cpuPct: cpu.pct,
      spawns,
      spawnsTotal: lineCount(log) - before,
      rssMb: rss.rssMb,
      peakRssMb: rss.peakMb,
    };
    ctx.log(
      `idle ${n} (sweep ${sweep}): listening after ${(serve.startMs / 1000).toFixed(1)} s, windows recorded after +${(recordedMs / 1000).toFixed(1)} s (start-up used ${(startCpuMs / 1000).toFixed(1)} s CPU); CPU ${cpu.pct.toFixed(2)} % of a core over ${(cpu.wallMs / 1000).toFixed(0)} s (${cpu.cpuMs.toFixed(0)} ms), ${spawns} spawns, RSS ${rss.rssMb.toFixed(0)} MB (peak ${rss.peakMb.toFixed(0)} MB)`,
    );
    return run;
  } finally {
    await serve.stop();
    await reader.close();
  }
}

export const idle10kCase: BenchCase = {
  id: 'idle-10k',
  title: 'idle serve with 10k scheduled pipelines, every trait fresh: CPU, evaluator spawns, RSS, start-up',
  async run(ctx): Promise<Figure[]> {
    const n = ctx.quick ? 2000 : 10_000;
    const measureMs = ctx.quick ? 30_000 : 60_000;
    const root = ctx.tmp('idle');
    const log = join(root, 'spawns.log');
    // Daily windows eleven to twelve hours from now (60 different crons, one per minute of that hour: pipelines
    // rarely all share one pattern, and the watcher shares a parsed cron only between identical schedules).
    const hour = new Date(Date.now() + 12 * 3600_000).getUTCHours();
    const cron = (name: string) => `${Number(name.slice(-5)) % 60} ${hour} * * *`;
    const t0 = performance.now();
    const p = makeBenchProject(root, {
      pipelines: n,
      traits: 1,
      prefix: 'idle',
      trigger: (name) =>
        `trigger:\n  type: command\n  command: "echo fired >> fired.log"\nschedules:\n  - name: daily\n    cron: "${cron(name)}"\n    catchup: skip\n`,
    });
    writeFileSync(join(root, p.evaluators[0] as string), spawnLogger(log));
    chmodSync(join(root, p.evaluators[0] as string), 0o755);
    const writeMs = performance.now() - t0;
    const seed = await seedStore(root);
    if (seed.pipelines !== n) throw new Error(`seeded ${seed.pipelines} pipelines, expected ${n}`);
    ctx.log(
      `idle ${n}: project written in ${(writeMs / 1000).toFixed(1)} s, store seeded in ${(seed.ms / 1000).toFixed(1)} s`,
    );

    const main = await idleRun(ctx, root, n, '60s', measureMs);
    const noSweep = await idleRun(ctx, root, n, '1h', measureMs);
    if (existsSync(join(root, 'fired.log'))) throw new Error('a trigger fired during the idle run');
    const perMin = (r: IdleRun) => (r.spawns / r.wallMs) * 60_000;
    const k = n >= 1000 ? `${n / 1000}k` : String(n);
    const sweepSharePct = main.cpuPct > 0 ? ((main.cpuPct - noSweep.cpuPct) / main.cpuPct) * 100 : 0;
    ctx.note(
      `idle-10k: ${k} pipelines, each with one trait (a script evaluator that logs its spawns; its PASS result, TTL one day, written into SQLite through the built SqliteStore before start) and a daily cron window 11–12 h away (60 distinct crons) with catch-up skip. Measured over ${measureMs / 1000} s once every window in progress had been recorded (SKIPPED) and serve's CPU had stayed under 10 % for 3 s; the second line is the same with watcher.sweep: 1h (no sweep during the measurement), restarted on the same store, so its windows were recorded already.`,
    );
    const row = (r: IdleRun, id: string, label: string): Figure => ({
      id,
      what: `idle \`interlock serve\`, ${k} scheduled pipelines, every trait fresh, ${label}`,
      measured: `CPU ${r.cpuPct.toFixed(2)} % of a core, ${perMin(r).toFixed(0)} spawns/min, RSS ${r.rssMb.toFixed(0)} MB (peak ${r.peakRssMb.toFixed(0)} MB); listening after ${(r.startMs / 1000).toFixed(1)} s, windows recorded ${((r.startMs + r.recordedMs) / 1000).toFixed(1)} s after spawn (${(r.startCpuMs / 1000).toFixed(1)} s CPU)`,
      floor: '—',
      ratio: null,
      target: `CPU ≤ ${CPU_TARGET_PCT} %, 0 spawns/min, RSS ≤ ${RSS_TARGET_MB} MB`,
      met: r.cpuPct <= CPU_TARGET_PCT && r.spawns === 0 && r.peakRssMb <= RSS_TARGET_MB,
      numbers: {
        pipelines: n,
        sweep: r.sweep,
        cpuPct: round(r.cpuPct, 3),
        cpuMs: round(r.cpuMs),
        wallMs: round(r.wallMs),
        spawnsPerMin: round(perMin(r), 2),
        spawnsSinceStart: r.spawnsTotal,
        rssMb: round(r.rssMb, 1),
        peakRssMb: round(r.peakRssMb, 1),
        listeningMs: round(r.startMs),
        windowsRecordedMs: round(r.startMs + r.recordedMs),
        settledMs: round(r.startMs + r.settledMs),
        startCpuMs: round(r.startCpuMs),
      },
      ...(id === 'idle-10k'
        ? {
            details: { sweepSharePct: round(sweepSharePct, 1), projectWriteMs: round(writeMs), seedMs: round(seed.ms) },
          }
        : {}),
    });
    return [row(main, 'idle-10k', 'sweep 60 s (default)'), row(noSweep, 'idle-10k-no-sweep', 'watcher.sweep: 1h')];
  },
};
