// Trigger faults: the HTTP target answers 500 or 404, hangs, resets the connection or redirects; the command is not
// found or is killed by a signal. The run must end FAILED with the reason (exit 3) after exactly one attempt — a
// trigger is never retried — with the lock released, and the next run must work once the target is fixed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, put } from '../../test/support/files.js';
import { waitMarkedGone } from '../../test/support/leftover-processes.js';
import { sleep, until } from '../../test/support/poll.js';
import { alerts, fired, RECORD_TRIGGER } from '../../test/support/trigger-recorder.js';
import { cli, jsonOf, show } from '../lib/cli.js';
import type { CaseContext, CaseDef } from '../lib/harness.js';
import { type Behaviour, startTarget } from '../lib/http-target.js';
import { makeProject } from '../lib/project.js';

interface Setup {
  /** The trigger block of pipeline p. */
  trigger: string;
  /** Attempts the target saw so far. */
  attempts(): number;
  /** Makes the next attempt succeed. */
  fix(root: string): void;
  /** Runs while `interlock run` is in flight (e.g. to kill the command). */
  during?(root: string): Promise<void>;
}

interface TriggerFault {
  id: string;
  fault: string;
  short?: boolean;
  setup(t: CaseContext): Promise<Setup>;
  /** What the run's trigger error must say. */
  error: RegExp;
  /** The request was sent before the failure: outcome UNKNOWN, alert TRIGGER_OUTCOME_UNKNOWN. */
  unknown?: boolean;
}

async function httpSetup(t: CaseContext, behaviour: (url: string) => Behaviour): Promise<Setup> {
  const target = await startTarget(t, { kind: 'status', status: 200 });
  target.behaviour = behaviour(target.url);
  return {
    trigger: `trigger:\n  type: http\n  url: ${target.url}/trigger\n  timeout: 1\n  async: false\n`,
    attempts: () => target.requests.length,
    fix: () => {
      target.behaviour = { kind: 'status', status: 200 };
    },
  };
}

function commandSetup(command: string, during?: Setup['during']): Setup {
  const setup: Setup = {
    trigger: `trigger:\n  type: command\n  command: "${command}"\n  timeout: 30\n`,
    attempts: () => 0,
    fix: (root) =>
      put(root, 'pipelines/p.yaml', `name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: pass\n${RECORD_TRIGGER}`),
  };
  if (during) setup.during = during;
  return setup;
}

const FAULTS: TriggerFault[] = [
  {
    id: 'trigger-http-500',
    fault: 'HTTP trigger target answers 500',
    short: true,
    setup: (t) => httpSetup(t, () => ({ kind: 'status', status: 500, body: '{"error":"boom"}' })),
    error: /HTTP 500/,
  },
  {
    id: 'trigger-http-404',
    fault: 'HTTP trigger target answers 404',
    setup: (t) => httpSetup(t, () => ({ kind: 'status', status: 404 })),
    error: /HTTP 404/,
  },
  {
    id: 'trigger-http-hang',
    fault: 'HTTP trigger target never answers (timeout 1 s)',
    setup: (t) => httpSetup(t, () => ({ kind: 'hang' })),
    error: /no response within 1/,
    unknown: true,
  },
  {
    id: 'trigger-http-reset',
    fault: 'HTTP trigger target resets the connection',
    short: true,
    setup: (t) => httpSetup(t, () => ({ kind: 'reset' })),
    error: /request failed/,
    unknown: true,
  },
  {
    id: 'trigger-http-redirect',
    fault: 'HTTP trigger target redirects (302)',
    setup: (t) => httpSetup(t, (url) => ({ kind: 'redirect', location: `${url}/elsewhere` })),
    error: /redirected \(302\).*not followed/,
  },
  {
    id: 'trigger-command-not-found',
    fault: 'trigger command not found',
    short: true,
    setup: async () => {
      const s = commandSetup('echo attempt >> attempts.log; chaos-no-such-command-xyz');
      return s;
    },
    error: /exit code 127 \(command not found\)/,
  },
  {
    id: 'trigger-command-killed',
    fault: 'trigger command killed by a signal (SIGKILL from outside)',
    setup: async () =>
      commandSetup('echo attempt >> attempts.log; echo $$ > trigger.pid; exec sleep 30', async (root) => {
        const pidFile = join(root, 'trigger.pid');
        if (await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 15_000)) {
          process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
        }
      }),
    error: /killed by SIGKILL/,
  },
];

function triggerCase(f: TriggerFault): CaseDef {
  return {
    id: f.id,
    group: 'trigger',
    fault: f.fault,
    short: f.short,
    async run(t) {
      const setup = await f.setup(t);
      const root = makeProject(t.dir(), { trigger: setup.trigger });
      const attempts = () => setup.attempts() + lines(root, 'attempts.log').length;
      const running = cli(t, ['run', 'p', '--json'], { cwd: root });
      await setup.during?.(root);
      const r = await running;
      const out = jsonOf(r);
      t.eq('gate', 'the trigger fired only after a READY evaluation', out?.readiness?.outcome, 'READY', show(r));
      t.eq('error', 'run exits 3', r.code, 3, show(r));
      t.eq('error', 'the run ends FAILED', out?.run?.status, 'FAILED', show(r));
      t.check(
        'error',
        `the reason says what happened (${f.error.source})`,
        f.error.test(String(out?.run?.trigger?.error ?? '')),
        JSON.stringify(out?.run?.trigger),
      );
      t.note(`trigger error: ${out?.run?.trigger?.error ?? '(none)'}`);
      t.check(
        'error',
        'the run reason names the trigger failure',
        /trigger/i.test(String(out?.run?.reason ?? '')),
        out?.run?.reason,
      );
      // A request that was sent and got no answer may have started the job: its alert says UNKNOWN, not FAILED.
      if (f.unknown) {
        t.eq('error', 'the outcome is UNKNOWN (the request was sent; never retried)', out?.run?.outcome, 'UNKNOWN');
      }
      const kind = f.unknown ? 'TRIGGER_OUTCOME_UNKNOWN' : 'TRIGGER_FAILED';
      t.check(
        'error',
        `a ${kind} alert for this run`,
        alerts(root).some((a) => a.kind === kind && a.runId === out?.run?.runId),
        JSON.stringify(alerts(root)),
      );
      // Give a (wrong) retry time to show up before counting.
      await sleep(1500);
      t.eq('once', 'exactly one attempt (no retry)', attempts(), 1);
      t.eq(
        'recovery',
        'no surviving process',
        (await waitMarkedGone(t.mark, 2000)).map((p) => p.cmd),
        [],
      );
      const st = jsonOf(await cli(t, ['status', 'p', '--json'], { cwd: root }));
      t.eq('recovery', 'the lock is released', st?.activeRun, null);
      t.eq('state', 'the stored run is FAILED', st?.lastRun?.status, 'FAILED');

      setup.fix(root);
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.eq('recovery', 'target fixed: run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'one more attempt, and only one', attempts() + fired(root).length, 2);
    },
  };
}

export const triggerCases: CaseDef[] = FAULTS.map(triggerCase);
