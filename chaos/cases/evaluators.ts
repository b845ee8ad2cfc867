// Evaluator faults: each evaluator misbehaves one way; `interlock run` must exit 1 (BLOCKED) with the reason code,
// fire nothing, leave no process behind, free the lock, and work again once the evaluator is fixed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { put } from '../../test/support/files.js';
import { waitMarkedGone } from '../../test/support/leftover-processes.js';
import { sleep } from '../../test/support/poll.js';
import { isAlive } from '../../test/support/processes.js';
import { integrity } from '../../test/support/sqlite-file.js';
import { fired } from '../../test/support/trigger-recorder.js';
import { cli, jsonOf, show } from '../lib/cli.js';
import type { CaseContext, CaseDef } from '../lib/harness.js';
import { BASE_EVALUATORS, makeProject } from '../lib/project.js';

interface EvaluatorFault {
  id: string;
  fault: string;
  script: string;
  /** Evaluator timeout, seconds. */
  timeout: number;
  reasonCode: string;
  /** The CLI must be done within this long (ms): the fault must not stall it. */
  withinMs: number;
  /** Text the blocking reason must contain. */
  reasonHas?: string;
  short?: boolean;
  /** Extra checks after the blocked run. */
  after?: (t: CaseContext, root: string) => Promise<void>;
}

const FAULTS: EvaluatorFault[] = [
  {
    id: 'eval-hang',
    fault: 'evaluator hangs (ignores SIGTERM)',
    script: "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 1; done\n",
    timeout: 1,
    reasonCode: 'EVALUATOR_TIMEOUT',
    withinMs: 8000,
  },
  {
    id: 'eval-hang-grandchild',
    fault: 'evaluator hangs; a grandchild holds stdout',
    script: '#!/bin/bash\n(exec sleep 3600) &\necho $! > grandchild.pid\nexec sleep 3600\n',
    timeout: 1,
    reasonCode: 'EVALUATOR_TIMEOUT',
    withinMs: 8000,
    short: true,
    after: async (t, root) => {
      const f = join(root, 'grandchild.pid');
      if (!t.check('recovery', 'the grandchild started (pid file)', existsSync(f))) return;
      const pid = Number(readFileSync(f, 'utf8').trim());
      t.check('recovery', `grandchild ${pid} was killed with the group`, !isAlive(pid));
    },
  },
  {
    id: 'eval-flood',
    fault: 'evaluator floods 100 MB to stdout',
    script: "#!/bin/sh\nhead -c 104857600 /dev/zero | tr '\\0' x\n",
    timeout: 60,
    reasonCode: 'EVALUATOR_OUTPUT_TOO_LARGE',
    // Stopped at the 1 MiB cap, not by its 60 s timeout.
    withinMs: 15_000,
    short: true,
  },
  {
    id: 'eval-signal',
    fault: 'evaluator killed by a signal (SIGKILL)',
    script: '#!/bin/sh\ncat >/dev/null\necho "about to be killed" >&2\nkill -KILL $$\n',
    timeout: 10,
    reasonCode: 'EVALUATOR_ERROR',
    reasonHas: 'SIGKILL',
    withinMs: 8000,
  },
  {
    id: 'eval-garbage',
    fault: 'evaluator exits 0 printing garbage',
    script: '#!/bin/sh\ncat >/dev/null\nprintf \'{"status":"PASS"\'\nhead -c 4096 /dev/urandom\nexit 0\n',
    timeout: 10,
    reasonCode: 'EVALUATOR_OUTPUT_INVALID',
    withinMs: 8000,
    short: true,
  },
  {
    id: 'eval-late-pass',
    fault: 'evaluator sleeps past its timeout, then prints PASS',
    script:
      '#!/bin/sh\ncat >/dev/null\nsleep 3\ntouch late-pass-printed\necho \'{"status":"PASS","value":{"late":true}}\'\n',
    timeout: 1,
    reasonCode: 'EVALUATOR_TIMEOUT',
    withinMs: 8000,
    short: true,
    after: async (t, root) => {
      // Wait until the evaluator would have printed its PASS: it must have been killed before.
      await sleep(3000);
      t.check(
        'recovery',
        'the evaluator never got to print (killed at the timeout)',
        !existsSync(join(root, 'late-pass-printed')),
      );
      const st = jsonOf(await cli(t, ['status', 'p', '--json'], { cwd: root }));
      const trait = st?.traits?.[0];
      t.eq(
        'gate',
        'the stored result stays the timeout FAIL',
        [trait?.state, trait?.result?.reasonCode],
        ['FAIL', 'EVALUATOR_TIMEOUT'],
      );
      const hist = jsonOf(await cli(t, ['history', 'p', '--json'], { cwd: root })) ?? [];
      const outcomes = hist
        .filter((e: { type: string }) => e.type === 'decision')
        .map((e: { outcome: string }) => e.outcome);
      t.eq('gate', 'no READY decision was ever recorded', outcomes, ['NOT_READY']);
    },
  },
];

function evaluatorCase(f: EvaluatorFault): CaseDef {
  return {
    id: f.id,
    group: 'evaluator',
    fault: f.fault,
    short: f.short,
    async run(t) {
      const root = makeProject(t.dir(), {
        evaluators: { bad: f.script },
        traits: [{ type: 'a', evaluator: 'bad', timeout: f.timeout }],
      });
      const r = await cli(t, ['run', 'p', '--json'], { cwd: root, sampleRss: true });
      const out = jsonOf(r);
      t.eq('error', 'run exits 1 (blocked)', r.code, 1, show(r));
      t.eq('error', 'the run ends BLOCKED', out?.run?.status, 'BLOCKED', show(r));
      const blocking = out?.readiness?.blocking ?? [];
      t.eq(
        'error',
        `reason code ${f.reasonCode} in the output`,
        blocking.map((b: { reasonCode: string }) => b.reasonCode),
        [f.reasonCode],
      );
      t.check(
        'error',
        'the run says why it was blocked',
        String(out?.run?.reason ?? '').includes(f.reasonCode),
        out?.run?.reason,
      );
      if (f.reasonHas) {
        t.check(
          'error',
          `the reason names ${f.reasonHas}`,
          String(blocking[0]?.reason ?? '').includes(f.reasonHas),
          blocking[0]?.reason,
        );
      }
      t.eq('gate', 'the trigger did not fire', fired(root), []);
      t.check(
        'recovery',
        `the CLI was done within ${f.withinMs / 1000} s`,
        r.ms < f.withinMs,
        `${Math.round(r.ms)} ms`,
      );
      if (r.peakRssKb !== undefined) {
        t.check('recovery', 'the CLI stayed under 300 MB RSS', r.peakRssKb < 300 * 1024, `peak ${r.peakRssKb} KiB`);
        t.note(`CLI peak RSS ${Math.round(r.peakRssKb / 1024)} MB`);
      }
      const left = await waitMarkedGone(t.mark, 2000);
      t.eq(
        'recovery',
        'no surviving process',
        left.map((p) => p.cmd),
        [],
      );
      await f.after?.(t, root);

      const st = jsonOf(await cli(t, ['status', 'p', '--json'], { cwd: root }));
      t.eq('recovery', 'the lock is released', st?.activeRun, null);
      t.eq('gate', 'status says NOT_READY', st?.outcome, 'NOT_READY');
      t.eq('state', 'the SQLite file passes integrity_check', integrity(join(root, '.interlock/state.db')), 'ok');

      // The evaluator is fixed: the next run triggers exactly once.
      put(root, 'evaluators/bad', BASE_EVALUATORS.pass as string);
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.eq('recovery', 'once fixed, run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'exactly one trigger, carrying that run id', fired(root), [jsonOf(ok)?.run?.runId]);
    },
  };
}

export const evaluatorCases: CaseDef[] = FAULTS.map(evaluatorCase);
