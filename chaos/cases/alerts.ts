// Alert faults: the webhook refuses connections, or accepts and never answers. Alerting is feedback, not control:
// decisions and exit codes stay exactly as without the fault (evaluate READY → 0, NOT_READY → 1; run triggers once,
// exit 0), delivery is bounded by the webhook's timeout, and the other sinks still get the alert.
import { put } from '../../test/support/files.js';
import { waitMarkedGone } from '../../test/support/leftover-processes.js';
import { freePort } from '../../test/support/redis.js';
import { alerts, fired } from '../../test/support/trigger-recorder.js';
import { cli, jsonOf, show } from '../lib/cli.js';
import type { CaseContext, CaseDef } from '../lib/harness.js';
import { startTarget } from '../lib/http-target.js';
import { makeProject } from '../lib/project.js';

const READY_LINE = /^READY\b/m;

/**
 * Checks one project whose webhook is broken. Trait `a` is required (pass), trait `b` optional and failing, and
 * repeatAfter is 0: every evaluation is READY and still sends a TRAIT_FAILED alert through the webhook.
 */
async function webhookFault(
  t: CaseContext,
  url: string,
  withinMs: number,
  warning: RegExp,
  attempts?: () => number,
): Promise<void> {
  const root = makeProject(t.dir(), {
    traits: [
      { type: 'a', evaluator: 'pass' },
      { type: 'b', evaluator: 'fail', optional: true },
    ],
    repeatAfter: 0,
    alertSinks: `    - type: webhook\n      url: ${url}\n      timeout: 1\n      retries: 1\n`,
  });
  const ev = await cli(t, ['evaluate', 'p'], { cwd: root });
  t.eq('error', 'evaluate READY still exits 0', ev.code, 0, show(ev));
  t.check('gate', 'and prints READY', READY_LINE.test(ev.stdout), show(ev));
  t.check('error', 'the failed delivery is a warning on stderr', warning.test(ev.stderr), show(ev));
  t.check('recovery', `delivery gave up within ${withinMs / 1000} s`, ev.ms < withinMs, `${Math.round(ev.ms)} ms`);
  t.note(`evaluate took ${Math.round(ev.ms)} ms; ${ev.stderr.trim().split('\n').pop()}`);
  t.check(
    'state',
    'the file sink still got the alert',
    alerts(root).some((a) => a.kind === 'TRAIT_FAILED'),
    JSON.stringify(alerts(root)),
  );
  if (attempts) t.check('error', 'the webhook was really tried', attempts() >= 1, `attempts ${attempts()}`);

  const run = await cli(t, ['run', 'p', '--json'], { cwd: root });
  t.eq('error', 'run exits 0', run.code, 0, show(run));
  t.eq('state', 'the run is COMPLETED', jsonOf(run)?.run?.status, 'COMPLETED');
  t.eq('once', 'the trigger fired exactly once', fired(root), [jsonOf(run)?.run?.runId]);
  t.check('recovery', `run was done within ${withinMs / 1000} s`, run.ms < withinMs, `${Math.round(run.ms)} ms`);

  // NOT_READY stays NOT_READY (exit 1), and nothing fires.
  put(
    root,
    'pipelines/p.yaml',
    'name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: fail\n  b:\n    evaluator: fail\ntrigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log"\n',
  );
  const blocked = await cli(t, ['run', 'p'], { cwd: root });
  t.eq('error', 'NOT_READY: run still exits 1', blocked.code, 1, show(blocked));
  t.eq('gate', 'and fires nothing', fired(root).length, 1);
  t.eq(
    'recovery',
    'no surviving process',
    (await waitMarkedGone(t.mark, 2000)).map((p) => p.cmd),
    [],
  );
}

export const alertCases: CaseDef[] = [
  {
    id: 'alert-webhook-down',
    group: 'alert',
    fault: 'alert webhook refuses connections',
    short: true,
    async run(t) {
      const port = await freePort();
      await webhookFault(t, `http://127.0.0.1:${port}/alerts`, 6000, /alert sink webhook .* failed: .*ECONNREFUSED/);
    },
  },
  {
    id: 'alert-webhook-slow',
    group: 'alert',
    fault: 'alert webhook never answers (timeout 1 s)',
    async run(t) {
      const target = await startTarget(t, { kind: 'hang' });
      // Two attempts of 1 s plus a 250 ms backoff, plus start-up.
      await webhookFault(
        t,
        `${target.url}/alerts`,
        8000,
        /alert sink webhook .* failed: .*timed out after 1s/,
        () => target.requests.length,
      );
    },
  },
];
