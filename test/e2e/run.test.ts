// End-to-end: `interlock run` — one trigger wins across processes, fresh evidence, completion, cancel, crash safety.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { copyFixtureEvaluators, writeFiles } from '../support/files.js';
import { CHECKPOINT_CLI } from '../support/paths.js';
import { cli } from '../support/run-cli.js';
import { useTempDirs } from '../support/test-cleanups.js';

const tmp = useTempDirs('interlock-run-');

/** A project with one pipeline `p` (trait `a` with the given evaluator) and the given trigger YAML. */
function project(trigger: string, opts: { evaluator?: string; alerts?: string } = {}): string {
  const root = tmp();
  copyFixtureEvaluators(root);
  writeFiles(root, {
    'interlock.yaml': `provider: sqlite\nalerts:\n  - type: file\n    path: ./alerts.log\n${opts.alerts ?? ''}`,
    'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: a\n',
    'pipelines/p.yaml': `name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: ${opts.evaluator ?? 'pass'}\n${trigger}`,
  });
  return root;
}

const fired = (root: string) =>
  existsSync(join(root, 'fired.log'))
    ? readFileSync(join(root, 'fired.log'), 'utf8').trim().split('\n').filter(Boolean)
    : [];
const alerts = (root: string) =>
  existsSync(join(root, 'alerts.log'))
    ? readFileSync(join(root, 'alerts.log'), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
const RECORD = 'trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log"\n';

describe('interlock run (command trigger)', () => {
  it('READY → fires once → COMPLETED, exit 0; the command sees INTERLOCK_RUN_ID', async () => {
    const root = project(RECORD);
    const r = await cli(['run', 'p', '--json'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    const out = json(r);
    expect(out.result).toBe('triggered');
    expect(out.run.status).toBe('COMPLETED');
    // PENDING v1 → TRIGGERING v2 → the command's process recorded v3 → COMPLETED v4
    expect(out.run.version).toBe(4);
    expect(fired(root)).toEqual([out.run.runId]);
    const runs = json(await cli(['runs', 'p', '--json'], { cwd: root }));
    expect(runs.map((x: { status: string }) => x.status)).toEqual(['COMPLETED']);
    // history shows run transitions beside the evaluation
    const h = json(await cli(['history', 'p', '--json'], { cwd: root }));
    expect(h.map((e: { type: string; to?: string }) => (e.type === 'run' ? e.to : e.type))).toEqual([
      'COMPLETED',
      'TRIGGERING', // the command's process recorded (TRIGGERING → TRIGGERING)
      'TRIGGERING',
      'decision',
      'PENDING',
    ]);
  });

  it('NOT_READY → BLOCKED, nothing fires, exit 1, and it says why', async () => {
    const root = project(RECORD, { evaluator: 'fail' });
    const r = await cli(['run', 'p'], { cwd: root });
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).toContain('NOT_READY');
    expect(r.stdout).toContain('blocked by a');
    expect(r.stdout).toContain('BLOCKED');
    expect(fired(root)).toEqual([]);
    expect(alerts(root).map((a) => a.kind)).toContain('PIPELINE_BLOCKED');
    // the lock is free again
    expect(json(await cli(['status', 'p', '--json'], { cwd: root })).traits).toHaveLength(1);
  });

  it('fresh evidence: READY at evaluate, FAIL by run time → no trigger', async () => {
    const root = project(RECORD, { evaluator: 'flip' });
    writeFiles(root, {
      'evaluators/flip':
        '#!/bin/sh\nif [ -e flipped ]; then echo \'{"status":"FAIL","reason":"went bad"}\'; else touch flipped; echo \'{"status":"PASS"}\'; fi\n',
    });
    expect((await cli(['evaluate', 'p'], { cwd: root })).code).toBe(0);
    const r = await cli(['run', 'p'], { cwd: root });
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).toContain('went bad');
    expect(fired(root)).toEqual([]);
  });

  it('a failing command → FAILED, exit 3, TRIGGER_FAILED alert with the exit code', async () => {
    const root = project('trigger:\n  type: command\n  command: "echo boom >&2; exit 7"\n');
    const r = await cli(['run', 'p', '--json'], { cwd: root });
    expect(r.code, show(r)).toBe(3);
    const out = json(r);
    expect(out.run.status).toBe('FAILED');
    expect(out.run.trigger.exitCode).toBe(7);
    expect(out.run.trigger.stderrTail).toContain('boom');
    const a = alerts(root).find((x) => x.kind === 'TRIGGER_FAILED');
    expect(a?.runId).toBe(out.run.runId);
    expect(a?.uca?.category).toBe('not-provided');
  });

  it('a pipeline without a trigger → exit 2', async () => {
    const root = project('');
    const r = await cli(['run', 'p'], { cwd: root });
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toContain('no trigger');
  });

  it('20 concurrent `interlock run` processes: the trigger fires exactly once, every other one exits 1', async () => {
    const root = project('trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log; sleep 6"\n');
    // Create the database first so the race is on the lock, not on the first migration.
    expect((await cli(['evaluate', 'p'], { cwd: root })).code).toBe(0);
    const results = await Promise.all(Array.from({ length: 20 }, () => cli(['run', 'p'], { cwd: root })));
    const codes = results.map((r) => r.code).sort();
    expect(
      codes.filter((c) => c === 0),
      results.map(show).join('\n'),
    ).toHaveLength(1);
    expect(codes.filter((c) => c === 1)).toHaveLength(19);
    for (const r of results.filter((x) => x.code === 1)) expect(r.stderr).toContain('already running: ');
    expect(fired(root)).toHaveLength(1);
    const runs = json(await cli(['runs', 'p', '--json'], { cwd: root }));
    expect(runs.filter((x: { status: string }) => x.status === 'PENDING')).toEqual([]);
    expect(runs.map((x: { status: string }) => x.status)).toEqual(['COMPLETED']);
  }, 120_000);
});

describe('async http trigger, completion and cancel', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function target(
    status = 202,
  ): Promise<{ url: string; requests: Array<{ headers: IncomingMessage['headers']; body: string }> }> {
    const requests: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        requests.push({ headers: req.headers, body });
        res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/trigger`, requests };
  }

  it('2xx → RUNNING, exit 0; complete is idempotent; a conflicting completion is refused and changes nothing', async () => {
    const t = await target();
    const root = project(`trigger:\n  type: http\n  url: ${t.url}\n  body: '{"run":"\${INTERLOCK_RUN_ID}"}'\n`);
    const r = await cli(['run', 'p', '--json'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    const run = json(r).run;
    expect(run.status).toBe('RUNNING');
    expect(t.requests).toHaveLength(1);
    expect(t.requests[0].headers['x-interlock-run-id']).toBe(run.runId);
    expect(JSON.parse(t.requests[0].body)).toEqual({ run: run.runId });

    // While RUNNING, the lock is held.
    const again = await cli(['run', 'p'], { cwd: root });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`already running: ${run.runId}`);

    const c1 = await cli(
      ['complete', run.runId, '--status', 'success', '--metadata', '{"rows_processed":150000}', '--json'],
      { cwd: root },
    );
    expect(c1.code, show(c1)).toBe(0);
    expect(json(c1)).toMatchObject({
      changed: true,
      run: { status: 'COMPLETED', metadata: { rows_processed: 150000 } },
    });
    const c2 = await cli(['complete', run.runId, '--status', 'success'], { cwd: root });
    expect(c2.code, show(c2)).toBe(0);
    expect(c2.stdout).toContain('already COMPLETED');
    const c3 = await cli(['complete', run.runId, '--status', 'failed'], { cwd: root });
    expect(c3.code, show(c3)).toBe(1);
    const stored = json(await cli(['runs', '--id', run.runId, '--json'], { cwd: root }));
    expect(stored.status).toBe('COMPLETED');
    expect(stored.version).toBe(4); // PENDING → TRIGGERING → RUNNING → COMPLETED

    expect((await cli(['complete', 'nope', '--status', 'success'], { cwd: root })).code).toBe(2);
    expect((await cli(['complete', run.runId, '--status', 'maybe'], { cwd: root })).code).toBe(2);
    expect((await cli(['complete', run.runId, '--status', 'success', '--metadata', '[1]'], { cwd: root })).code).toBe(
      2,
    );
  });

  it('cancel frees the lock; cancelling again is a no-op; an ended run cannot be cancelled', async () => {
    const t = await target();
    const root = project(`trigger:\n  type: http\n  url: ${t.url}\n`);
    const run = json(await cli(['run', 'p', '--json'], { cwd: root })).run;
    const c = await cli(['cancel', run.runId], { cwd: root });
    expect(c.code, show(c)).toBe(0);
    expect((await cli(['cancel', run.runId], { cwd: root })).code).toBe(0);
    expect((await cli(['complete', run.runId, '--status', 'success'], { cwd: root })).code).toBe(1);
    const next = await cli(['run', 'p', '--json'], { cwd: root });
    expect(next.code, show(next)).toBe(0);
    const next2 = json(next).run;
    await cli(['complete', next2.runId, '--status', 'failed'], { cwd: root });
    expect((await cli(['cancel', next2.runId], { cwd: root })).code).toBe(1);
    expect(alerts(root).map((a) => a.kind)).toContain('RUN_FAILED');
  });

  it('a secret never leaks: not in the run record, the alert file, history or output, even when the target echoes it', async () => {
    const secret = 'tok-9f8e7d6c5b4a';
    const requests: string[] = [];
    server = createServer((req, res) => {
      requests.push(String(req.headers.authorization));
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`denied for ${req.headers.authorization}`);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?key=\${INTERLOCK_TEST_SECRET}`;
    const root = project(
      `trigger:\n  type: http\n  url: "${url}"\n  headers:\n    Authorization: "Bearer \${INTERLOCK_TEST_SECRET}"\n  body: '{"k":"\${INTERLOCK_TEST_SECRET}"}'\n`,
    );
    const env = { INTERLOCK_TEST_SECRET: secret };
    const r = await cli(['run', 'p', '--json'], { cwd: root, env });
    expect(r.code, show(r)).toBe(3);
    expect(requests).toEqual([`Bearer ${secret}`]); // the real value was sent…
    const everything = [
      r.stdout,
      r.stderr,
      (await cli(['runs', 'p', '--json'], { cwd: root, env })).stdout,
      (await cli(['history', 'p', '--json'], { cwd: root, env })).stdout,
      (await cli(['runs', '--id', json(r).run.runId], { cwd: root, env })).stdout,
      existsSync(join(root, 'alerts.log')) ? readFileSync(join(root, 'alerts.log'), 'utf8') : '',
    ].join('\n');
    expect(everything).toContain('***'); // …and masked wherever it was echoed back
    expect(everything).not.toContain(secret); // …and stored or printed nowhere
    for (const f of ['state.db', 'state.db-wal']) {
      const p = join(root, '.interlock', f);
      if (existsSync(p)) expect(readFileSync(p).includes(secret), f).toBe(false);
    }
  });

  it('an unset $VAR in the trigger → exit 2 before any run exists or any request is sent', async () => {
    const t = await target();
    const root = project(
      `trigger:\n  type: http\n  url: ${t.url}\n  headers:\n    Authorization: "Bearer \${INTERLOCK_TEST_UNSET_TOKEN}"\n`,
    );
    const r = await cli(['run', 'p'], { cwd: root, env: { INTERLOCK_TEST_UNSET_TOKEN: '' } });
    expect(r.code, show(r)).toBe(2);
    // Set but empty is said as such, not as "not set".
    expect(r.stderr).toContain("trigger of 'p' cannot fire: environment variable INTERLOCK_TEST_UNSET_TOKEN is empty");
    expect(t.requests).toHaveLength(0);
    expect(json(await cli(['runs', 'p', '--json'], { cwd: root }))).toEqual([]);
  });

  it('a run past trigger.maxRunSeconds becomes TIMED_OUT when next touched, frees the lock and alerts', async () => {
    const t = await target();
    const root = project(`trigger:\n  type: http\n  url: ${t.url}\n  maxRunSeconds: 1\n`);
    const run = json(await cli(['run', 'p', '--json'], { cwd: root })).run;
    expect(run.status).toBe('RUNNING');
    await new Promise((r) => setTimeout(r, 1100));
    const s = json(await cli(['status', 'p', '--json'], { cwd: root }));
    expect(s.activeRun ?? null).toBeNull();
    const stored = json(await cli(['runs', '--id', run.runId, '--json'], { cwd: root }));
    expect(stored.status).toBe('TIMED_OUT');
    const a = alerts(root).find((x) => x.kind === 'RUN_TIMED_OUT');
    expect(a?.uca?.category).toBe('wrong-duration');
    expect((await cli(['run', 'p'], { cwd: root })).code).toBe(0);
  });
});

describe('crash safety: SIGKILL at each point of a run', () => {
  /** Starts `interlock run p` paused at `point`, waits for the pause, SIGKILLs it, returns the run id. */
  async function killAt(root: string, point: string): Promise<string> {
    const child = spawn(process.execPath, [CHECKPOINT_CLI, point, 'run', 'p'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const runId = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        const m = /INTERLOCK_PAUSED \S+ (\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code} before pausing: ${err}`)));
    });
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    return runId;
  }

  for (const [point, status, firedCount] of [
    ['after-pending', 'PENDING', 0],
    ['after-triggering', 'TRIGGERING', 0],
    ['after-trigger-call', 'TRIGGERING', 1],
  ] as const) {
    it(`killed ${point}: the run is visible as ${status}, holds the lock, nothing fires again until cancelled`, async () => {
      const root = project(RECORD);
      const runId = await killAt(root, point);
      expect(fired(root)).toHaveLength(firedCount);
      const s = json(await cli(['status', 'p', '--json'], { cwd: root }));
      expect(s.activeRun).toMatchObject({ runId, status });
      const human = await cli(['status', 'p'], { cwd: root });
      expect(human.stdout).toContain(runId);
      const again = await cli(['run', 'p'], { cwd: root });
      expect(again.code, show(again)).toBe(1);
      expect(again.stderr).toContain(`already running: ${runId}`);
      expect(fired(root)).toHaveLength(firedCount);
      expect((await cli(['cancel', runId], { cwd: root })).code).toBe(0);
      const after = await cli(['run', 'p'], { cwd: root });
      expect(after.code, show(after)).toBe(0);
      expect(fired(root)).toHaveLength(firedCount + 1);
    });
  }
  it('a stray INTERLOCK_TEST_PAUSE_AT in the environment changes nothing: `interlock run` completes and fires once', async () => {
    for (const point of ['after-pending', 'after-triggering', 'after-trigger-call']) {
      const root = project(RECORD);
      const r = await cli(['run', 'p', '--json'], { cwd: root, env: { INTERLOCK_TEST_PAUSE_AT: point } });
      expect(r.code, show(r)).toBe(0);
      expect(r.stderr).not.toContain('INTERLOCK_PAUSED');
      expect(json(r).run.status).toBe('COMPLETED');
      expect(fired(root)).toHaveLength(1);
    }
  });
});

it('a hanging alert webhook never delays the trigger nor changes the exit code', async () => {
  const sockets: import('node:net').Socket[] = [];
  const hang = createServer(() => {}); // accepts, never answers
  hang.on('connection', (s) => sockets.push(s));
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/alerts`;
    const root = project('trigger:\n  type: command\n  command: "date +%s%3N > fired.at"\n', {
      evaluator: 'fail',
      alerts: `  - type: webhook\n    url: ${url}\n    timeout: 1\n    retries: 1\n`,
    });
    // A failing evaluation first, so the next run's evaluation raises PIPELINE_READY/TRAIT alerts to send.
    expect((await cli(['evaluate', 'p'], { cwd: root })).code).toBe(1);
    writeFileSync(join(root, 'evaluators', 'fail'), '#!/bin/sh\necho \'{"status":"PASS"}\'\n');
    const t0 = Date.now();
    const r = await cli(['run', 'p'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    const firedAt = Number(readFileSync(join(root, 'fired.at'), 'utf8'));
    expect(firedAt - t0).toBeLessThan(1000); // the webhook (1 s timeout × 2 attempts) came after the trigger
    expect(r.stderr).toContain('alert sink');
  } finally {
    for (const s of sockets) s.destroy();
    hang.close();
  }
});

it('alert file lines are JSON with the documented fields', async () => {
  const root = project(RECORD, { evaluator: 'fail' });
  await cli(['evaluate', 'p'], { cwd: root });
  await cli(['evaluate', 'p'], { cwd: root }); // unchanged condition: no repeat within repeatAfter
  const a = alerts(root);
  expect(a.map((x) => x.kind).sort()).toEqual(['PIPELINE_BLOCKED', 'TRAIT_FAILED']);
  for (const x of a) {
    expect(x).toMatchObject({
      pipeline: 'p',
      level: expect.any(String),
      message: expect.any(String),
      uca: { category: 'provided-unsafe' },
    });
    expect(typeof x.timestamp).toBe('string');
  }
  writeFileSync(join(root, 'evaluators', 'fail'), '#!/bin/sh\necho \'{"status":"PASS"}\'\n');
  await cli(['evaluate', 'p'], { cwd: root });
  expect(alerts(root).map((x) => x.kind)).toContain('PIPELINE_READY');
});
