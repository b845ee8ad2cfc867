// End-to-end: the real built `serve` (SQLite) with `report` waiting (builtin:pipeline, same-day) for `orders`. Both
// windows open and block; report backs off for 10 minutes. A push unblocks orders: it fires, completes, and its
// completion wakes report at once — report fires in the same window, seconds later, not at its next re-evaluation.
// Also `validate` (a cycle is an error at file:line:col), `stpa` and `validate --stpa` through the built CLI.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { writeFiles } from '../support/files.js';
import { sleep, waitFor } from '../support/poll.js';
import { cli } from '../support/run-cli.js';
import { type ServeProcess, serveProcess } from '../support/server-process.js';
import { useTempDirs } from '../support/test-cleanups.js';

const newDir = useTempDirs('interlock-deps-e2e-');
const servers: ServeProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

interface WindowView {
  key: string;
  state: string;
}

function project(): string {
  const root = newDir();
  const fired = join(root, 'fired');
  const trigger = (name: string) => [
    'trigger:',
    '  type: command',
    `  command: "echo ${name} $INTERLOCK_WINDOW >> '${fired}'"`,
    '  maxRunSeconds: 600',
  ];
  // Hourly windows, the current one opened at start (catchup: latest): a slow machine cannot cross a window boundary
  // mid-test (except in the last minutes of an hour, which the test skips).
  const schedule = [
    'schedules:',
    '  - name: fast',
    '    cron: "0 * * * *"',
    '    timezone: UTC',
    '    catchup: latest',
    'watch:',
    '  reevaluate: 10m',
  ];
  writeFiles(root, {
    'interlock.yaml': 'provider: sqlite\nwatcher:\n  sweep: 30s\nalerts:\n  - type: console\n',
    'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: upstream\n',
    'archetypes/dep.yaml': 'name: dep\nrequiredTraits:\n  - type: orders-loaded\n    evaluator: builtin:pipeline\n',
    'pipelines/orders.yaml': [
      'name: orders',
      'archetype: gate',
      'traits:',
      '  upstream:',
      '    evaluator: push',
      '    ttl: 3600',
      ...trigger('orders'),
      ...schedule,
      '',
    ].join('\n'),
    'pipelines/report.yaml': [
      'name: report',
      'archetype: dep',
      'traits:',
      '  orders-loaded:',
      '    config: { pipeline: orders, window: same-day }',
      '    ttl: 3600',
      ...trigger('report'),
      ...schedule,
      '',
    ].join('\n'),
  });
  return root;
}

const fires = (root: string) =>
  existsSync(join(root, 'fired')) ? readFileSync(join(root, 'fired'), 'utf8').trim().split('\n').filter(Boolean) : [];

async function windows(root: string, pipeline: string): Promise<WindowView[]> {
  const r = await cli(['windows', pipeline, '--json', '--limit', '50'], { cwd: root });
  expect(r.code, show(r)).toBe(0);
  const v = json(r) as { windows: WindowView[] } | WindowView[];
  return Array.isArray(v) ? v : v.windows;
}

describe('pipeline dependencies end to end (built serve, SQLite)', () => {
  it("the upstream's completion wakes the downstream at once: it fires in the same window", async () => {
    // The hour's windows close at the top of the hour: in its last two minutes, wait for the next hour (never skip).
    const now = new Date();
    if (now.getUTCMinutes() >= 58) {
      const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours() + 1, 0, 2);
      await sleep(next - now.getTime());
    }
    const root = project();
    const serve = await serveProcess(root, ['--addr', '127.0.0.1:0'], { INTERLOCK_LOG: 'info' });
    servers.push(serve);
    let open: WindowView | undefined;
    await waitFor('report blocked in an open window', 20_000, async () => {
      open = (await windows(root, 'report')).find((w) => w.state === 'OPEN');
      return open !== undefined && (await windows(root, 'orders')).some((w) => w.state === 'OPEN');
    });
    const why = await cli(['why', 'report', '--json'], { cwd: root });
    expect(JSON.stringify(json(why))).toContain('orders window');
    expect(fires(root)).toEqual([]);
    const t0 = Date.now();
    // Another process (the CLI) pushes: the server hears of it through the SQLite change feed.
    const push = await cli(['push', 'orders', 'upstream', '--status', 'PASS'], { cwd: root });
    expect(push.code, show(push)).toBe(0);
    await waitFor('report to fire', 15_000, async () => fires(root).some((f) => f.startsWith('report ')));
    const latency = Date.now() - t0;
    const [first, second] = fires(root);
    expect(first?.startsWith('orders '), fires(root).join('\n')).toBe(true);
    // The report window that was blocked is the one that fired: no new window, no 10-minute re-evaluation.
    expect(second, serve.output()).toBe(`report ${open?.key}`);
    // Seconds (a CLI process to start, two triggers to run), far below report's 10-minute re-evaluation.
    expect(latency, serve.output()).toBeLessThan(15_000);
    await waitFor('report window COMPLETED', 10_000, async () =>
      (await windows(root, 'report')).some((w) => w.key === open?.key && w.state === 'COMPLETED'),
    );
  }, 220_000);

  it('validate: a dependency cycle is an error at file:line:col and makes both pipelines INVALID', async () => {
    const root = project();
    writeFiles(root, {
      'archetypes/dep.yaml': 'name: dep\nrequiredTraits:\n  - type: orders-loaded\n    evaluator: builtin:pipeline\n',
      'pipelines/orders.yaml':
        'name: orders\narchetype: dep\ntraits:\n  orders-loaded:\n    config: { pipeline: report }\n',
    });
    const r = await cli(['validate'], { cwd: root });
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout).toContain(
      'pipelines/orders.yaml:5:25 traits.orders-loaded.config.pipeline: builtin:pipeline: dependency cycle orders → report → orders',
    );
    expect(r.stdout).toContain('pipelines/report.yaml:5:25');
    expect(r.stdout).toContain('INVALID, never evaluated: orders, report');
  });

  it('stpa names the guards and gaps; validate --stpa warns for the unguarded UCA', async () => {
    const root = project();
    const r = await cli(['stpa', 'report'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain('controller  readiness rule all-required-pass over orders-loaded');
    expect(r.stdout).toContain('actuator    command trigger');
    expect(r.stdout).toMatch(/wrong-timing: .*\n\s+NOT GUARDED/);
    expect(r.stdout).toContain('no completionDeadline (fast)');
    expect(r.stdout).toContain('console sink receives WINDOW_MISSED');
    const j = json(await cli(['stpa', 'report', '--json'], { cwd: root })) as {
      ucas: Array<{ type: string; status: string }>;
    };
    expect(j.ucas.map((u) => [u.type, u.status])).toEqual([
      ['not-provided', 'guarded'],
      ['provided-unsafe', 'guarded'],
      ['wrong-timing', 'NOT GUARDED'],
      ['wrong-duration', 'guarded'],
    ]);
    const plain = await cli(['validate'], { cwd: root });
    expect(plain.code, show(plain)).toBe(0);
    expect(plain.stdout).not.toContain('STPA');
    const v = await cli(['validate', '--stpa'], { cwd: root });
    expect(v.code, show(v)).toBe(0);
    expect(v.stdout).toContain(
      "pipelines/report.yaml:11:1 warning: sla: STPA: wrong-timing (provided too early or too late) is NOT GUARDED for pipeline 'report'",
    );
    const strict = await cli(['validate', '--stpa', '--strict'], { cwd: root });
    expect(strict.code).toBe(2);
    const unknown = await cli(['stpa', 'nope'], { cwd: root });
    expect(unknown.code).toBe(2);
  }, 60_000);
});
