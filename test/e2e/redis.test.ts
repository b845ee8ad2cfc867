// End-to-end on Redis: the quick start on `--provider redis`, the 20-process run race, and failing closed when
// Redis is unreachable at start or lost mid-evaluation. Real redis-server processes, stopped by pid.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { copyFixtureEvaluators, writeFiles } from '../support/files.js';
import { BIN } from '../support/paths.js';
import { freePort, startRedis } from '../support/redis.js';
import { type CliResult, cli } from '../support/run-cli.js';
import { useTempDirs } from '../support/test-cleanups.js';
import { useRedis } from '../support/use-redis.js';

const tmp = useTempDirs('interlock-redis-e2e-');
const redis = useRedis();

/** The built CLI under faketime (Debian's `faketime`), its clock `offset` (e.g. '+3m') away from everyone else's. */
function skewedCli(offset: string, args: string[], cwd: string): Promise<CliResult> {
  if (spawnSync('faketime', ['-f', '+0', 'true']).status !== 0) {
    throw new Error('faketime not found on PATH (CI installs it): apt-get install faketime');
  }
  return new Promise((resolve, reject) => {
    const child = spawn('faketime', ['-f', offset, process.execPath, BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A project on Redis with pipeline `p` (trait `a` using `evaluator`) and an optional trigger. */
function project(opts: { addr?: string; evaluator?: string; trigger?: string; prefix?: string } = {}): string {
  const root = tmp();
  copyFixtureEvaluators(root);
  writeFiles(root, {
    'interlock.yaml': `provider: redis\nredis:\n  addr: ${opts.addr ?? redis.server.addr}\n  keyPrefix: "${opts.prefix ?? `t${Math.random().toString(36).slice(2)}:`}"\n  connectTimeout: 1\n`,
    'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: a\n',
    'pipelines/p.yaml': `name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: ${opts.evaluator ?? 'pass'}\n${opts.trigger ?? ''}`,
  });
  return root;
}

describe('on Redis', () => {
  it('the quick start works with `init --provider redis`', async () => {
    const dir = tmp();
    const init = await cli(['init', 'demo', '--provider', 'redis'], { cwd: dir });
    expect(init.code, show(init)).toBe(0);
    const root = join(dir, 'demo');
    const cfg = readFileSync(join(root, 'interlock.yaml'), 'utf8');
    expect(cfg).toContain('provider: redis');
    writeFileSync(join(root, 'interlock.yaml'), cfg.replace('localhost:6379', redis.server.addr));
    const ev = await cli(['evaluate', 'example'], { cwd: root });
    expect(ev.code, show(ev)).toBe(0);
    expect(ev.stdout).toContain('READY');
    const st = json(await cli(['status', 'example', '--json'], { cwd: root }));
    expect(st.outcome).toBe('READY');
    const run = await cli(['run', 'example', '--json'], { cwd: root });
    expect(run.code, show(run)).toBe(0);
    expect(json(run).run.status).toBe('COMPLETED');
    expect(json(await cli(['history', 'example', '--json'], { cwd: root })).length).toBeGreaterThanOrEqual(4);
  });

  it('20 concurrent `interlock run` processes fire the trigger exactly once', async () => {
    const root = project({
      trigger: 'trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log; sleep 6"\n',
    });
    const results = await Promise.all(Array.from({ length: 20 }, () => cli(['run', 'p'], { cwd: root })));
    const codes = results.map((r) => r.code);
    expect(
      codes.filter((c) => c === 0),
      results.map(show).join('\n'),
    ).toHaveLength(1);
    expect(codes.filter((c) => c === 1)).toHaveLength(19);
    expect(readFileSync(join(root, 'fired.log'), 'utf8').trim().split('\n')).toHaveLength(1);
    const runs = json(await cli(['runs', 'p', '--json'], { cwd: root }));
    expect(runs.map((r: { status: string }) => r.status)).toEqual(['COMPLETED']);
  }, 120_000);

  it('clock skew: a CLI 3 minutes ahead does not time out a RUNNING run (deadlines on the Redis clock), fires nothing', async () => {
    const hits: string[] = [];
    const orch = createServer((req, res) => {
      hits.push(String(req.headers['x-interlock-run-id']));
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((r) => orch.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(orch.address() as AddressInfo).port}/go`;
      // An async job allowed 60 s; the skewed host's clock says 180 s have passed.
      const root = project({ trigger: `trigger:\n  type: http\n  url: ${url}\n  async: true\n  maxRunSeconds: 60\n` });
      const first = await cli(['run', 'p', '--json'], { cwd: root });
      expect(first.code, show(first)).toBe(0);
      const runId: string = json(first).run.runId;
      expect(json(first).run.status).toBe('RUNNING');

      const probe = await skewedCli('+3m', ['--version'], root);
      expect(probe.code, show(probe)).toBe(0);
      const st = await skewedCli('+3m', ['status', 'p', '--json'], root);
      expect(st.code === 0 || st.code === 1, show(st)).toBe(true);
      expect(json(st).activeRun).toMatchObject({ runId, status: 'RUNNING' });
      const again = await skewedCli('+3m', ['run', 'p'], root);
      expect(again.code, show(again)).not.toBe(0);
      expect(again.stderr).toContain(`already running: ${runId}`);
      // Durations shown by the skewed host never go negative.
      expect(`${again.stdout}${again.stderr}`).not.toMatch(/-\d+m?s/);
      expect(hits).toEqual([runId]);
      expect(json(await cli(['runs', 'p', '--json'], { cwd: root })).map((r: { status: string }) => r.status)).toEqual([
        'RUNNING',
      ]);
      // And a host 3 minutes behind sees it running too (no negative "for -179590ms").
      const behind = await skewedCli('-3m', ['status', 'p'], root);
      expect(behind.stdout).toContain(`active run ${runId}: RUNNING`);
      expect(behind.stdout).not.toMatch(/-\d+m?s/);
    } finally {
      await new Promise<void>((r) => orch.close(() => r()));
    }
  }, 30_000);

  it('Redis unreachable at start → exit 3 with "cannot reach redis at <addr>" within the connect timeout', async () => {
    const port = await freePort();
    const root = project({ addr: `127.0.0.1:${port}` });
    const t0 = Date.now();
    const r = await cli(['evaluate', 'p'], { cwd: root });
    const ms = Date.now() - t0;
    expect(r.code, show(r)).toBe(3);
    expect(r.stderr).toContain(`cannot reach redis at 127.0.0.1:${port}`);
    expect(r.stdout).not.toContain('READY');
    expect(ms).toBeLessThan(4000); // connectTimeout 1 s + node start-up
  });

  it('Redis lost mid-evaluation → fails closed: exit 3, no READY stored, no trigger; recovers after restart', async () => {
    const own = await startRedis();
    try {
      const prefix = 'lost:';
      const root = project({
        addr: own.addr,
        prefix,
        evaluator: 'sleep-then-pass',
        trigger: 'trigger:\n  type: command\n  command: "echo fired >> fired.log"\n',
      });
      writeFiles(root, {
        'evaluators/sleep-then-pass': '#!/bin/sh\ntouch started\nsleep 1.5\necho \'{"status":"PASS"}\'\n',
      });
      const running = cli(['run', 'p'], { cwd: root });
      // Stop Redis once the evaluation is under way (a fixed delay raced the CLI's start-up on a loaded machine).
      const until = Date.now() + 10_000;
      while (!existsSync(join(root, 'started')) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await own.stop();
      const r = await running;
      expect(r.code, show(r)).toBe(3);
      expect(r.stdout).not.toMatch(/^READY/m);
      expect(existsSync(join(root, 'fired.log'))).toBe(false);
      expect(r.stderr).toMatch(/stays PENDING .*nothing was triggered/);

      await own.restart();
      // Restarted without persistence: the store lost its data (and any lock), so it is refused until accepted.
      const lost = await cli(['status', 'p'], { cwd: root });
      expect(lost.code, show(lost)).toBe(3);
      expect(lost.stderr).toMatch(/it lost its data/);
      const idFile = /delete (\S+redis-store-\w+\.id)/.exec(lost.stderr)?.[1];
      expect(idFile).toBeDefined();
      rmSync(idFile as string);
      // Nothing READY was stored; a fresh evaluation works again.
      const st = json(await cli(['status', 'p', '--json'], { cwd: root }));
      expect(st.outcome).toBe('NOT_READY');
      const ev = await cli(['evaluate', 'p'], { cwd: root });
      expect(ev.code, show(ev)).toBe(0);
    } finally {
      await own.destroy();
    }
  }, 30_000);
});
