// Store faults: Redis down, lost mid-evaluation, restarted under a running serve; SQLite read-only, disk full, a
// file-size limit; corrupt stored values in SQLite and Redis. Fail closed (exit 3, never READY, no trigger), keep
// the store readable and uncorrupted, and recover once the fault is gone.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { put } from '../../test/support/files.js';
import { waitMarkedGone } from '../../test/support/leftover-processes.js';
import { until } from '../../test/support/poll.js';
import { freePort, RedisServer } from '../../test/support/redis.js';
import { counts, integrity, withDb } from '../../test/support/sqlite-file.js';
import { fired } from '../../test/support/trigger-recorder.js';
import { api, cli, jsonOf, serve, show } from '../lib/cli.js';
import type { CaseContext, CaseDef } from '../lib/harness.js';
import { startTarget } from '../lib/http-target.js';
import { cannotDropPrivileges, cannotMount, mountTmpfs, remount, unprivilegedUser } from '../lib/privileges.js';
import { makeProject } from '../lib/project.js';

const DB = '.interlock/state.db';
/** A READY verdict line in human output (NOT_READY does not match). */
const READY_LINE = /^READY\b/m;

/** undefined when redis-server is installed. In CI a missing one is a failure (the case runs and fails), not a skip. */
async function needsRedis(): Promise<string | undefined> {
  if (spawnSync('redis-server', ['--version']).status === 0) return undefined;
  return process.env.CI ? undefined : 'redis-server is not installed (apt-get install redis-server)';
}

/** Starts a redis-server for the case (destroyed at the end). */
async function redisFor(t: CaseContext, opts: { port?: number; persist?: boolean } = {}): Promise<RedisServer> {
  const extraArgs = opts.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : [];
  const r = await RedisServer.start({ ...(opts.port !== undefined ? { port: opts.port } : {}), extraArgs });
  t.defer(() => r.destroy());
  return r;
}

/** undefined when redis-server and faketime are installed (CI installs both; elsewhere a missing one skips). */
async function needsRedisAndFaketime(): Promise<string | undefined> {
  const redis = await needsRedis();
  if (redis) return redis;
  if (spawnSync('faketime', ['-f', '+0', 'true']).status === 0) return undefined;
  return process.env.CI ? undefined : 'faketime is not installed (apt-get install faketime)';
}

/** CLI options that run the CLI under faketime, its clock `offset` ('+3m', '-3m') away from everyone else's. */
const skewed = (cwd: string, offset: string) => ({
  cwd,
  shellPrefix: `set -- faketime -f ${offset} "$@"`,
  env: { FAKETIME_DONT_FAKE_MONOTONIC: '1' },
});

/** A negative duration in human output ("-179590ms ago", "for -1ms"). */
const NEGATIVE_DURATION = /(^|[\s(])-\d+(\.\d+)?(ms|s|m\d+s|h\d+m|d\d+h)\b/m;

/** An async http trigger to `url` (the run stays RUNNING until a callback), allowed `maxRunSeconds`. */
const asyncTrigger = (url: string, maxRunSeconds = 600) =>
  `trigger:\n  type: http\n  url: ${url}/job\n  async: true\n  maxRunSeconds: ${maxRunSeconds}\n`;

function redisCli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' }).trim();
}

/** The fail-closed checks of a CLI call that met a store fault: exit 3, a clear message, never READY. */
function failedClosed(t: CaseContext, what: string, r: Awaited<ReturnType<typeof cli>>, message: RegExp): void {
  t.eq('error', `${what}: exit 3`, r.code, 3, show(r));
  t.check('error', `${what}: says what failed`, message.test(r.stderr), show(r));
  t.check('gate', `${what}: never prints READY`, !READY_LINE.test(r.stdout), show(r));
  t.note(`${what}: exit ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
}

/** Runs `p` once successfully (the store then holds history) and returns its run id. */
async function prime(t: CaseContext, root: string): Promise<string | undefined> {
  const r = await cli(t, ['run', 'p', '--json'], { cwd: root });
  t.eq('recovery', 'before the fault: run exits 0', r.code, 0, show(r));
  return jsonOf(r)?.run?.runId;
}

/** Fills the file system holding `dir` with one file until ENOSPC; returns the file. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // Byte by byte to the last one.
    try {
      for (;;) writeSync(fd, chunk, 0, 512);
    } catch {}
  } finally {
    closeSync(fd);
  }
  return file;
}

/** An evaluator answering PASS with a value of `kb` KiB (still under the 1 MiB output cap). */
const bigPass = (kb: number) =>
  `#!/bin/sh\ncat >/dev/null\nprintf '{"status":"PASS","value":{"pad":"'\nhead -c ${kb * 1024} /dev/zero | tr '\\0' p\nprintf '"}}\\n'\n`;

export const storeCases: CaseDef[] = [
  {
    id: 'redis-down-at-start',
    group: 'store',
    fault: 'Redis unreachable when the CLI starts',
    short: true,
    requires: needsRedis,
    async run(t) {
      const port = await freePort();
      const root = makeProject(t.dir(), { redis: { addr: `127.0.0.1:${port}`, prefix: 'chaos:', connectTimeout: 1 } });
      for (const cmd of ['evaluate', 'run']) {
        const r = await cli(t, [cmd, 'p'], { cwd: root });
        failedClosed(t, cmd, r, new RegExp(`cannot reach redis at 127\\.0\\.0\\.1:${port}`));
        t.check(
          'recovery',
          `${cmd}: gives up within connectTimeout (1 s) + 3 s`,
          r.ms < 4000,
          `${Math.round(r.ms)} ms`,
        );
      }
      t.eq('gate', 'the trigger did not fire', fired(root), []);
      t.eq(
        'recovery',
        'no surviving process',
        (await waitMarkedGone(t.mark, 2000)).map((p) => p.cmd),
        [],
      );
      await redisFor(t, { port });
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.eq('recovery', 'Redis up: run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'exactly one trigger', fired(root), [jsonOf(ok)?.run?.runId]);
      const runs = jsonOf(await cli(t, ['runs', 'p', '--json'], { cwd: root })) ?? [];
      t.eq(
        'state',
        'the failed attempts left nothing half-written: one run, COMPLETED',
        runs.map((x: { status: string }) => x.status),
        ['COMPLETED'],
      );
    },
  },
  {
    id: 'redis-lost-mid-evaluation',
    group: 'store',
    fault: 'redis-server stopped while `run` evaluates',
    short: true,
    requires: needsRedis,
    async run(t) {
      const redis = await redisFor(t, { persist: true });
      const root = makeProject(t.dir(), {
        redis: { addr: redis.addr, prefix: 'chaos:', connectTimeout: 1 },
        evaluators: {
          gated:
            '#!/bin/sh\ncat >/dev/null\ntouch started\nwhile [ ! -e go ]; do sleep 0.05; done\necho \'{"status":"PASS"}\'\n',
        },
        traits: [{ type: 'a', evaluator: 'gated', timeout: 20 }],
      });
      writeFileSync(join(root, 'go'), '');
      const first = await prime(t, root);
      rmSync(join(root, 'go'));
      rmSync(join(root, 'started'));

      const running = cli(t, ['run', 'p', '--json'], { cwd: root });
      const started = await until(() => existsSync(join(root, 'started')), 15_000);
      if (!t.check('state', 'the evaluation started', started)) return;
      await redis.stop();
      writeFileSync(join(root, 'go'), '');
      const r = await running;
      t.eq('error', 'run exits 3', r.code, 3, show(r));
      const err = jsonOf(r)?.error;
      t.check(
        'error',
        'a STORE_UNAVAILABLE error naming redis',
        err?.code === 'STORE_UNAVAILABLE' && /redis/.test(err?.message),
        show(r),
      );
      t.eq('gate', 'no trigger beyond the earlier run', fired(root), [first]);
      t.eq(
        'recovery',
        'no surviving process',
        (await waitMarkedGone(t.mark, 2000)).map((p) => p.cmd),
        [],
      );

      await redis.restart();
      const st = jsonOf(await cli(t, ['status', 'p', '--json'], { cwd: root }));
      const stuck = st?.activeRun;
      t.check(
        'state',
        'the interrupted run is visible, PENDING, holding the lock',
        stuck?.status === 'PENDING',
        JSON.stringify(stuck),
      );
      const runs = jsonOf(await cli(t, ['runs', 'p', '--json'], { cwd: root })) ?? [];
      t.check(
        'state',
        'the earlier COMPLETED run survived the restart',
        runs.some((x: { runId: string; status: string }) => x.runId === first && x.status === 'COMPLETED'),
        JSON.stringify(runs.map((x: { status: string }) => x.status)),
      );
      const hist = jsonOf(await cli(t, ['history', 'p', '--json'], { cwd: root })) ?? [];
      t.eq(
        'gate',
        'no decision was recorded for the interrupted run',
        hist.filter((e: { type: string; runId?: string }) => e.type === 'decision' && e.runId === stuck?.runId).length,
        0,
      );
      const again = await cli(t, ['run', 'p'], { cwd: root });
      t.check(
        'gate',
        'a new run is refused while the interrupted one holds the lock',
        again.code === 1 && again.stderr.includes('already running'),
        show(again),
      );
      t.eq(
        'recovery',
        'the interrupted run can be cancelled',
        (await cli(t, ['cancel', String(stuck?.runId)], { cwd: root })).code,
        0,
      );
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.eq('recovery', 'then run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'exactly one more trigger', fired(root), [first, jsonOf(ok)?.run?.runId]);
    },
  },
  {
    id: 'redis-restart-under-serve',
    group: 'store',
    fault: 'redis-server restarted under a running serve',
    short: true,
    requires: needsRedis,
    async run(t) {
      const redis = await redisFor(t);
      const root = makeProject(t.dir(), { redis: { addr: redis.addr, prefix: 'chaos:', connectTimeout: 1 } });
      const s = await serve(t, root);
      t.eq('state', 'health is 200 with Redis up', (await api(s.url, 'GET', '/api/health')).status, 200);
      await redis.stop();
      t.check(
        'error',
        'health turns 503 (degraded)',
        await until(async () => (await api(s.url, 'GET', '/api/health')).status === 503, 10_000),
      );
      const ev = await api(s.url, 'POST', '/api/pipelines/p/evaluate');
      t.check(
        'error',
        'evaluate during the outage: 503 STORE_UNAVAILABLE',
        ev.status === 503 && ev.body?.error?.code === 'STORE_UNAVAILABLE',
        `${ev.status} ${ev.text}`,
      );
      const run = await api(s.url, 'POST', '/api/pipelines/p/run');
      t.check(
        'gate',
        'run during the outage: 503, nothing fires',
        run.status === 503 && fired(root).length === 0,
        `${run.status} ${run.text}`,
      );

      await redis.restart();
      const t0 = Date.now();
      const back = await until(async () => (await api(s.url, 'GET', '/api/health')).status === 200, 15_000);
      t.check('recovery', 'health is 200 again by itself (no restart of serve)', back);
      t.note(`health back ${((Date.now() - t0) / 1000).toFixed(1)} s after Redis restarted`);
      const ok = await api(s.url, 'POST', '/api/pipelines/p/run');
      t.eq('recovery', 'a later run is accepted (202)', ok.status, 202, ok.text);
      const runId = ok.body?.run?.runId;
      const done = await until(
        async () => (await api(s.url, 'GET', `/api/runs/${runId}`)).body?.status === 'COMPLETED',
        10_000,
      );
      t.check('recovery', 'and COMPLETES', done);
      t.eq('once', 'exactly one trigger', fired(root), [runId]);
      t.check(
        'recovery',
        'the same serve process throughout',
        s.child.exitCode === null && s.child.signalCode === null,
      );
    },
  },
  {
    id: 'sqlite-readonly-as-user',
    group: 'store',
    fault: 'SQLite db 0444 and its dir 0555; CLI as user nobody',
    requires: cannotDropPrivileges,
    async run(t) {
      const root = makeProject(t.dir());
      const first = await prime(t, root);
      // The CLI runs as nobody: let it write what the harness reads (fired.log, alerts.log), nothing in .interlock.
      for (const f of ['fired.log', 'alerts.log']) {
        if (!existsSync(join(root, f))) writeFileSync(join(root, f), '');
        chmodSync(join(root, f), 0o666);
      }
      const db = join(root, DB);
      const before = counts(db);
      const sidecars = ['-wal', '-shm'].map((s) => `${db}${s}`).filter(existsSync);
      for (const f of [db, ...sidecars]) chmodSync(f, 0o444);
      chmodSync(join(root, '.interlock'), 0o555);
      t.note(
        `CLI run as ${unprivilegedUser() ? 'uid 65534 (nobody) via setpriv' : `uid ${process.getuid?.()} (not root)`}`,
      );
      const asUser = unprivilegedUser();
      for (const cmd of ['evaluate', 'run']) {
        const r = await cli(t, [cmd, 'p'], { cwd: root, ...(asUser ? { asUser } : {}) });
        failedClosed(t, `${cmd} on a read-only db`, r, /sqlite|read-?only|unable to open/i);
      }
      t.eq('gate', 'no trigger beyond the earlier run', fired(root), [first]);
      t.eq(
        'recovery',
        'no surviving process',
        (await waitMarkedGone(t.mark, 2000)).map((p) => p.cmd),
        [],
      );
      chmodSync(join(root, '.interlock'), 0o755);
      chmodSync(db, 0o644);
      t.eq('state', 'integrity_check ok afterwards', integrity(db), 'ok');
      t.eq('state', 'history unchanged (decisions, runs, events)', counts(db), before);
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.eq('recovery', 'writable again: run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'exactly one more trigger', fired(root), [first, jsonOf(ok)?.run?.runId]);
    },
  },
  {
    id: 'sqlite-readonly-mount',
    group: 'store',
    fault: 'SQLite on a tmpfs remounted read-only (bites root)',
    requires: cannotMount,
    async run(t) {
      const root = makeProject(t.dir());
      mkdirSync(join(root, '.interlock'));
      mountTmpfs(t, join(root, '.interlock'), 8 * 1024 * 1024);
      const first = await prime(t, root);
      const db = join(root, DB);
      const before = counts(db);
      remount(join(root, '.interlock'), 'ro');
      for (const cmd of ['evaluate', 'run']) {
        const r = await cli(t, [cmd, 'p'], { cwd: root });
        failedClosed(t, `${cmd} on a read-only file system`, r, /sqlite|read-?only|unable to open/i);
      }
      t.eq('gate', 'no trigger beyond the earlier run', fired(root), [first]);
      t.eq(
        'recovery',
        'no surviving process',
        (await waitMarkedGone(t.mark, 2000)).map((p) => p.cmd),
        [],
      );
      remount(join(root, '.interlock'), 'rw');
      t.eq('state', 'integrity_check ok afterwards', integrity(db), 'ok');
      t.eq('state', 'history unchanged (decisions, runs, events)', counts(db), before);
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.eq('recovery', 'read-write again: run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'exactly one more trigger', fired(root), [first, jsonOf(ok)?.run?.runId]);
    },
  },
  {
    id: 'sqlite-disk-full',
    group: 'store',
    fault: 'SQLite on a full 8 MiB tmpfs (full, then 96 KiB free)',
    requires: cannotMount,
    async run(t) {
      const root = makeProject(t.dir(), { evaluators: { big: bigPass(400) } });
      const dir = join(root, '.interlock');
      mkdirSync(dir);
      mountTmpfs(t, dir, 8 * 1024 * 1024);
      const first = await prime(t, root);
      const db = join(root, DB);
      const before = counts(db);
      const filler = fill(dir);
      for (const cmd of ['evaluate', 'run']) {
        const r = await cli(t, [cmd, 'p'], { cwd: root });
        failedClosed(t, `${cmd} on a full disk`, r, /sqlite|full|space/i);
      }
      // Room for a small write but not for this evaluation (~1.2 MB: the value is in the result, readiness and decision).
      ftruncateFile(filler, statSync(filler).size - 96 * 1024);
      put(
        root,
        'pipelines/p.yaml',
        'name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: big\ntrigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log"\n',
      );
      for (const cmd of ['evaluate', 'run']) {
        const r = await cli(t, [cmd, 'p'], { cwd: root });
        failedClosed(t, `${cmd} when the write runs out of space`, r, /sqlite|full|space/i);
      }
      t.eq('gate', 'no trigger beyond the earlier run', fired(root), [first]);
      t.eq(
        'recovery',
        'no surviving process',
        (await waitMarkedGone(t.mark, 2000)).map((p) => p.cmd),
        [],
      );
      // The store stays readable while full.
      const st = await cli(t, ['runs', 'p', '--json'], { cwd: root });
      t.note(`while full: \`runs p\` exit ${st.code}`);
      rmSync(filler);
      t.eq('state', 'integrity_check ok afterwards', integrity(db), 'ok');
      const after = counts(db);
      t.eq('state', 'no decision recorded by the failed evaluations', after.decisions, before.decisions);
      const active = withDb(db, (d) => d.prepare('SELECT count(*) AS n FROM active_runs').get() as { n: number }).n;
      const stuck = jsonOf(await cli(t, ['status', 'p', '--json'], { cwd: root }))?.activeRun;
      if (active > 0) t.note(`a failed run kept the lock: ${stuck?.runId} ${stuck?.status}`);
      if (stuck) await cli(t, ['cancel', stuck.runId], { cwd: root });
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.eq('recovery', 'space again: run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'exactly one more trigger', fired(root), [first, jsonOf(ok)?.run?.runId]);
    },
  },
  {
    id: 'sqlite-file-size-limit',
    group: 'store',
    fault: 'SQLite writes hit a file-size limit (ulimit -f: EFBIG)',
    short: true,
    async run(t) {
      const root = makeProject(t.dir(), { evaluators: { big: bigPass(400) } });
      const first = await prime(t, root);
      const db = join(root, DB);
      const before = counts(db);
      put(
        root,
        'pipelines/p.yaml',
        'name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: big\ntrigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log"\n',
      );
      // 512-byte blocks in dash: 512 KiB, less than one evaluation's WAL frames (~1.2 MB), more than the db now.
      const shellPrefix = 'ulimit -f 1024';
      for (const cmd of ['evaluate', 'run']) {
        const r = await cli(t, [cmd, 'p'], { cwd: root, shellPrefix });
        failedClosed(t, `${cmd} past the file-size limit`, r, /sqlite|disk|full|large|I\/O/i);
      }
      t.eq('gate', 'no trigger beyond the earlier run', fired(root), [first]);
      t.eq(
        'recovery',
        'no surviving process',
        (await waitMarkedGone(t.mark, 2000)).map((p) => p.cmd),
        [],
      );
      t.eq('state', 'integrity_check ok afterwards', integrity(db), 'ok');
      t.eq('state', 'no decision recorded by the failed evaluations', counts(db).decisions, before.decisions);
      const stuck = jsonOf(await cli(t, ['status', 'p', '--json'], { cwd: root }))?.activeRun;
      if (stuck) {
        t.note(`a failed run kept the lock: ${stuck.runId} ${stuck.status}`);
        await cli(t, ['cancel', stuck.runId], { cwd: root });
      }
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.eq('recovery', 'without the limit: run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'exactly one more trigger', fired(root), [first, jsonOf(ok)?.run?.runId]);
    },
  },
  {
    id: 'sqlite-corrupt-value',
    group: 'store',
    fault: 'garbage JSON in SQLite rows (trait, readiness, run)',
    short: true,
    async run(t) {
      const root = makeProject(t.dir());
      const first = await prime(t, root);
      const db = join(root, DB);
      const sql = (q: string, ...params: unknown[]) => withDb(db, (d) => d.prepare(q).run(...params));
      const s = await serve(t, root);

      // A trait result, then the readiness row, holding garbage: a clear STORE_CORRUPT, never READY.
      const corruptions: Array<[string, string, string]> = [
        ['trait result: not JSON', 'UPDATE trait_results SET result = ?', '{"status":"PASS",garbage'],
        ['trait result: JSON null', 'UPDATE trait_results SET result = ?', 'null'],
        [
          'trait result: a forged PASS with a non-numeric expiry',
          'UPDATE trait_results SET result = ?',
          '{"pipeline":"p","trait":"a","status":"PASS","evaluatedAt":"x","expiresAt":"never"}',
        ],
        ['readiness: not JSON', 'UPDATE readiness SET readiness = ?', '\u0000\u0001garbage'],
      ];
      for (const [what, q, value] of corruptions) {
        sql(q, value);
        const r = await cli(t, ['status', 'p', '--json'], { cwd: root });
        const out = jsonOf(r);
        t.check('gate', `${what}: status is not READY`, out?.outcome !== 'READY', show(r));
        t.check(
          'error',
          `${what}: status exits 3 with STORE_CORRUPT`,
          r.code === 3 && out?.error?.code === 'STORE_CORRUPT',
          show(r),
        );
        const http = await api(s.url, 'GET', '/api/pipelines/p/readiness');
        t.check(
          'error',
          `${what}: GET …/readiness answers 500 STORE_CORRUPT`,
          http.status === 500 && http.body?.error?.code === 'STORE_CORRUPT',
          `${http.status} ${http.text}`,
        );
        // A fresh evaluation replaces the corrupt rows (fresh evidence), and status reads again.
        const ev = await cli(t, ['evaluate', 'p'], { cwd: root });
        t.eq('recovery', `${what}: a fresh evaluate replaces it (exit 0)`, ev.code, 0, show(ev));
      }

      // The active run's record holding garbage: `run` must stop with STORE_CORRUPT before anything fires.
      const row = withDb(
        db,
        (d) =>
          d.prepare('SELECT run_id, record FROM runs WHERE run_id = ?').get(first) as {
            run_id: string;
            record: string;
          },
      );
      sql('INSERT INTO active_runs (pipeline, run_id) VALUES (?, ?)', 'p', first);
      sql('UPDATE runs SET record = ? WHERE run_id = ?', '{"runId":', first);
      const r = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.check(
        'error',
        'corrupt active run: run exits 3 with STORE_CORRUPT',
        r.code === 3 && jsonOf(r)?.error?.code === 'STORE_CORRUPT',
        show(r),
      );
      const http = await api(s.url, 'POST', '/api/pipelines/p/run');
      t.check(
        'error',
        'corrupt active run: POST …/run answers 500 STORE_CORRUPT',
        http.status === 500 && http.body?.error?.code === 'STORE_CORRUPT',
        `${http.status} ${http.text}`,
      );
      t.eq('gate', 'no trigger beyond the earlier run', fired(root), [first]);
      t.eq('state', 'integrity_check ok (the damage is logical only)', integrity(db), 'ok');

      // Repaired by hand: everything works again.
      sql('UPDATE runs SET record = ? WHERE run_id = ?', row.record, first);
      sql('DELETE FROM active_runs WHERE run_id = ?', first);
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.eq('recovery', 'repaired: run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'exactly one more trigger', fired(root), [first, jsonOf(ok)?.run?.runId]);
    },
  },
  {
    id: 'redis-corrupt-value',
    group: 'store',
    fault: 'garbage in Redis keys (trait, lock of the wrong type, run)',
    requires: needsRedis,
    async run(t) {
      const redis = await redisFor(t);
      const prefix = 'chaos:';
      const root = makeProject(t.dir(), { redis: { addr: redis.addr, prefix, connectTimeout: 1 } });
      const first = await prime(t, root);
      const k = (s: string) => `${prefix}{p}:${s}`;

      redisCli(redis.port, 'SET', k('trait:a'), '{"status":"PASS",garbage');
      let r = await cli(t, ['status', 'p', '--json'], { cwd: root });
      t.check('gate', 'corrupt trait result: status is not READY', jsonOf(r)?.outcome !== 'READY', show(r));
      t.check(
        'error',
        'corrupt trait result: exit 3 with STORE_CORRUPT',
        r.code === 3 && jsonOf(r)?.error?.code === 'STORE_CORRUPT',
        show(r),
      );

      redisCli(
        redis.port,
        'SET',
        k('trait:a'),
        '{"pipeline":"p","trait":"a","status":"PASS","evaluatedAt":"x","expiresAt":"never"}',
      );
      r = await cli(t, ['status', 'p', '--json'], { cwd: root });
      t.check(
        'gate',
        'forged PASS with a non-numeric expiry: status is not READY',
        jsonOf(r)?.outcome !== 'READY',
        show(r),
      );
      t.check(
        'error',
        'forged PASS with a non-numeric expiry: exit 3 with STORE_CORRUPT',
        r.code === 3 && jsonOf(r)?.error?.code === 'STORE_CORRUPT',
        show(r),
      );

      redisCli(redis.port, 'HSET', k('active'), 'x', 'y');
      r = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.check(
        'error',
        'lock key of the wrong type: run exits 3 with STORE_CORRUPT',
        r.code === 3 && jsonOf(r)?.error?.code === 'STORE_CORRUPT',
        show(r),
      );
      redisCli(redis.port, 'DEL', k('active'));

      const record = redisCli(redis.port, 'HGET', k('run-data'), String(first));
      redisCli(redis.port, 'SET', k('active'), String(first));
      redisCli(redis.port, 'HSET', k('run-data'), String(first), '{"runId":');
      r = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.check(
        'error',
        'corrupt active run record: run exits 3 with STORE_CORRUPT',
        r.code === 3 && jsonOf(r)?.error?.code === 'STORE_CORRUPT',
        show(r),
      );
      t.eq('gate', 'no trigger beyond the earlier run', fired(root), [first]);

      redisCli(redis.port, 'HSET', k('run-data'), String(first), record);
      redisCli(redis.port, 'DEL', k('active'));
      const ev = await cli(t, ['evaluate', 'p'], { cwd: root });
      t.eq('recovery', 'repaired: evaluate exits 0', ev.code, 0, show(ev));
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: root });
      t.eq('recovery', 'repaired: run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'exactly one more trigger', fired(root), [first, jsonOf(ok)?.run?.runId]);
      const runs = jsonOf(await cli(t, ['runs', 'p', '--json'], { cwd: root })) ?? [];
      t.eq(
        'state',
        'the run history is intact (two COMPLETED runs)',
        runs.map((x: { status: string }) => x.status),
        ['COMPLETED', 'COMPLETED'],
      );
    },
  },
  {
    id: 'redis-store-loss-while-running',
    group: 'store',
    fault: 'active key deleted, FLUSHALL, then allkeys-lru, while a run is RUNNING',
    short: false,
    requires: needsRedis,
    async run(t) {
      const redis = await redisFor(t);
      const target = await startTarget(t, { kind: 'status', status: 200 });
      const prefix = 'chaos:';
      const root = makeProject(t.dir(), {
        redis: { addr: redis.addr, prefix, connectTimeout: 1 },
        trigger: asyncTrigger(target.url),
      });
      const hits = () => target.requests.map((r) => String(r.headers['x-interlock-run-id']));
      const first = await cli(t, ['run', 'p', '--json'], { cwd: root });
      const runId = jsonOf(first)?.run?.runId;
      t.check(
        'state',
        'the first run is RUNNING (the job runs elsewhere)',
        jsonOf(first)?.run?.status === 'RUNNING',
        show(first),
      );
      t.eq('once', 'its trigger fired once', hits(), [runId]);

      // 1. Only the lock key goes (evicted, deleted): the unfinished newest run takes it back.
      redisCli(redis.port, 'DEL', `${prefix}{p}:active`);
      const afterDel = await cli(t, ['run', 'p'], { cwd: root });
      t.check(
        'gate',
        'lock key lost: a second run is refused (already running)',
        afterDel.code === 1 && afterDel.stderr.includes(`already running: ${runId}`),
        show(afterDel),
      );
      t.eq('once', 'lock key lost: no second trigger', hits(), [runId]);
      t.eq(
        'state',
        'the lock is held by the first run again',
        redisCli(redis.port, 'GET', `${prefix}{p}:active`),
        runId,
      );

      // 2. Everything goes (FLUSHALL; a restart without persistence is the same).
      redisCli(redis.port, 'FLUSHALL');
      for (const cmd of [
        ['run', 'p'],
        ['evaluate', 'p'],
        ['complete', String(runId), '--status', 'success'],
      ]) {
        const r = await cli(t, cmd, { cwd: root });
        failedClosed(t, `after FLUSHALL: ${cmd[0]}`, r, /it lost its data/);
      }
      t.eq('gate', 'after FLUSHALL: no second trigger', hits(), [runId]);

      // 3. A server that may evict is refused even for a project that never saw it.
      redisCli(redis.port, 'CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
      const fresh = makeProject(t.dir(), {
        redis: { addr: redis.addr, prefix, connectTimeout: 1 },
        trigger: asyncTrigger(target.url),
      });
      const evicting = await cli(t, ['run', 'p'], { cwd: fresh });
      failedClosed(t, 'allkeys-lru: run', evicting, /maxmemory-policy is 'allkeys-lru'/);
      t.eq('gate', 'allkeys-lru: no trigger', hits(), [runId]);
      t.eq(
        'recovery',
        'no surviving process',
        (await waitMarkedGone(t.mark, 2000)).map((p) => p.cmd),
        [],
      );

      // The operator fixes the server; a project that never saw the lost data works again, once per run.
      redisCli(redis.port, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      const ok = await cli(t, ['run', 'p', '--json'], { cwd: fresh });
      t.eq('recovery', 'noeviction again: run exits 0', ok.code, 0, show(ok));
      t.eq('once', 'exactly one more trigger', hits(), [runId, jsonOf(ok)?.run?.runId]);
    },
  },
  {
    id: 'redis-clock-skew',
    group: 'store',
    fault: 'a CLI under faketime 3 min ahead (and one 3 min behind) of a shared redis-server',
    short: false,
    requires: needsRedisAndFaketime,
    async run(t) {
      const redis = await redisFor(t);
      const target = await startTarget(t, { kind: 'status', status: 200 });
      const root = makeProject(t.dir(), {
        redis: { addr: redis.addr, prefix: 'chaos:', connectTimeout: 2 },
        trigger: asyncTrigger(target.url, 60),
      });
      const hits = () => target.requests.map((r) => String(r.headers['x-interlock-run-id']));
      const first = await cli(t, ['run', 'p', '--json'], { cwd: root });
      const runId = jsonOf(first)?.run?.runId;
      t.check('state', 'the run is RUNNING (maxRunSeconds 60)', jsonOf(first)?.run?.status === 'RUNNING', show(first));

      const probe = await cli(t, ['--version'], skewed(root, '+3m'));
      if (!t.eq('state', 'faketime runs the CLI', probe.code, 0, show(probe))) return;
      const st = await cli(t, ['status', 'p', '--json'], skewed(root, '+3m'));
      t.check(
        'gate',
        '3 min ahead: status still sees the run RUNNING (not TIMED_OUT)',
        jsonOf(st)?.activeRun?.runId === runId && jsonOf(st)?.activeRun?.status === 'RUNNING',
        show(st),
      );
      const again = await cli(t, ['run', 'p'], skewed(root, '+3m'));
      t.check(
        'gate',
        '3 min ahead: a second run is refused',
        again.code === 1 && again.stderr.includes('already running'),
        show(again),
      );
      const human = await cli(t, ['status', 'p'], skewed(root, '+3m'));
      const behind = await cli(t, ['status', 'p'], skewed(root, '-3m'));
      t.check(
        'gate',
        '3 min behind: sees the run RUNNING',
        behind.stdout.includes(`active run ${runId}: RUNNING`),
        show(behind),
      );
      for (const [what, r] of [
        ['ahead run', again],
        ['ahead status', human],
        ['behind status', behind],
      ] as const) {
        t.check(
          'state',
          `${what}: no negative duration shown`,
          !NEGATIVE_DURATION.test(`${r.stdout}\n${r.stderr}`),
          show(r),
        );
      }
      t.eq('once', 'the trigger fired once', hits(), [runId]);
      const runs = jsonOf(await cli(t, ['runs', 'p', '--json'], { cwd: root })) ?? [];
      t.eq(
        'state',
        'one run, still RUNNING',
        runs.map((x: { status: string }) => x.status),
        ['RUNNING'],
      );
      const done = await cli(t, ['complete', String(runId), '--status', 'success'], skewed(root, '+3m'));
      t.eq('recovery', 'the job completes from the skewed host', done.code, 0, show(done));
      t.eq(
        'recovery',
        'no surviving process',
        (await waitMarkedGone(t.mark, 2000)).map((p) => p.cmd),
        [],
      );
    },
  },
];

/** Shrinks a file (frees that much space on its file system). */
function ftruncateFile(file: string, size: number): void {
  const fd = openSync(file, 'r+');
  try {
    ftruncateSync(fd, Math.max(0, size));
  } finally {
    closeSync(fd);
  }
}
