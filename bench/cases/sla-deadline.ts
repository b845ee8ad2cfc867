// Deadline instant → SLA_BREACHED delivered to a local webhook: `interlock serve` (SQLite) with N pipelines on a
// 6-field cron every 5 s, each with a pushed trait nobody pushes (so every window breaches) and
// `sla.evaluationDeadline: 2s`; a webhook sink (kinds: [SLA_BREACHED]) posts to a receiver in this process that
// stamps each arrival. Latency = arrival − details.deadline. The floor is a bare Node timer in this process that POSTs
// to the same receiver at instants of the same kind (offset by half a period).
import { startAlertReceiver } from '../../test/support/alert-receiver.js';
import { writeFiles } from '../../test/support/files.js';
import { type BenchCase, type Figure, times } from '../lib/figure.js';
import { code, NODE, startServer } from '../lib/proc.js';
import { pipelineName } from '../lib/project.js';
import { median, round } from '../lib/stats.js';
import { sleep } from '../lib/watch.js';

const TARGET_P99_MS = 1000;
const PERIOD_MS = 5000;
const DEADLINE_MS = 2000;

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

export const slaDeadlineCase: BenchCase = {
  id: 'sla-deadline-to-alert',
  title: 'SLA deadline instant → SLA_BREACHED delivered to a local webhook vs a bare timer + POST',
  async run(ctx): Promise<Figure[]> {
    const pipelines = ctx.quick ? 5 : 20;
    const windows = ctx.quick ? 2 : 5;
    const hook = await startAlertReceiver();
    ctx.defer(() => hook.close());
    const root = ctx.tmp('sla-deadline');
    const files: Record<string, string> = {
      'interlock.yaml': `provider: sqlite\nalerts:\n  - { type: webhook, url: "${hook.url}", kinds: [SLA_BREACHED] }\n`,
      'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: upstream\n',
    };
    for (let i = 0; i < pipelines; i++) {
      const name = pipelineName('sla', i);
      files[`pipelines/${name}.yaml`] = [
        `name: ${name}`,
        'archetype: gate',
        'traits:',
        '  upstream:',
        '    evaluator: push',
        '    ttl: 3600',
        'schedules:',
        '  - name: fast',
        '    cron: "*/5 * * * * *"',
        '    catchup: skip',
        'sla:',
        `  evaluationDeadline: ${DEADLINE_MS / 1000}s`,
        '',
      ].join('\n');
    }
    writeFiles(root, files);
    const serve = await startServer(NODE, [code.bin, 'serve', '--addr', '127.0.0.1:0'], { cwd: root });
    ctx.defer(() => serve.stop());

    // The floor: at open + deadline + half a period (never at the candidate's instants), POST to the receiver.
    const floorMs: number[] = [];
    const firstOpen = Math.ceil((Date.now() + 1000) / PERIOD_MS) * PERIOD_MS;
    const floorDone = (async () => {
      for (let k = 0; k < windows; k++) {
        const instants = Array.from(
          { length: pipelines },
          () => firstOpen + k * PERIOD_MS + DEADLINE_MS + PERIOD_MS / 2,
        );
        await sleep(Math.max(0, (instants[0] as number) - Date.now()));
        await Promise.all(
          instants.map(async (at) => {
            const body = JSON.stringify({ kind: 'FLOOR', pipeline: 'floor', message: '', timestampMs: Date.now() });
            const r = await fetch(hook.url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
            await r.text();
            floorMs.push(Date.now() - at); // to the answer: a little more than to the arrival
          }),
        );
      }
    })();
    await sleep(firstOpen + windows * PERIOD_MS + DEADLINE_MS + 3000 - Date.now());
    await floorDone;
    await serve.stop();

    const from = firstOpen;
    const to = firstOpen + (windows - 1) * PERIOD_MS;
    const got = hook.alerts.filter((a) => {
      if (a.kind !== 'SLA_BREACHED') return false;
      const openAt = Date.parse(String(a.window?.split('@')[2]));
      return openAt >= from && openAt <= to;
    });
    const expected = windows * pipelines;
    if (got.length !== expected) {
      throw new Error(
        `expected ${expected} SLA_BREACHED alerts, received ${got.length}\n${serve.output().slice(-2000)}`,
      );
    }
    const xa = got.map((a) => a.receivedAt - Date.parse(String(a.details?.deadline)));
    const pa = { p50: median(xa), p99: pct(xa, 99), max: Math.max(...xa) };
    const pb = { p50: median(floorMs), p99: pct(floorMs, 99) };
    const ratio = pa.p50 / Math.max(1, pb.p50);
    ctx.log(
      `sla-deadline: p50 ${pa.p50.toFixed(0)} ms, p99 ${pa.p99.toFixed(0)} ms, max ${pa.max.toFixed(0)} ms over ${xa.length} windows; floor p50 ${pb.p50.toFixed(0)} ms (${times(ratio)})`,
    );
    ctx.note(
      `sla-deadline-to-alert: ${pipelines} pipelines on cron "*/5 * * * * *" × ${windows} windows, evaluationDeadline ${DEADLINE_MS / 1000}s, trait never pushed; arrival stamped by Date.now() in the receiver (same host, same clock as serve).`,
    );
    return [
      {
        id: 'sla-deadline-to-alert',
        what: `SLA deadline → SLA_BREACHED at a local webhook, ${pipelines} pipelines × ${windows} windows, SQLite`,
        measured: `p50 ${pa.p50.toFixed(0)} ms, p99 ${pa.p99.toFixed(0)} ms, max ${pa.max.toFixed(0)} ms (${xa.length} windows)`,
        floor: `p50 ${pb.p50.toFixed(0)} ms, p99 ${pb.p99.toFixed(0)} ms (setTimeout + fetch)`,
        ratio: round(ratio, 2),
        target: `p99 ≤ ${TARGET_P99_MS} ms`,
        met: pa.p99 <= TARGET_P99_MS,
        numbers: {
          windows: xa.length,
          p50Ms: round(pa.p50, 1),
          p99Ms: round(pa.p99, 1),
          maxMs: round(pa.max, 1),
          floorP50Ms: round(pb.p50, 1),
          floorP99Ms: round(pb.p99, 1),
        },
        details: { candidateMs: xa, floorMs },
      },
    ];
  },
};
