// End-to-end: the pipeline's lock is never freed while a run's command still runs (issue 9 items 7–10, 18): cancel
// and timeout stop the command's process group from another process, a job that cannot be signalled keeps the lock,
// a callback cannot end a running command, a fired-then-superseded run exits 0/3, and a stale lock heals itself.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BIN,
  type CliResult,
  cli,
  copyFixtureEvaluators,
  isAlive,
  json,
  show,
  useRedis,
  useTempDirs,
  waitDead,
  writeFiles,
} from '../support/index.js';

const tmp = useTempDirs('interlock-run-lock-');

/** Records its run id, writes its process group id ($$ of the shell that leads it) and runs `sleep <s>`. */
const sleepTrigger = (seconds: number, extra = '') =>
  `trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log; echo $$ > job.pid; sleep ${seconds}"\n${extra}`;

function project(trigger: string, store = 'provider: sqlite\n'): string {
  const root = tmp();
  copyFixtureEvaluators(root);
  writeFiles(root, {
    'interlock.yaml': store,
    'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: a\n',
    'pipelines/p.yaml': `name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: pass\n${trigger}`,
  });
  return root;
}

const fired = (root: string) =>
  existsSync(join(root, 'fired.log')) ? readFileSync(join(root, 'fired.log'), 'utf8').split('\n').filter(Boolean) : [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(20);
  }
  return cond();
}

const children: ChildProcess[] = [];
const jobs: number[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const pid of jobs.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
});

/** `interlock run p --json` in the background; resolves its result when it exits. */
function runInBackground(root: string): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, 'run', 'p', '--json'], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr } as CliResult)),
  );
}

/** Waits until the trigger command runs and its process is recorded on the run; returns run id and group id. */
async function jobRunning(root: string): Promise<{ runId: string; pgid: number }> {
  expect(await until(() => existsSync(join(root, 'job.pid')) && fired(root).length === 1, 10_000)).toBe(true);
  const pgid = Number(readFileSync(join(root, 'job.pid'), 'utf8').trim());
  jobs.push(pgid);
  const runId = fired(root)[0] as string;
  // The record follows the spawn by a store write.
  for (let i = 0; i < 100; i++) {
    const r = json(await cli(['runs', '--id', runId, '--json'], { cwd: root }));
    if (r.job) {
      expect(r.job.pgid).toBe(pgid);
      break;
    }
    await sleep(50);
  }
  return { runId, pgid };
}

const db = (root: string) => new Database(join(root, '.interlock', 'state.db'));

describe('cancel stops the command (item 7) and a callback cannot end it (item 9)', () => {
  it('cancel from another process kills the process group before CANCELLED; the run that fired exits 3', async () => {
    const root = project(sleepTrigger(30));
    const first = runInBackground(root);
    const { runId, pgid } = await jobRunning(root);
    expect(isAlive(pgid)).toBe(true);

    // item 9: the command's exit status decides, not a callback.
    const done = await cli(['complete', runId, '--status', 'success'], { cwd: root });
    expect(done.code, show(done)).toBe(1);
    expect(done.stderr).toContain('exit status decides');
    expect(json(await cli(['runs', '--id', runId, '--json'], { cwd: root })).status).toBe('TRIGGERING');

    const t0 = Date.now();
    const c = await cli(['cancel', runId, '--json'], { cwd: root });
    expect(c.code, show(c)).toBe(0);
    expect(json(c).run).toMatchObject({ status: 'CANCELLED' });
    // The group is gone when the run is CANCELLED and the lock free: cancel waited for it.
    expect(isAlive(pgid)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5000);

    const r1 = await first;
    expect(r1.code, show(r1)).toBe(3); // item 10: it fired, then the run was cancelled
    const out = json(r1);
    expect(out.result).toBe('superseded-after-trigger');
    expect(out.run.status).toBe('CANCELLED');
    // The trigger's own outcome is kept on the run record.
    const stored = json(await cli(['runs', '--id', runId, '--json'], { cwd: root }));
    expect(stored.trigger).toMatchObject({ type: 'command', ok: false, signal: 'SIGTERM' });
    expect(stored.lockHeldUntil).toBeUndefined();

    writeFiles(root, {
      'pipelines/p.yaml': `name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: pass\n${sleepTrigger(0)}`,
    });
    const again = await cli(['run', 'p'], { cwd: root });
    expect(again.code, show(again)).toBe(0);
    expect(fired(root)).toHaveLength(2);
  }, 30_000);

  it('a command on another host cannot be signalled: CANCELLED saying so, the lock held until the job is gone', async () => {
    const root = project(sleepTrigger(30));
    const first = runInBackground(root);
    const { runId, pgid } = await jobRunning(root);
    // Make the run say its command runs on another host (as when `run` ran elsewhere on a shared store).
    const d = db(root);
    d.prepare("UPDATE runs SET record = json_set(record, '$.job.host', 'another-host') WHERE run_id = ?").run(runId);
    d.close();

    const c = await cli(['cancel', runId, '--json'], { cwd: root });
    expect(c.code, show(c)).toBe(0);
    const cancelled = json(c).run;
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.reason).toContain('may still be running');
    expect(cancelled.reason).toContain('another-host');
    expect(cancelled.lockHeldUntil).toEqual(expect.any(Number));
    expect(isAlive(pgid)).toBe(true); // not ours to signal: left alone

    const refused = await cli(['run', 'p'], { cwd: root });
    expect(refused.code, show(refused)).toBe(1);
    expect(refused.stderr).toContain(`already running: ${runId}`);
    expect(fired(root)).toHaveLength(1);

    // The job ends (its own host's business): its owner records that and the lock is released.
    process.kill(-pgid, 'SIGTERM');
    expect((await first).code).toBe(3);
    const after = json(await cli(['runs', '--id', runId, '--json'], { cwd: root }));
    expect(after.lockHeldUntil, JSON.stringify(after)).toBeUndefined();
    expect(json(await cli(['status', 'p', '--json'], { cwd: root })).activeRun).toBeFalsy();
  }, 30_000);
});

describe('a second run never starts while the first command is alive (item 8)', () => {
  it('sleep 12 job, maxRunSeconds 3: `run` again at 4.5 s is refused, the first job is stopped and TIMED_OUT', async () => {
    const root = project(sleepTrigger(12, '  maxRunSeconds: 3\n'));
    const t0 = Date.now();
    const first = runInBackground(root);
    const { runId, pgid } = await jobRunning(root);
    await sleep(Math.max(0, 4500 - (Date.now() - t0)));
    expect(isAlive(pgid)).toBe(true); // past maxRunSeconds, and the job still runs

    const second = await cli(['run', 'p'], { cwd: root });
    expect(second.code, show(second)).toBe(1);
    expect(second.stderr).toContain(`already running: ${runId}`);
    expect(fired(root)).toEqual([runId]);
    expect(await waitDead(pgid, 1000)).toBe(true);

    const r1 = await first;
    expect(r1.code, show(r1)).toBe(3); // fired, then TIMED_OUT
    expect(json(r1).run.status).toBe('TIMED_OUT');
    const stored = json(await cli(['runs', '--id', runId, '--json'], { cwd: root }));
    expect(stored.status).toBe('TIMED_OUT');
    expect(stored.reason).toContain('is not running');
    expect(fired(root)).toEqual([runId]);
  }, 30_000);

  it('trigger.maxRunSeconds shorter than trigger.timeout is a config error (exit 2)', async () => {
    const root = project('trigger:\n  type: command\n  command: "true"\n  timeout: 10\n  maxRunSeconds: 3\n');
    const v = await cli(['validate'], { cwd: root });
    expect(v.code, show(v)).toBe(2);
    expect(v.stdout + v.stderr).toMatch(
      /pipelines\/p\.yaml:\d+:\d+ trigger\.maxRunSeconds: 3s is shorter than trigger\.timeout \(10s\)/,
    );
    expect((await cli(['run', 'p'], { cwd: root })).code).toBe(2);
  });
});

describe('exit codes of a run that fired and was then ended by someone else (item 10)', () => {
  it('a completion callback that arrives before the http trigger answers: COMPLETED, exit 0, the 202 kept', async () => {
    let root = '';
    const target = createServer((req, res) => {
      const runId = String(req.headers['x-interlock-run-id']);
      // The job is quick: it reports success before its orchestrator's API has answered the trigger.
      void cli(['complete', runId, '--status', 'success'], { cwd: root }).then(() => {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"queued":true}');
      });
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/dagRuns`;
      root = project(`trigger:\n  type: http\n  url: ${url}\n  async: true\n  timeout: 20\n`);
      const r = await cli(['run', 'p', '--json'], { cwd: root });
      expect(r.code, show(r)).toBe(0);
      const out = json(r);
      expect(out.result).toBe('superseded-after-trigger');
      expect(out.run.status).toBe('COMPLETED');
      expect(out.run.trigger).toMatchObject({ type: 'http', ok: true, httpStatus: 202 });
    } finally {
      target.close();
    }
  }, 30_000);
});

describe('a lock naming a run that has already ended heals itself (item 18)', () => {
  it('SQLite: an active_runs row pointing at a COMPLETED run → the next run fires, with a warning', async () => {
    const root = project('trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log"\n');
    const r1 = await cli(['run', 'p', '--json'], { cwd: root });
    expect(r1.code).toBe(0);
    const d = db(root);
    d.prepare('INSERT INTO active_runs (pipeline, run_id) VALUES (?, ?)').run('p', json(r1).run.runId);
    d.close();
    const r2 = await cli(['run', 'p'], { cwd: root });
    expect(r2.code, show(r2)).toBe(0);
    expect(r2.stderr).toContain(`warning: the lock of p named run ${json(r1).run.runId}, which had already ended`);
    expect(fired(root)).toHaveLength(2);
    // Cancel (which the old error suggested) is not needed, and the lock is free after the run.
    expect(json(await cli(['status', 'p', '--json'], { cwd: root })).activeRun).toBeFalsy();
  });

  describe('on Redis', () => {
    const redis = useRedis();

    it('a {p}:active key naming a COMPLETED run → the next run fires, with a warning', async () => {
      const prefix = `t${Math.random().toString(36).slice(2)}:`;
      const root = project(
        'trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log"\n',
        `provider: redis\nredis:\n  addr: ${redis.server.addr}\n  keyPrefix: "${prefix}"\n`,
      );
      const r1 = await cli(['run', 'p', '--json'], { cwd: root });
      expect(r1.code, show(r1)).toBe(0);
      const [host, port] = redis.server.addr.split(':');
      const client = new Redis({ host, port: Number(port), lazyConnect: true });
      await client.connect();
      try {
        await client.set(`${prefix}{p}:active`, json(r1).run.runId);
        const r2 = await cli(['run', 'p'], { cwd: root });
        expect(r2.code, show(r2)).toBe(0);
        expect(r2.stderr).toContain('which had already ended COMPLETED; released it');
        expect(fired(root)).toHaveLength(2);
        expect(await client.get(`${prefix}{p}:active`)).toBeNull();
      } finally {
        client.disconnect();
      }
    });
  });
});
