// `interlock windows` and `interlock status` through the BUILT CLI on a SQLite project whose pipeline has a schedule
// in YAML: windows written into the store by the test are read back (table and --json), with the next wake-up; help
// and usage errors (exit 2, before any store is opened). Formatting details: src/cli/commands/windows.test.ts.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { isoUtc } from '../../src/engine/local-time.js';
import { mustCompileSchedule, windowTimes } from '../../src/engine/schedule.js';
import { newWindow } from '../../src/engine/window.js';
import { windowKey } from '../../src/engine/window-key.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { json, show } from '../support/cli-output.js';
import { minimalProject } from '../support/minimal-project.js';
import { cli } from '../support/run-cli.js';
import { tempDirFor } from '../support/test-cleanups.js';
import { blockingFail } from '../support/windows.js';

const project = (ctx: TestContext) => minimalProject(tempDirFor(ctx, 'interlock-e2e-windows-'), [{ type: 'a' }]);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Pipeline `p` with schedule `daily`: every 1d from an anchor an hour ago (UTC), may trigger 2 h after it opens. The
 * store holds that window PENDING and yesterday's MISSED (blocked by trait `a`). Returns the root, keys and instants.
 */
async function scheduled(ctx: TestContext) {
  const root = minimalProject(tempDirFor(ctx, 'interlock-e2e-windows-'), [{ type: 'a' }]);
  const anchor = Math.floor((Date.now() - HOUR) / 1000) * 1000;
  appendFileSync(
    join(root, 'pipelines/p.yaml'),
    `schedules:\n  - name: daily\n    every: 1d\n    anchor: "${isoUtc(anchor)}"\n    after: 2h\n`,
  );
  const s = mustCompileSchedule({
    name: 'daily',
    everyMs: DAY,
    anchorMs: anchor,
    timezone: 'UTC',
    catchup: 'latest',
    after: { kind: 'offset', ms: 2 * HOUR },
  });
  const key = windowKey('p', 'daily', anchor);
  const yesterday = windowKey('p', 'daily', anchor - DAY);
  const store = new SqliteStore({ path: join(root, '.interlock', 'state.db') });
  try {
    const pending = newWindow({ key, pipeline: 'p', times: windowTimes(s, anchor), mode: 'live', now: anchor });
    const old = newWindow({
      key: yesterday,
      pipeline: 'p',
      times: windowTimes(s, anchor - DAY),
      mode: 'live',
      now: anchor - DAY,
    });
    const missed = {
      ...old,
      state: 'MISSED' as const,
      lastDecision: {
        outcome: 'NOT_READY' as const,
        blocking: [blockingFail('a', 'no rows')],
        decidedAt: anchor - DAY + 3 * HOUR,
      },
      terminal: {
        at: anchor - 1000,
        reason: 'deadline passed while NOT_READY: blocked by a (FAIL: no rows)',
        detail: { state: 'MISSED' as const, cause: 'blocked' as const, blocking: [blockingFail('a', 'no rows')] },
      },
    };
    expect((await store.createWindow(missed)).ok).toBe(true);
    expect((await store.createWindow(pending)).ok).toBe(true);
  } finally {
    await store.close();
  }
  const hhmm = isoUtc(anchor + 2 * HOUR).slice(11, 16);
  return { root, key, yesterday, anchor, wake: `window daily may trigger from ${hhmm}` };
}

describe('interlock windows and status on SQLite (built CLI)', () => {
  it('windows: the table, newest first, with the next wake-up; --json the views; --state filters', async (ctx) => {
    const w = await scheduled(ctx);
    const r = await cli(['windows', 'p'], { cwd: w.root });
    expect(r.code, show(r)).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('p schedules: daily (UTC)');
    expect(lines[1]).toMatch(new RegExp(`^  next wake-up in (59m\\d\\ds|1h00m): ${w.wake}$`));
    expect(lines[2]).toMatch(/^SCHEDULE +OPENS \(LOCAL\) +STATE +ATTEMPTS +DEADLINE +NEXT WAKE-UP +WHY$/);
    const open = isoUtc(w.anchor).slice(0, 16).replace('T', ' ');
    expect(lines[3]).toMatch(
      new RegExp(`^daily +${open}(:\\d\\d)? +PENDING +0 +\\S+ \\(in 2[23]h\\d\\dm\\) +in \\S+: ${w.wake}$`),
    );
    expect(lines[4]).toMatch(
      /^daily +\S+ \S+ +MISSED +0 +\S+ +- +deadline passed while NOT_READY: blocked by a \(FAIL: no rows\)$/,
    );
    expect(lines).toHaveLength(5);

    const j = json(await cli(['windows', 'p', '--json', '--limit', '1'], { cwd: w.root }));
    expect(j.windows.map((x: { key: string }) => x.key)).toEqual([w.key]);
    expect(j.windows[0]).toMatchObject({
      state: 'PENDING',
      open: { at: w.anchor, utc: isoUtc(w.anchor) },
      nextWake: { reason: w.wake },
    });
    const missed = json(await cli(['windows', 'p', '--json', '--state', 'MISSED'], { cwd: w.root }));
    expect(missed.windows.map((x: { key: string }) => x.key)).toEqual([w.yesterday]);
    expect(missed.windows[0].end.detail).toMatchObject({ cause: 'blocked', blocking: [{ trait: 'a' }] });
  });

  it('status: a second table per schedule, the detail lines, and `scheduled` in --json', async (ctx) => {
    const w = await scheduled(ctx);
    const r = await cli(['status'], { cwd: w.root });
    expect(r.code, show(r)).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PIPELINE +READINESS +TRAITS +LAST EVALUATED +RUN +BLOCKING$/);
    expect(lines[2]).toBe('');
    expect(lines[3]).toMatch(/^PIPELINE +SCHEDULE +WINDOW +STATE +DEADLINE +NEXT WAKE-UP$/);
    expect(lines[4]).toMatch(new RegExp(`^p +daily +\\S+ \\S+ +PENDING +in 2[23]h\\d\\dm +in \\S+: ${w.wake}$`));
    const one = await cli(['status', 'p'], { cwd: w.root });
    expect(one.code).toBe(1); // NOT_READY (never evaluated), as before
    expect(one.stdout).toMatch(
      /^ {2}schedule daily \(UTC\): window \S+ \S+ PENDING, deadline \S+ \(in 2[23]h\d\dm\)$/m,
    );
    expect(one.stdout).toMatch(/^ {4}last: window \S+ \S+ MISSED: deadline passed while NOT_READY: blocked by a/m);
    expect(one.stdout).toContain(`next wake-up in`);
    const j = json(await cli(['status', 'p', '--json'], { cwd: w.root }));
    expect(j.scheduled.schedules[0]).toMatchObject({
      schedule: 'daily',
      current: { key: w.key },
      last: { key: w.yesterday },
    });
    expect(j.scheduled.nextWake.reason).toBe(w.wake);
  });
});

describe('interlock windows (built CLI)', () => {
  it('--help names the options; `help windows` is the same', async (ctx) => {
    const cwd = project(ctx);
    const r = await cli(['windows', '--help'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: interlock windows \[options\] <pipeline>/);
    expect(r.stdout).toMatch(/-n, --limit <n>\s+how many windows \(1–1000\) \(default: "20"\)/);
    expect(r.stdout).toMatch(/--state <state>/);
    expect((await cli(['help', 'windows'], { cwd })).stdout).toBe(r.stdout);
  });

  it('exit 2 for a bad --limit or --state (human and --json) and for an unknown pipeline', async (ctx) => {
    const cwd = project(ctx);
    for (const args of [
      ['windows', 'p', '--limit', '0'],
      ['windows', 'p', '--limit', '1001'],
      ['windows', 'p', '--state', 'DONE'],
      ['windows', 'nope'],
    ]) {
      const r = await cli(args, { cwd });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^interlock: (--limit must be|--state must be one of|unknown pipeline)/);
    }
    const j = await cli(['windows', 'p', '--state', 'DONE', '--json'], { cwd });
    expect(j.code).toBe(2);
    expect(json(j).error.code).toBe('USAGE');
  });
});
