// SLA faults: two `serve` replicas on one SQLite file watch a pipeline whose trait nobody pushes, with an evaluation
// deadline 12 s after each window opens; the harness SIGKILLs the replica holding the lease 1 s before that deadline.
// The breach must still fire, once (file sink and a local webhook each see exactly one SLA_BREACHED for the window),
// from the surviving replica, within the lease time + 1 s of the deadline, marked late with its delay.
import { findConfigFile, loadProject } from '../../src/config/index.js';
import { DEFAULT_LEASE_MS, WATCHER_LEASE } from '../../src/runtime/watcher/leadership.js';
import { createStore } from '../../src/store/index.js';
import { startAlertReceiver } from '../../test/support/alert-receiver.js';
import { lines, put } from '../../test/support/files.js';
import { sleep, until } from '../../test/support/poll.js';
import { type Serve, serve } from '../lib/cli.js';
import type { CaseDef } from '../lib/harness.js';

const PERIOD_S = 20;
const DEADLINE_MS = 12_000;

const pidOf = (holder: string) => Number(holder.split(':').at(-2));

export const slaCases: CaseDef[] = [
  {
    id: 'sla-leader-killed-before-deadline',
    group: 'watcher',
    fault: 'the lease holder of 2 `serve` replicas (SQLite) SIGKILLed 1 s before an SLA deadline',
    timeoutMs: 120_000,
    async run(t) {
      const hook = await startAlertReceiver();
      t.defer(() => hook.close());
      const root = t.dir();
      put(
        root,
        'interlock.yaml',
        `provider: sqlite\nalerts:\n  - { type: file, path: ./alerts.log }\n  - { type: webhook, url: "${hook.url}" }\n`,
      );
      put(root, 'archetypes/gate.yaml', 'name: gate\nrequiredTraits:\n  - type: upstream\n');
      put(
        root,
        'pipelines/p.yaml',
        [
          'name: p',
          'archetype: gate',
          'traits:',
          '  upstream:',
          '    evaluator: push',
          '    ttl: 1h',
          'schedules:',
          '  - name: fast',
          `    cron: "*/${PERIOD_S} * * * * *"`,
          '    catchup: skip',
          'sla:',
          `  evaluationDeadline: ${DEADLINE_MS / 1000}s`,
          '',
        ].join('\n'),
      );
      const project = loadProject(findConfigFile(root));
      const store = await createStore(project.config);
      t.defer(() => store.close());
      const replicas: Serve[] = await Promise.all([
        serve(t, root, 0, { INTERLOCK_LOG: 'info' }),
        serve(t, root, 0, { INTERLOCK_LOG: 'info' }),
      ]);
      const leaderOf = async () => {
        const l = await store.getLease(WATCHER_LEASE);
        return replicas.find((s) => s.running && l !== undefined && s.pid === pidOf(l.holder));
      };
      const led = await until(async () => (await leaderOf()) !== undefined, 20_000);
      if (!t.check('recovery', 'one replica takes the lease at start', led)) return;

      // The first window whose deadline is at least 3 s away.
      const period = PERIOD_S * 1000;
      let openAt = Math.ceil(Date.now() / period) * period;
      if (openAt + DEADLINE_MS - Date.now() < 3000) openAt += period;
      const deadline = openAt + DEADLINE_MS;
      const key = `p@fast@${new Date(openAt).toISOString().replace('.000Z', 'Z')}`;
      await sleep(deadline - 1000 - Date.now());
      const victim = await leaderOf();
      if (!t.check('recovery', 'a leader to kill 1 s before the deadline', victim !== undefined)) return;
      await victim?.kill();
      const killedAt = Date.now();

      const breaches = () => hook.alerts.filter((a) => a.kind === 'SLA_BREACHED' && a.window === key);
      const limit = DEFAULT_LEASE_MS + 1000;
      await until(() => breaches().length > 0, deadline + limit + 3000 - Date.now());
      // Time for a duplicate to show up, if there were one.
      await sleep(3000);
      const got = breaches();
      const fromFile = lines(root, 'alerts.log')
        .map((l) => JSON.parse(l) as { kind: string; window?: string })
        .filter((a) => a.kind === 'SLA_BREACHED' && a.window === key);
      t.eq('once', 'the breach fires once (webhook)', got.length, 1, key);
      t.eq('once', 'the breach fires once (file sink)', fromFile.length, 1, key);
      const delay = (got[0]?.receivedAt ?? Number.POSITIVE_INFINITY) - deadline;
      t.check(
        'recovery',
        `the breach arrives within the lease time + 1 s of the deadline (${limit} ms)`,
        delay <= limit,
        `arrived ${delay} ms after the deadline; leader killed ${killedAt - deadline} ms from it`,
      );
      t.check(
        'state',
        'the late breach says it is late, with its delay',
        got[0]?.details?.late === true && typeof got[0]?.details?.delayMs === 'number',
        JSON.stringify(got[0]?.details),
      );
      t.note(`breach ${delay} ms after the deadline (leader SIGKILLed ${deadline - killedAt} ms before it)`);
    },
  },
];
