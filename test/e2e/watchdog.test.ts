// End-to-end with the real built `serve` on SQLite and second-level timings: an async http run started by
// `interlock run` (another process) that nobody calls back is RUN_STUCK at expectedDuration and TIMED_OUT at
// maxRunSeconds by timer; a pushed required trait of an open window raises TRAIT_STALE at its TTL; after COMPLETED a
// monitored trait expiring raises DRIFT_DETECTED and onDrift rerun fires `#rerun-1` once the evidence holds again,
// and no second rerun (maxReruns 1). Alerts are read from a file sink.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { writeFiles } from '../support/files.js';
import { sleep, waitFor } from '../support/poll.js';
import { cli } from '../support/run-cli.js';
import { type ServeProcess, serveProcess } from '../support/server-process.js';
import { useTempDirs } from '../support/test-cleanups.js';

const newDir = useTempDirs('interlock-watchdog-e2e-');
const servers: ServeProcess[] = [];
const targets: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const t of targets.splice(0)) await new Promise((r) => t.close(r));
});

interface FileAlert {
  kind: string;
  message: string;
  timestamp: string;
  trait?: string;
  runId?: string;
}

const alerts = (root: string): FileAlert[] =>
  existsSync(join(root, 'alerts.jsonl'))
    ? readFileSync(join(root, 'alerts.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as FileAlert)
    : [];
const ofKind = (root: string, kind: string) => alerts(root).filter((a) => a.kind === kind);
const fires = (root: string) =>
  existsSync(join(root, 'fired')) ? readFileSync(join(root, 'fired'), 'utf8').trim().split('\n').filter(Boolean) : [];

/** A project: pipeline p of archetype gate (required traits `traits`), `body` appended to p.yaml. */
function project(traits: string[], body: string[]): string {
  const root = newDir();
  writeFiles(root, {
    'interlock.yaml': 'provider: sqlite\nwatcher:\n  sweep: 30s\nalerts:\n  - { type: file, path: alerts.jsonl }\n',
    'archetypes/gate.yaml': `name: gate\nrequiredTraits:\n${traits.map((t) => `  - type: ${t}\n`).join('')}`,
    'pipelines/p.yaml': ['name: p', 'archetype: gate', ...body, ''].join('\n'),
  });
  return root;
}

async function start(root: string): Promise<ServeProcess> {
  const s = await serveProcess(root, ['--addr', '127.0.0.1:0'], { INTERLOCK_LOG: 'info' });
  servers.push(s);
  return s;
}

async function target(): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  targets.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/trigger`;
}

/** An `every` schedule whose current window opened a second ago and lasts `minutes`. */
const schedule = (minutes: number) => [
  'schedules:',
  '  - name: s',
  `    every: ${minutes}m`,
  `    anchor: "${new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z')}"`,
];

describe('watchdog end to end (sqlite)', () => {
  it('an on-demand async run nobody calls back: RUN_STUCK at 3 s, TIMED_OUT at 8 s by timer, why says it waits', async () => {
    const url = await target();
    const root = project(
      ['up'],
      [
        'traits:',
        '  up:',
        '    evaluator: push',
        'trigger:',
        '  type: http',
        `  url: ${url}`,
        '  maxRunSeconds: 8',
        // A schedule whose windows never fire here (sla needs one): every run below is on demand.
        'schedules:',
        '  - name: yearly',
        '    cron: "0 0 1 1 *"',
        '    deadline: 1m',
        '    catchup: skip',
        'sla:',
        '  expectedDuration: 3s',
      ],
    );
    await start(root);
    expect((await cli(['push', 'p', 'up', '--status', 'PASS'], { cwd: root })).code).toBe(0);
    // Started by another process (`interlock run`): serve learns of it from the store's change feed.
    const r = await cli(['run', 'p', '--json'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    const run = json(r).run as { runId: string; status: string; triggeredAt: number };
    expect(run.status).toBe('RUNNING');
    const t0 = run.triggeredAt;
    const why = await cli(['why', 'p'], { cwd: root });
    expect(why.stdout + why.stderr).toContain('waiting for a callback (none received)');
    await waitFor('RUN_STUCK', 9000, async () => ofKind(root, 'RUN_STUCK').length > 0);
    const stuckSeen = Date.now();
    await waitFor('RUN_TIMED_OUT', 12000, async () => ofKind(root, 'RUN_TIMED_OUT').length > 0);
    const timedOutSeen = Date.now();
    const stuck = ofKind(root, 'RUN_STUCK');
    expect(stuck).toHaveLength(1);
    expect(stuck[0]?.message).toContain('waiting for a callback (none received)');
    const stuckLate = Date.parse(stuck[0]?.timestamp ?? '') - (t0 + 3000);
    const timeoutLate = Date.parse(ofKind(root, 'RUN_TIMED_OUT')[0]?.timestamp ?? '') - (t0 + 8000);
    console.log(
      `watchdog e2e: RUN_STUCK ${stuckLate} ms after its instant (seen in file +${stuckSeen - t0 - 3000} ms), TIMED_OUT ${timeoutLate} ms after (seen +${timedOutSeen - t0 - 8000} ms)`,
    );
    expect(stuckLate).toBeGreaterThanOrEqual(0);
    expect(stuckLate).toBeLessThan(1000);
    expect(timeoutLate).toBeGreaterThanOrEqual(0);
    expect(timeoutLate).toBeLessThan(1000);
    const after = json(await cli(['runs', '--id', run.runId, '--json'], { cwd: root }));
    expect(JSON.stringify(after)).toContain('TIMED_OUT');
    await sleep(1000);
    expect(ofKind(root, 'RUN_STUCK')).toHaveLength(1);
  });

  it('TRAIT_STALE at the TTL of a pushed required trait while the window is open, once', async () => {
    const root = project(
      ['feed', 'gate'],
      [
        'traits:',
        '  feed:',
        '    evaluator: push',
        '  gate:',
        '    evaluator: push',
        'trigger:',
        '  type: command',
        '  command: "true"',
        ...schedule(10),
      ],
    );
    await start(root);
    await sleep(500);
    expect((await cli(['push', 'p', 'feed', '--status', 'PASS', '--ttl', '2s'], { cwd: root })).code).toBe(0);
    const pushed = Date.now();
    await waitFor('TRAIT_STALE', 6000, async () => ofKind(root, 'TRAIT_STALE').length > 0);
    const stale = ofKind(root, 'TRAIT_STALE');
    expect(stale[0]?.trait).toBe('feed');
    const late = Date.parse(stale[0]?.timestamp ?? '') - pushed;
    console.log(`watchdog e2e: TRAIT_STALE ${late} ms after the push of a 2 s TTL`);
    expect(late).toBeGreaterThanOrEqual(1500);
    expect(late).toBeLessThan(3500);
    await sleep(1500);
    expect(ofKind(root, 'TRAIT_STALE')).toHaveLength(1);
  });

  it('drift after COMPLETED: DRIFT_DETECTED, `#rerun-1` once the evidence holds again, no second rerun', async () => {
    const root = newDir();
    const fired = join(root, 'fired');
    writeFiles(root, {
      'interlock.yaml': 'provider: sqlite\nwatcher:\n  sweep: 30s\nalerts:\n  - { type: file, path: alerts.jsonl }\n',
      'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: fresh\n',
      'pipelines/p.yaml': [
        'name: p',
        'archetype: gate',
        'traits:',
        '  fresh:',
        '    evaluator: push',
        'trigger:',
        '  type: command',
        `  command: "echo $INTERLOCK_RUN_KEY >> '${fired}'"`,
        ...schedule(10),
        'watch:',
        '  reevaluate: 1s',
        'monitor:',
        '  duration: 1h',
        '  onDrift: rerun',
        '  maxReruns: 1',
        '',
      ].join('\n'),
    });
    await start(root);
    await sleep(500);
    expect((await cli(['push', 'p', 'fresh', '--status', 'PASS', '--ttl', '2s'], { cwd: root })).code).toBe(0);
    await waitFor('the first attempt', 5000, async () => fires(root).length === 1);
    expect(fires(root)[0]).toMatch(/#1$/);
    await waitFor('DRIFT_DETECTED', 6000, async () => ofKind(root, 'DRIFT_DETECTED').length === 1);
    expect(ofKind(root, 'DRIFT_DETECTED')[0]?.message).toContain('fresh STALE');
    expect(fires(root)).toHaveLength(1);
    expect((await cli(['push', 'p', 'fresh', '--status', 'PASS', '--ttl', '2s'], { cwd: root })).code).toBe(0);
    await waitFor('the rerun', 5000, async () => fires(root).length === 2);
    expect(fires(root)[1]).toBe(fires(root)[0]?.replace(/#1$/, '#rerun-1'));
    await waitFor('a second drift', 8000, async () => ofKind(root, 'DRIFT_DETECTED').length === 2);
    expect(ofKind(root, 'DRIFT_DETECTED')[1]?.message).toContain('no rerun');
    expect((await cli(['push', 'p', 'fresh', '--status', 'PASS', '--ttl', '2s'], { cwd: root })).code).toBe(0);
    await sleep(2500);
    expect(fires(root)).toHaveLength(2);
  });
});
