// Process faults: `interlock run` SIGKILLed at each point of its lifecycle (stopped there by the test-only
// checkpoint entry point, test/support/checkpoint-cli.mjs), and
// `interlock serve` SIGKILLed while a trigger command runs. The run stays visible with its state and keeps the lock;
// nothing fires again by itself; it can be resolved (cancel / complete); after that exactly one new trigger.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitMarkedGone } from '../../test/support/leftover-processes.js';
import { CHECKPOINT_CLI } from '../../test/support/paths.js';
import { until } from '../../test/support/poll.js';
import { isAlive } from '../../test/support/processes.js';
import { integrity } from '../../test/support/sqlite-file.js';
import { fired } from '../../test/support/trigger-recorder.js';
import { api, cli, cliEnv, jsonOf, type Serve, serve, show } from '../lib/cli.js';
import type { CaseContext, CaseDef } from '../lib/harness.js';
import { makeProject } from '../lib/project.js';

type PausePoint = 'after-pending' | 'after-triggering' | 'after-trigger-call';

/** Starts `interlock run p` paused at `point`, waits for the pause, SIGKILLs it; returns the run id. */
async function killRunAt(t: CaseContext, root: string, point: PausePoint): Promise<string | undefined> {
  const child = spawn(process.execPath, [CHECKPOINT_CLI, point, 'run', 'p'], {
    cwd: root,
    env: cliEnv(t),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  let err = '';
  const runId = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 20_000);
    child.stderr.on('data', (d: Buffer) => {
      err += d;
      const m = /INTERLOCK_PAUSED \S+ (\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then(() => resolve(undefined));
  });
  child.kill('SIGKILL');
  await exited;
  if (runId === undefined) t.note(`run did not pause at ${point}: ${err}`);
  return runId;
}

const POINTS: Array<{ point: PausePoint; status: string; firedBefore: number; short?: boolean }> = [
  { point: 'after-pending', status: 'PENDING', firedBefore: 0 },
  { point: 'after-triggering', status: 'TRIGGERING', firedBefore: 0 },
  { point: 'after-trigger-call', status: 'TRIGGERING', firedBefore: 1, short: true },
];

function killRunCase(p: (typeof POINTS)[number]): CaseDef {
  return {
    id: `sigkill-run-${p.point}`,
    group: 'process',
    fault: `SIGKILL of \`run\` ${p.point.replaceAll('-', ' ')}`,
    short: p.short,
    async run(t) {
      const root = makeProject(t.dir());
      const runId = await killRunAt(t, root, p.point);
      if (!t.check('state', `run paused at ${p.point} and was killed`, runId !== undefined)) return;
      t.eq('once', `fired ${p.firedBefore} time(s) before the kill`, fired(root).length, p.firedBefore);
      t.eq(
        'recovery',
        'no surviving process',
        (await waitMarkedGone(t.mark, 2000)).map((x) => x.cmd),
        [],
      );

      const st = jsonOf(await cli(t, ['status', 'p', '--json'], { cwd: root }));
      t.eq(
        'state',
        `the run is visible as ${p.status}, holding the lock`,
        [st?.activeRun?.runId, st?.activeRun?.status],
        [runId, p.status],
      );
      const again = await cli(t, ['run', 'p'], { cwd: root });
      t.check(
        'gate',
        'a restart is refused: already running <runId> (exit 1)',
        again.code === 1 && again.stderr.includes(`already running: ${runId}`),
        show(again),
      );
      t.check(
        'error',
        'the refusal says the state and how to resolve it',
        again.stderr.includes(p.status) && again.stderr.includes(`interlock cancel ${runId}`),
        show(again),
      );
      t.eq('once', 'nothing fired again by itself', fired(root).length, p.firedBefore);
      t.eq('state', 'integrity_check ok', integrity(join(root, '.interlock/state.db')), 'ok');

      const c = await cli(t, ['cancel', String(runId)], { cwd: root });
      t.eq('recovery', 'the stuck run can be cancelled (exit 0)', c.code, 0, show(c));
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.eq('recovery', 'then run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'exactly one new trigger', fired(root).slice(p.firedBefore), [jsonOf(ok)?.run?.runId]);
      const hist = jsonOf(await cli(t, ['history', 'p', '--json'], { cwd: root })) ?? [];
      const killed = hist
        .filter((e: { type: string; runId?: string }) => e.type === 'run' && e.runId === runId)
        .map((e: { to: string }) => e.to);
      t.eq('state', 'the killed run history ends CANCELLED', killed[0], 'CANCELLED');
    },
  };
}

/** The trigger: records its run id and pid, then runs long while `slow` exists. */
const SLOW_TRIGGER =
  'trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log; echo $$ > job.pid; if [ -e slow ]; then sleep 60; fi"\n';

/** Starts a run through the API and waits until its trigger command is running; returns the run id and job pid. */
async function startSlowRun(
  t: CaseContext,
  s: Serve,
  root: string,
  n: number,
): Promise<{ runId?: string; job?: number }> {
  writeFileSync(join(root, 'slow'), '');
  if (existsSync(join(root, 'job.pid'))) unlinkSync(join(root, 'job.pid'));
  const r = await api(s.url, 'POST', '/api/pipelines/p/run');
  t.eq('state', `run ${n}: POST …/run answers 202`, r.status, 202, r.text);
  const runId: string | undefined = r.body?.run?.runId;
  const running = await until(() => fired(root).length === n && existsSync(join(root, 'job.pid')), 10_000);
  t.check('state', `run ${n}: the trigger command is running`, running);
  const job = running ? Number(readFileSync(join(root, 'job.pid'), 'utf8').trim()) : undefined;
  // The command's process group is recorded on the run right after it starts (so a cancel can stop it later).
  const recorded = await until(
    async () => (await api(s.url, 'GET', `/api/runs/${runId}`)).body?.job?.pgid === job,
    10_000,
  );
  t.check('state', `run ${n}: the run records its command's process group`, recorded);
  return job === undefined ? { runId } : { runId, job };
}

/** After serve was killed: the run is visible, holds the lock, and nothing fires again. */
async function checkStuck(t: CaseContext, s: Serve, root: string, runId: string | undefined, n: number): Promise<void> {
  const got = await api(s.url, 'GET', `/api/runs/${runId}`);
  t.eq(
    'state',
    `run ${n}: GET /api/runs/{id} shows it TRIGGERING after the restart`,
    [got.status, got.body?.status],
    [200, 'TRIGGERING'],
  );
  const again = await api(s.url, 'POST', '/api/pipelines/p/run');
  t.check('gate', `run ${n}: a new run is refused (409)`, again.status === 409, `${again.status} ${again.text}`);
  t.check(
    'error',
    `run ${n}: the refusal is ALREADY_RUNNING naming that run`,
    again.body?.error?.code === 'ALREADY_RUNNING' && again.body?.error?.details?.runId === runId,
    again.text,
  );
  t.eq('once', `run ${n}: nothing fired again`, fired(root).length, n);
}

/** Ends the orphaned trigger command (what the job itself would do), and checks nothing else of the case runs. */
async function endJob(t: CaseContext, job: number | undefined, n: number): Promise<void> {
  if (job !== undefined && isAlive(job)) {
    t.note(
      `run ${n}: the trigger command (pid ${job}, its own process group) outlived the SIGKILLed serve, as a launched job does; ended by the harness`,
    );
    try {
      process.kill(-job, 'SIGKILL');
    } catch {}
  }
}

const killServeCase: CaseDef = {
  id: 'sigkill-serve-mid-trigger',
  group: 'process',
  fault: 'SIGKILL of `serve` while a trigger command runs; restart',
  short: true,
  timeoutMs: 120_000,
  async run(t) {
    const root = makeProject(t.dir(), { trigger: SLOW_TRIGGER });
    const s1 = await serve(t, root);
    const port = Number(new URL(s1.url).port);
    const outputDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('interlock-output-'));
    const dirsBefore = new Set(outputDirs());

    // 1: crash mid-trigger, restart, resolve with a completion callback.
    const one = await startSlowRun(t, s1, root, 1);
    await s1.kill();
    const s2 = await serve(t, root, port);
    await checkStuck(t, s2, root, one.runId, 1);
    // A command run's outcome is its command's exit status: a callback cannot end it while it runs.
    const done = await api(s2.url, 'POST', `/api/runs/${one.runId}/complete`, { status: 'success' });
    t.eq(
      'error',
      'run 1: POST …/complete of the running command run is refused (409 CONFLICT)',
      [done.status, done.body?.error?.code],
      [409, 'CONFLICT'],
      done.text,
    );
    const stop = await api(s2.url, 'POST', `/api/runs/${one.runId}/cancel`, { reason: 'chaos: serve crashed' });
    t.eq(
      'recovery',
      'run 1: resolved by POST …/cancel → CANCELLED',
      [stop.status, stop.body?.run?.status],
      [200, 'CANCELLED'],
    );
    t.check(
      'recovery',
      'run 1: the cancel stopped the orphaned command (it outlived serve, in its own process group)',
      one.job !== undefined && !isAlive(one.job),
    );
    await endJob(t, one.job, 1);

    // 2: crash mid-trigger again, restart, resolve by cancelling.
    const two = await startSlowRun(t, s2, root, 2);
    await s2.kill();
    const s3 = await serve(t, root, port);
    await checkStuck(t, s3, root, two.runId, 2);
    const cancelled = await api(s3.url, 'POST', `/api/runs/${two.runId}/cancel`, { reason: 'chaos: serve crashed' });
    t.eq(
      'recovery',
      'run 2: resolved by POST …/cancel → CANCELLED',
      [cancelled.status, cancelled.body?.run?.status],
      [200, 'CANCELLED'],
    );
    t.check('recovery', 'run 2: the cancel stopped the orphaned command', two.job !== undefined && !isAlive(two.job));
    await endJob(t, two.job, 2);

    // Then a normal run: exactly one more trigger, and it completes.
    rmSync(join(root, 'slow'));
    const three = await api(s3.url, 'POST', '/api/pipelines/p/run');
    t.eq('recovery', 'a later run is accepted (202)', three.status, 202, three.text);
    const runId = three.body?.run?.runId;
    t.check(
      'recovery',
      'and COMPLETES',
      await until(async () => (await api(s3.url, 'GET', `/api/runs/${runId}`)).body?.status === 'COMPLETED', 10_000),
    );
    t.eq('once', 'one trigger per run, never a duplicate', fired(root), [one.runId, two.runId, runId]);
    t.eq('state', 'integrity_check ok', integrity(join(root, '.interlock/state.db')), 'ok');

    await s3.kill();
    t.eq(
      'recovery',
      'no surviving process once the jobs ended',
      (await waitMarkedGone(t.mark, 3000)).map((x) => x.cmd),
      [],
    );
    const leaked = outputDirs().filter(
      (d) => !dirsBefore.has(d) && (d.includes(`-${s1.pid}-`) || d.includes(`-${s2.pid}-`)),
    );
    if (leaked.length) {
      t.note(
        `the killed serve processes left ${leaked.length} trigger-output temp dir(s) in ${tmpdir()} (removed by the harness)`,
      );
      for (const d of leaked) rmSync(join(tmpdir(), d), { recursive: true, force: true });
    }
  },
};

/**
 * `interlock cancel` from another process while `interlock run` waits on its trigger command: the command's process
 * group is stopped before the run is CANCELLED, so the lock is never free while the job runs; a second run meanwhile
 * is refused; a callback cannot end the command run; the run that fired exits 3; a later run fires exactly once.
 */
const cancelKillsJobCase: CaseDef = {
  id: 'cancel-kills-job',
  group: 'process',
  fault: '`cancel` from another process while the trigger command runs',
  short: true,
  async run(t) {
    const root = makeProject(t.dir(), { trigger: SLOW_TRIGGER });
    writeFileSync(join(root, 'slow'), '');
    const first = cli(t, ['run', 'p', '--json'], { cwd: root });
    const running = await until(() => fired(root).length === 1 && existsSync(join(root, 'job.pid')), 15_000);
    if (!t.check('state', 'the trigger command is running', running)) return;
    const job = Number(readFileSync(join(root, 'job.pid'), 'utf8').trim());
    const runId = fired(root)[0] as string;
    // The command's process group is recorded on the run as soon as it starts.
    const recorded = await until(
      async () => jsonOf(await cli(t, ['runs', '--id', runId, '--json'], { cwd: root }))?.job?.pgid === job,
      10_000,
    );
    t.check('state', "the run records the command's process group", recorded);

    const again = await cli(t, ['run', 'p'], { cwd: root });
    t.check(
      'gate',
      'a second run while the job runs is refused (exit 1, already running)',
      again.code === 1 && again.stderr.includes(`already running: ${runId}`),
      show(again),
    );
    const cb = await cli(t, ['complete', runId, '--status', 'success'], { cwd: root });
    t.eq('error', 'a completion callback cannot end the command run (exit 1)', cb.code, 1, show(cb));

    const c = await cli(t, ['cancel', runId, '--json'], { cwd: root });
    const jobGoneAtCancel = !isAlive(job);
    t.eq('state', 'cancel → CANCELLED (exit 0)', [c.code, jsonOf(c)?.run?.status], [0, 'CANCELLED'], show(c));
    t.check('recovery', 'the job is gone by the time cancel returns (TERM to its group)', jobGoneAtCancel);
    const r1 = await first;
    t.eq(
      'error',
      'the run that fired exits 3 (it fired, then was cancelled), not 1',
      [r1.code, jsonOf(r1)?.result],
      [3, 'superseded-after-trigger'],
      show(r1),
    );
    const stored = jsonOf(await cli(t, ['runs', '--id', runId, '--json'], { cwd: root }));
    t.eq(
      'state',
      "the trigger's own outcome is kept on the CANCELLED run",
      [stored?.status, stored?.trigger?.signal],
      ['CANCELLED', 'SIGTERM'],
    );
    t.eq('once', 'nothing fired while the job ran', fired(root), [runId]);

    rmSync(join(root, 'slow'));
    const next = await cli(t, ['run', 'p', '--json'], { cwd: root });
    t.eq('recovery', 'a later run works (exit 0)', next.code, 0, show(next));
    t.eq('once', 'exactly one new trigger', fired(root), [runId, jsonOf(next)?.run?.runId]);
    t.eq('state', 'integrity_check ok', integrity(join(root, '.interlock/state.db')), 'ok');
    t.eq(
      'recovery',
      'no surviving process',
      (await waitMarkedGone(t.mark, 2000)).map((x) => x.cmd),
      [],
    );
  },
};

export const processCases: CaseDef[] = [...POINTS.map(killRunCase), killServeCase, cancelKillsJobCase];
