// `interlock windows` and the window part of `interlock status`, run in-process (the command code as the CLI runs it)
// over a memory store and a fake clock: the table, --json, usage errors, and status's added lines and table.
// TODO(after the SQLite window methods merge): the same through the built CLI on a SQLite project (test/e2e).
import pc from 'picocolors';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { recordingLogger } from '../../../test/support/recording-logger.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import {
  blockingFail,
  ordersWatch,
  ordersWindow,
  scheduledProject,
  storeResults,
  traitResult,
} from '../../../test/support/windows.js';
import { InterlockError } from '../../core/errors.js';
import { openContext } from '../../runtime/context.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import type { Out } from '../output.js';
import { status } from './status.js';
import { windows } from './windows.js';

const T = (s: string) => Date.parse(s);
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function recordingOut(json = false) {
  const lines: string[] = [];
  const errs: string[] = [];
  const out: Out = {
    json,
    c: pc.createColors(false),
    line: (s = '') => void lines.push(s),
    fitLine: (s) => void lines.push(s),
    columns: undefined,
    err: (s) => void errs.push(s),
    printJson: (v) => void lines.push(JSON.stringify(v)),
    interactive: false,
  };
  return { out, lines, errs };
}

/** An `open` for the commands: the project in a temp dir, a memory store with windows and results, a fake clock. */
async function project() {
  const t = tempDir('interlock-cli-windows-');
  cleanups.push(t.cleanup);
  scheduledProject(t.dir);
  const store = new MemoryStore();
  const missed = ordersWindow('2026-05-31T03:00:00Z', 'MISSED', {
    terminal: {
      at: T('2026-05-31T07:00:00Z'),
      reason: 'deadline passed while NOT_READY: blocked by row-count (FAIL: only 12 rows)',
      detail: { state: 'MISSED', cause: 'blocked', blocking: [blockingFail('row-count', 'only 12 rows')] },
    },
  });
  const open = ordersWindow('2026-06-01T03:00:00Z', 'OPEN', {
    lastDecision: {
      outcome: 'NOT_READY',
      blocking: [blockingFail('row-count', 'only 12 rows')],
      decidedAt: T('2026-06-01T03:35:00Z'),
    },
    nextEvaluationAt: T('2026-06-01T04:35:00Z'),
  });
  for (const w of [missed, open]) await store.createWindow(w);
  await storeResults(
    store,
    [
      traitResult('upstream-dependency', 'PASS', T('2026-06-01T03:35:00Z'), T('2026-06-01T04:10:00Z')),
      traitResult('row-count', 'FAIL', T('2026-06-01T03:35:00Z')),
    ],
    T('2026-06-01T03:35:00Z'),
  );
  return async () => {
    const ctx = await openContext({
      cwd: t.dir,
      env: process.env,
      store,
      clock: new FakeClock(T('2026-06-01T03:40:00Z')),
      log: recordingLogger(),
    });
    ctx.project.watch.set('orders', ordersWatch());
    // The command closes its context; the store outlives it here (the next command of the test reads it again).
    return { ...ctx, close: async () => undefined };
  };
}

async function usage(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof InterlockError) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error('expected an error');
}

describe('interlock windows', () => {
  it('a table: schedule, local open time, state, attempts, deadline, next wake-up, why', async () => {
    const open = await project();
    const { out, lines } = recordingOut();
    expect(await windows(out, {}, 'orders', { limit: '20' }, open)).toBe(0);
    expect(lines[0]).toBe('orders schedules: daily (Europe/Berlin)');
    expect(lines[1]).toBe('  next wake-up in 30m00s: upstream-dependency expires 06:10');
    expect(lines[2].split(/\s{2,}/)).toEqual([
      'SCHEDULE',
      'OPENS (LOCAL)',
      'STATE',
      'ATTEMPTS',
      'DEADLINE',
      'NEXT WAKE-UP',
      'WHY',
    ]);
    expect(lines[3].split(/\s{2,}/)).toEqual([
      'daily',
      '2026-06-01 05:00',
      'OPEN',
      '0',
      '09:00 (in 3h20m)',
      'in 30m00s: upstream-dependency expires 06:10',
      'NOT_READY: row-count: only 12 rows [EVALUATOR_FAIL]',
    ]);
    expect(lines[4].split(/\s{2,}/)).toEqual([
      'daily',
      '2026-05-31 05:00',
      'MISSED',
      '0',
      '09:00',
      '-',
      'deadline passed while NOT_READY: blocked by row-count (FAIL: only 12 rows)',
    ]);
    expect(lines).toHaveLength(5);
  });

  it('--json prints the view; --state and --limit filter', async () => {
    const open = await project();
    const j = recordingOut(true);
    await windows(j.out, { json: true }, 'orders', { limit: '1' }, open);
    const v = JSON.parse(j.lines.join(''));
    expect(v.windows.map((w: { key: string }) => w.key)).toEqual(['orders@daily@2026-06-01T03:00:00Z']);
    expect(v.windows[0].nextWake.reason).toBe('upstream-dependency expires 06:10');
    const m = recordingOut();
    await windows(m.out, {}, 'orders', { limit: '20', state: 'COMPLETED' }, open);
    expect(m.lines.at(-1)).toBe('no COMPLETED windows');
    const adhoc = recordingOut();
    await windows(adhoc.out, {}, 'adhoc', { limit: '20' }, open);
    expect(adhoc.lines).toEqual([
      'adhoc no schedules',
      "  pipeline 'adhoc' has no schedules: it runs on demand only (windows listed are from schedules since removed)",
      'no windows recorded yet',
    ]);
  });

  it('usage errors before the store is opened: --limit outside 1–1000 or not a number, an unknown --state', async () => {
    const never = async () => {
      throw new Error('opened');
    };
    const { out } = recordingOut();
    for (const limit of ['0', '1001', 'x', '1.5', '-3']) {
      expect(await usage(windows(out, {}, 'orders', { limit }, never)), limit).toMatch(/^USAGE: --limit must be/);
    }
    expect(await usage(windows(out, {}, 'orders', { limit: '5', state: 'missed' }, never))).toMatch(
      /^USAGE: --state must be one of PENDING, OPEN/,
    );
    expect(await usage(windows(out, {}, 'nope', { limit: '5' }, await project()))).toMatch(/^PIPELINE_NOT_FOUND/);
  });
});

describe('interlock status with schedules', () => {
  it('the overview keeps its table and adds one per schedule: window, state, time to deadline, next wake-up', async () => {
    const open = await project();
    const { out, lines } = recordingOut();
    expect(await status(out, {}, undefined, open)).toBe(0);
    expect(lines[0].split(/\s{2,}/)).toEqual(['PIPELINE', 'READINESS', 'TRAITS', 'LAST EVALUATED', 'RUN', 'BLOCKING']);
    expect(lines.slice(1, 3).map((l) => l.split(/\s{2,}/)[0])).toEqual(['adhoc', 'orders']);
    expect(lines[3]).toBe('');
    expect(lines[4].split(/\s{2,}/)).toEqual(['PIPELINE', 'SCHEDULE', 'WINDOW', 'STATE', 'DEADLINE', 'NEXT WAKE-UP']);
    expect(lines[5].split(/\s{2,}/)).toEqual([
      'orders',
      'daily',
      '2026-06-01 05:00',
      'OPEN',
      'in 3h20m',
      'in 30m00s: upstream-dependency expires 06:10',
    ]);
    expect(lines).toHaveLength(6);
  });

  it('one pipeline in detail: its schedule lines; --json adds `scheduled` (null for an on-demand one)', async () => {
    const open = await project();
    const { out, lines } = recordingOut();
    expect(await status(out, {}, 'orders', open)).toBe(1); // NOT_READY, as before
    const tail = lines.slice(lines.findIndex((l) => l.startsWith('  schedule ')));
    expect(tail).toEqual([
      '  schedule daily (Europe/Berlin): window 2026-06-01 05:00 OPEN, deadline 09:00 (in 3h20m)',
      '    NOT_READY: row-count: only 12 rows [EVALUATOR_FAIL]',
      '    last: window 2026-05-31 05:00 MISSED: deadline passed while NOT_READY: blocked by row-count (FAIL: only 12 rows)',
      '  next wake-up in 30m00s: upstream-dependency expires 06:10',
    ]);
    const j = recordingOut(true);
    await status(j.out, { json: true }, undefined, open);
    const all = JSON.parse(j.lines.join(''));
    const orders = all.find((p: { pipeline: string }) => p.pipeline === 'orders');
    expect(orders.scheduled.schedules[0].current.state).toBe('OPEN');
    expect(orders.scheduled.nextWake.reason).toBe('upstream-dependency expires 06:10');
    expect(orders.outcome).toBe('NOT_READY');
    expect(all.find((p: { pipeline: string }) => p.pipeline === 'adhoc').scheduled).toBeNull();
  });
});
