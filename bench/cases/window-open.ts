// Window open → first evaluation: `interlock serve` with N pipelines on a 6-field cron every 5 s, each with one
// trait whose evaluator (a shell script) appends its window and its own start time (ms) to a log, and answers FAIL
// (so every window is evaluated once at its open and then waits). Latency = evaluator start − window open instant.
// The floor (bench/floor/timer-spawn.mjs) is a bare Node timer that spawns the same evaluator for N pipelines at the
// same kind of instants, offset by half a period so that the two never compete for the CPU at the same moment.
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFiles } from '../../test/support/files.js';
import { type BenchCase, type Figure, times } from '../lib/figure.js';
import { code, NODE, startServer } from '../lib/proc.js';
import { pipelineName } from '../lib/project.js';
import { median, round } from '../lib/stats.js';
import { sleep } from '../lib/watch.js';

const TARGET_MS = 1000;
const PERIOD_MS = 5000;
const PIPELINES = 10;

const probe = (log: string) => `#!/bin/sh
# Bench evaluator: record the window and when this evaluator started (ms since the epoch), then answer FAIL.
t=$(date +%s%3N)
echo "$INTERLOCK_WINDOW $INTERLOCK_WINDOW_START $t" >> '${log}'
cat >/dev/null
echo '{"status":"FAIL","reason":"bench probe"}'
`;

/** Per window key, the first evaluator start − the window's open instant (ms), for windows opening in [from, to]. */
function latencies(log: string, from: number, to: number): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(log)) return out;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [key, start, t] = line.split(' ');
    if (!key || !start || !t) continue;
    const openAt = Date.parse(start);
    if (!(openAt >= from && openAt <= to)) continue;
    const ms = Number(t) - openAt;
    const seen = out.get(key);
    if (seen === undefined || ms < seen) out.set(key, ms);
  }
  return out;
}

export const windowOpenCase: BenchCase = {
  id: 'window-open-to-evaluation',
  title: 'window open → first evaluator start through the watcher vs a bare timer + spawn',
  async run(ctx): Promise<Figure[]> {
    const windows = ctx.quick ? 4 : 12;
    const root = ctx.tmp('window-open');
    const logA = join(root, 'serve-evals.log');
    const logB = join(root, 'floor-evals.log');
    const files: Record<string, string> = {
      'interlock.yaml': 'provider: sqlite\n',
      'archetypes/probe.yaml':
        'name: probe\nrequiredTraits:\n  - type: probe\n    defaultConfig: {"threshold": 1}\n    defaultTtl: 3600\n    defaultTimeout: 30\n',
      'evaluators/probe': probe(logA),
      'floor/probe': probe(logB),
    };
    for (let i = 0; i < PIPELINES; i++) {
      const name = pipelineName('open', i);
      files[`pipelines/${name}.yaml`] = [
        `name: ${name}`,
        'archetype: probe',
        'traits:',
        '  probe:',
        '    evaluator: probe',
        'schedules:',
        '  - name: fast',
        '    cron: "*/5 * * * * *"',
        '    catchup: skip',
        '',
      ].join('\n');
    }
    writeFiles(root, files);
    for (const f of ['evaluators/probe', 'floor/probe']) chmodSync(join(root, f), 0o755);

    const serve = await startServer(NODE, [code.bin, 'serve', '--addr', '127.0.0.1:0'], { cwd: root });
    ctx.defer(() => serve.stop());
    const floor = await startServer(
      NODE,
      [
        join(code.floor, 'timer-spawn.mjs'),
        join(root, 'floor/probe'),
        String(PIPELINES),
        String(PERIOD_MS),
        String(PERIOD_MS / 2),
        String(windows + 2),
      ],
      { cwd: root },
    );
    ctx.defer(() => floor.stop());
    // Measure windows opening from one second after start-up on (the one in progress at start is SKIPPED).
    const from = Date.now() + 1000;
    await sleep(windows * PERIOD_MS + 3000);
    const to = from + windows * PERIOD_MS;
    await Promise.all([serve.stop(), floor.stop()]);

    const a = latencies(logA, from, to);
    const b = latencies(logB, from, to);
    const expected = windows * PIPELINES;
    if (a.size < expected) {
      throw new Error(
        `expected ${expected} window evaluations from serve, saw ${a.size}\n${serve.output().slice(-2000)}`,
      );
    }
    const xa = [...a.values()];
    const xb = [...b.values()];
    const pa = { p50: median(xa), max: Math.max(...xa) };
    const pb = { p50: median(xb), max: Math.max(...xb) };
    const ratio = pa.p50 / pb.p50;
    ctx.log(
      `window-open: p50 ${pa.p50.toFixed(0)} ms, max ${pa.max.toFixed(0)} ms; floor p50 ${pb.p50.toFixed(0)} ms, max ${pb.max.toFixed(0)} ms (${times(ratio)})`,
    );
    ctx.note(
      `window-open-to-evaluation: ${PIPELINES} pipelines on cron "*/5 * * * * *", ${windows} windows each; the evaluator is a shell script that logs \`date +%s%3N\` as it starts (so the time includes forking sh and date). The floor spawns the same script for ${PIPELINES} pipelines at instants offset by ${PERIOD_MS / 2} ms from the candidate's.`,
    );
    return [
      {
        id: 'window-open-to-evaluation',
        what: `window open → first evaluator start, ${PIPELINES} pipelines × ${windows} windows (6-field cron every 5 s), SQLite`,
        measured: `p50 ${pa.p50.toFixed(0)} ms, max ${pa.max.toFixed(0)} ms (${xa.length} windows)`,
        floor: `p50 ${pb.p50.toFixed(0)} ms, max ${pb.max.toFixed(0)} ms (timer-spawn.mjs)`,
        ratio: round(ratio, 2),
        target: `p50 and max ≤ ${TARGET_MS} ms`,
        met: pa.p50 <= TARGET_MS && pa.max <= TARGET_MS,
        numbers: {
          windows: xa.length,
          p50Ms: round(pa.p50, 1),
          maxMs: round(pa.max, 1),
          floorP50Ms: round(pb.p50, 1),
          floorMaxMs: round(pb.max, 1),
          ratioP50: round(ratio, 2),
        },
        details: {
          candidateMs: xa.map((x) => round(x, 1)),
          floorMs: xb.map((x) => round(x, 1)),
        },
      },
    ];
  },
};
