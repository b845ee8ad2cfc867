import { describe, expect, it } from 'vitest';
import type { ResolvedTrait, TraitResult } from '../core/types.js';
import { type DueAction, type DueInput, whatIsDue } from './due.js';
import { decideRetry } from './retry.js';
import { mustCompileSchedule, windowTimes } from './schedule.js';
import { applyWindowEvent, newWindow, type WindowEvent, type WindowRecord } from './window.js';

const T = (s: string) => Date.parse(s);
const MIN = 60_000;
// Europe/Berlin in June is UTC+2: 05:00 local = 03:00Z.
const daily = mustCompileSchedule({
  name: 'daily',
  cron: '0 5 * * *',
  timezone: 'Europe/Berlin',
  catchup: 'latest',
  after: { kind: 'time', hour: 5, minute: 30 },
  deadline: { kind: 'time', hour: 9, minute: 0 },
});
const trait = (type: string, required = true): ResolvedTrait => ({ type, required, config: {}, timeoutSeconds: 30 });
const TRAITS = [trait('upstream-dependency'), trait('row-count'), trait('nice-to-have', false)];
const KEY = 'orders@daily@2026-06-01T03:00:00Z';
const pass = (t: string, at: number, ttlMs?: number): TraitResult => ({
  pipeline: 'orders',
  trait: t,
  status: 'PASS',
  durationMs: 5,
  evaluatedAt: at,
  ...(ttlMs !== undefined ? { expiresAt: at + ttlMs } : {}),
});
const fail = (t: string, at: number): TraitResult => ({
  pipeline: 'orders',
  trait: t,
  status: 'FAIL',
  reasonCode: 'EVALUATOR_FAIL',
  reason: 'not yet',
  durationMs: 5,
  evaluatedAt: at,
});

/** The window before the ones these tests look at, already COMPLETED (so the schedule is not on its first start). */
const PREV: WindowRecord = {
  ...newWindow({
    key: 'orders@daily@2026-05-31T03:00:00Z',
    pipeline: 'orders',
    times: windowTimes(daily, T('2026-05-31T03:00:00Z')),
    mode: 'live',
    now: T('2026-05-31T03:00:00Z'),
  }),
  state: 'COMPLETED',
  terminal: { at: T('2026-05-31T04:00:00Z'), reason: 'done', detail: { state: 'COMPLETED', attempt: 1, runId: 'r0' } },
};

function due(over: Partial<DueInput>) {
  return whatIsDue({
    pipeline: 'orders',
    schedules: [daily],
    mode: 'live',
    watchingSince: T('2026-06-01T00:00:00Z'),
    traits: TRAITS,
    rule: { type: 'all-required-pass' },
    results: [],
    reevaluateMs: MIN,
    now: T('2026-06-01T02:00:00Z'),
    ...over,
    records: [PREV, ...(over.records ?? [])],
  });
}
const kinds = (a: DueAction[]) => a.map((x) => x.kind);
/** The record after the actions a watcher would apply (create, open, miss, retry; decide/claim are explicit). */
function applyAll(records: WindowRecord[], actions: DueAction[], now: number): WindowRecord[] {
  const byKey = new Map(records.map((r) => [r.key, r]));
  for (const a of actions) {
    if (a.kind === 'create') byKey.set(a.key, a.record);
    if (a.kind === 'open' || a.kind === 'miss' || a.kind === 'retry')
      byKey.set(a.key, ev(byKey.get(a.key), a.event, now));
  }
  return [...byKey.values()];
}
function ev(w: WindowRecord | undefined, e: WindowEvent, now: number): WindowRecord {
  if (!w) throw new Error('no record');
  const r = applyWindowEvent(w, e, now);
  if (r.kind !== 'apply') throw new Error(`${e.type}: ${r.kind} ${r.reason}`);
  return r.window;
}

describe('what is due', () => {
  it('before the first window: nothing to do, wake when it opens (local time in the reason)', () => {
    // No records yet: the latest window before the start (05-31, closed) is written down as MISSED, once.
    const first = {
      pipeline: 'orders',
      schedules: [daily],
      mode: 'live' as const,
      watchingSince: T('2026-06-01T02:00:00Z'),
      traits: TRAITS,
      rule: { type: 'all-required-pass' as const },
      results: [],
      reevaluateMs: MIN,
    };
    const r = whatIsDue({ ...first, records: [], now: T('2026-06-01T02:00:00Z') });
    expect(kinds(r.actions)).toEqual(['create']);
    const created = (r.actions[0] as Extract<DueAction, { kind: 'create' }>).record;
    expect([created.key, created.state, created.terminal?.detail]).toEqual([
      'orders@daily@2026-05-31T03:00:00Z',
      'MISSED',
      { state: 'MISSED', cause: 'never-evaluated' },
    ]);
    expect(r.nextWake).toEqual({ at: T('2026-06-01T03:00:00Z'), reason: 'window daily opens 05:00' });
    const again = whatIsDue({ ...first, records: [created], now: T('2026-06-01T02:30:00Z') });
    expect(again.actions).toEqual([]);
  });

  it('at the open: record the window (PENDING) first, then wait for `after`', () => {
    const r = due({ now: T('2026-06-01T03:00:00Z') });
    expect(kinds(r.actions)).toEqual(['create']);
    const w = (r.actions[0] as Extract<DueAction, { kind: 'create' }>).record;
    expect([w.key, w.state]).toEqual([KEY, 'PENDING']);
    expect(r.nextWake).toEqual({
      at: T('2026-06-01T03:30:00Z'),
      reason: 'window daily may trigger from 05:30',
      key: KEY,
    });
  });

  it('at `after` with no results: open it and evaluate the required traits only', () => {
    const now = T('2026-06-01T03:30:00Z');
    const created = applyAll([], due({ now: T('2026-06-01T03:00:00Z') }).actions, T('2026-06-01T03:00:00Z'));
    const r = due({ now, records: created });
    expect(r.actions).toEqual([
      { kind: 'open', key: KEY, event: { type: 'after-reached' } },
      { kind: 'evaluate', key: KEY, traits: ['upstream-dependency', 'row-count'] },
    ]);
  });

  function openWindow(now: number, results: TraitResult[], decidedUnchanged = 0): WindowRecord {
    let [w] = applyAll([], due({ now: T('2026-06-01T03:00:00Z') }).actions, T('2026-06-01T03:00:00Z'));
    w = ev(w, { type: 'after-reached' }, T('2026-06-01T03:30:00Z'));
    for (let i = 0; i <= decidedUnchanged; i++) {
      const blocking = results
        .filter((x) => x.status === 'FAIL')
        .map((x) => ({
          trait: x.trait,
          state: 'FAIL' as const,
          reasonCode: 'EVALUATOR_FAIL' as const,
          reason: 'not yet',
        }));
      w = ev(
        w,
        {
          type: 'decided',
          decision: { outcome: 'NOT_READY', blocking, decidedAt: now },
          reevaluateMs: MIN,
          random: 0.5,
        },
        now,
      );
    }
    return w;
  }

  it('NOT_READY and nothing changed: no evaluator runs before the backoff ends; the wake says why', () => {
    const now = T('2026-06-01T03:31:00Z');
    const results = [fail('upstream-dependency', now), pass('row-count', now)];
    const w = openWindow(now, results);
    expect(w.nextEvaluationAt).toBe(now + MIN);
    const r = due({ now: now + 10_000, records: [w], results });
    expect(r.actions).toEqual([]);
    expect(r.nextWake).toEqual({
      at: now + MIN,
      reason: 're-evaluate upstream-dependency for window daily at 05:32',
      key: KEY,
    });
    // When it ends: only the FAIL trait is re-run; the fresh PASS (no TTL) is not.
    expect(due({ now: now + MIN, records: [w], results }).actions).toEqual([
      { kind: 'evaluate', key: KEY, traits: ['upstream-dependency'] },
    ]);
  });

  it('a pushed PASS makes it READY: trigger attempt 1 at once, whatever the backoff', () => {
    const now = T('2026-06-01T03:31:00Z');
    const w = openWindow(now, [fail('upstream-dependency', now), pass('row-count', now)]);
    const r = due({
      now: now + 5000,
      records: [w],
      results: [pass('upstream-dependency', now + 4000), pass('row-count', now)],
    });
    expect(r.actions).toEqual([
      {
        kind: 'trigger',
        key: KEY,
        attempt: 1,
        decision: { outcome: 'READY', blocking: [], decidedAt: now + 5000 },
      },
    ]);
  });

  it('READY: the trigger may have to wait (a manual run holds the lock), so the deadline is still a wake-up', () => {
    const now = T('2026-06-01T03:31:00Z');
    const w = openWindow(now, [pass('upstream-dependency', now), pass('row-count', now)]);
    const r = due({ now, records: [w], results: [pass('upstream-dependency', now), pass('row-count', now)] });
    expect(kinds(r.actions)).toEqual(['trigger']);
    expect(r.nextWake).toMatchObject({ at: T('2026-06-01T07:00:00Z'), key: KEY }); // 09:00 Berlin
  });

  it('shadow mode: READY records SHADOW instead of triggering', () => {
    const now = T('2026-06-01T03:31:00Z');
    const w = {
      ...openWindow(now, [pass('upstream-dependency', now), pass('row-count', now)]),
      mode: 'shadow' as const,
    };
    const r = due({
      now,
      records: [w],
      mode: 'shadow',
      results: [pass('upstream-dependency', now), pass('row-count', now)],
    });
    expect(kinds(r.actions)).toEqual(['shadow']);
  });

  it('wakes when a required trait expires ("upstream-dependency expires 06:10"), and re-runs it then', () => {
    const now = T('2026-06-01T03:31:00Z');
    const results = [pass('upstream-dependency', now, 39 * MIN), fail('row-count', now)];
    const w = openWindow(now, results, 3); // backoff grown: next evaluation 8 min later
    expect(w.nextEvaluationAt).toBe(now + 8 * MIN);
    const r = due({ now: now + 1000, records: [w], results });
    expect(r.nextWake?.at).toBe(now + 8 * MIN);
    const later = openWindow(now, results, 5); // backoff at its cap: 10 min
    const r2 = due({
      now: now + 1000,
      records: [later],
      results: [pass('upstream-dependency', now, 5 * MIN), fail('row-count', now)],
    });
    expect(r2.nextWake).toEqual({ at: now + 5 * MIN, reason: 'upstream-dependency expires 05:36', key: KEY });
    const expiring = [pass('upstream-dependency', T('2026-06-01T03:10:00Z'), MIN * 60), fail('row-count', now)];
    // Decided at 04:05 with the backoff at its cap (next evaluation 04:15): the expiry at 04:10 comes first.
    const t0 = T('2026-06-01T04:05:00Z');
    const capped = openWindow(t0, expiring, 5);
    expect(capped.nextEvaluationAt).toBe(T('2026-06-01T04:15:00Z'));
    const r3 = due({ now: t0 + 1000, records: [capped], results: expiring });
    expect(r3.nextWake).toEqual({
      at: T('2026-06-01T04:10:00Z'),
      reason: 'upstream-dependency expires 06:10',
      key: KEY,
    });
    // Once expired it is new evidence (PASS → STALE): evaluated at once, despite the backoff.
    const r4 = due({ now: T('2026-06-01T04:10:00Z'), records: [capped], results: expiring });
    expect(r4.actions).toEqual([{ kind: 'evaluate', key: KEY, traits: ['upstream-dependency', 'row-count'] }]);
  });

  it('a PASS expiring within `reevaluate` is re-run together with the failing ones', () => {
    const now = T('2026-06-01T03:31:00Z');
    const results = [pass('upstream-dependency', now - 59 * MIN, 60 * MIN), fail('row-count', now)];
    const w = openWindow(now, results);
    expect(due({ now: now + MIN, records: [w], results }).actions).toEqual([
      { kind: 'evaluate', key: KEY, traits: ['upstream-dependency', 'row-count'] },
    ]);
  });

  it('the deadline passes: mark MISSED (the record names the blocking traits)', () => {
    const now = T('2026-06-01T03:31:00Z');
    const results = [fail('upstream-dependency', now), pass('row-count', now)];
    const w = openWindow(now, results);
    const at = T('2026-06-01T07:00:00Z'); // 09:00 Berlin
    const r = due({ now: at, records: [w], results });
    expect(r.actions).toEqual([{ kind: 'miss', key: KEY, event: { type: 'deadline' } }]);
    const [m] = applyAll([w], r.actions, at);
    expect(m.state).toBe('MISSED');
    expect(m.terminal?.reason).toMatch(/blocked by upstream-dependency/);
  });

  it('retries: wait for the backoff, then re-open and claim attempt 2', () => {
    const now = T('2026-06-01T03:31:00Z');
    const ok = [pass('upstream-dependency', now), pass('row-count', now)];
    let w = openWindow(now, ok);
    w = ev(
      w,
      { type: 'claim', attempt: 1, runId: 'r1', decision: { outcome: 'READY', blocking: [], decidedAt: now } },
      now,
    );
    const policy = {
      maxAttempts: 3,
      backoffMs: 30_000,
      multiplier: 2,
      maxBackoffMs: 3_600_000,
      on: ['TRANSIENT' as const],
    };
    w = ev(
      w,
      {
        type: 'attempt-failed',
        attempt: 1,
        category: 'TRANSIENT',
        retry: decideRetry(policy, 1, 'TRANSIENT', now + 1000, 0.5),
      },
      now + 1000,
    );
    expect(w.retryAt).toBe(now + 31_000);
    const r = due({ now: now + 2000, records: [w], results: ok });
    expect(r.actions).toEqual([]);
    expect(r.nextWake).toEqual({ at: now + 31_000, reason: 'retry attempt 2 of window daily at 05:31', key: KEY });
    const r2 = due({ now: now + 31_000, records: [w], results: ok });
    expect(kinds(r2.actions)).toEqual(['retry', 'trigger']);
    expect(r2.actions[0]).toMatchObject({ attempt: 2, at: now + 31_000 });
    expect(r2.actions[1]).toMatchObject({ kind: 'trigger', attempt: 2 });
  });

  it('a claimed run past its own deadline is due for a timeout; before that, it is the wake-up', () => {
    const now = T('2026-06-01T03:31:00Z');
    let w = openWindow(now, []);
    w = ev(
      w,
      {
        type: 'claim',
        attempt: 1,
        runId: 'r1',
        runDeadlineAt: now + 10 * MIN,
        decision: { outcome: 'READY', blocking: [], decidedAt: now },
      },
      now,
    );
    expect(due({ now: now + MIN, records: [w] }).nextWake).toEqual({
      at: now + 10 * MIN,
      reason: 'run r1 (attempt 1) times out 05:41',
      key: KEY,
    });
    expect(due({ now: now + 10 * MIN, records: [w] }).actions).toEqual([
      { kind: 'run-overdue', key: KEY, attempt: 1, runId: 'r1', at: now + 10 * MIN },
    ]);
  });

  it('after downtime the missed windows are created by the catch-up policy, before anything else', () => {
    const last = applyAll([], due({ now: T('2026-06-01T03:00:00Z') }).actions, T('2026-06-01T03:00:00Z'));
    const done = {
      ...last[0],
      state: 'COMPLETED' as const,
      terminal: { at: 0, reason: 'x', detail: { state: 'COMPLETED' as const, attempt: 1, runId: 'r' } },
    };
    // Down for 3 days; back on 06-04 at 06:00 Berlin (before that window's 09:00 deadline).
    const now = T('2026-06-04T04:00:00Z');
    const r = due({ now, watchingSince: now, records: [done] });
    expect(
      r.actions
        .filter((a) => a.kind === 'create')
        .map((a) => (a as Extract<DueAction, { kind: 'create' }>).record.state),
    ).toEqual(['MISSED', 'MISSED', 'PENDING']);
    // The caught-up window is past `after` already: it opens and evaluates in the same pass.
    expect(kinds(r.actions)).toEqual(['create', 'create', 'create', 'open', 'evaluate']);
  });

  it('an excluded day gets an EXCLUDED record and is never evaluated', () => {
    // 2026-06-06 is a Saturday.
    const r = due({
      now: T('2026-06-06T03:45:00Z'),
      watchingSince: T('2026-06-06T00:00:00Z'),
      exclusions: { days: ['saturday'] },
      records: [
        ...applyAll(
          [],
          due({ now: T('2026-06-05T03:00:00Z'), watchingSince: T('2026-06-05T00:00:00Z') }).actions,
          T('2026-06-05T03:00:00Z'),
        ),
      ],
    });
    const creates = r.actions.filter((a) => a.kind === 'create') as Array<Extract<DueAction, { kind: 'create' }>>;
    expect(creates.map((c) => [c.record.date, c.record.state])).toEqual([['2026-06-06', 'EXCLUDED']]);
    expect(r.actions.some((a) => a.kind === 'evaluate' && a.key.endsWith('2026-06-06T03:00:00Z'))).toBe(false);
  });

  it('a window whose schedule was removed from config never triggers; it runs out at its deadline', () => {
    const now = T('2026-06-01T03:31:00Z');
    const ok = [pass('upstream-dependency', now), pass('row-count', now)];
    const w = openWindow(now, ok);
    const r = due({ now, records: [w], results: ok, schedules: [] });
    expect(r.actions).toEqual([]);
    expect(r.nextWake).toMatchObject({ at: T('2026-06-01T07:00:00Z'), key: KEY });
    expect(due({ now: T('2026-06-01T07:00:00Z'), records: [w], results: ok, schedules: [] }).actions).toEqual([
      { kind: 'miss', key: KEY, event: { type: 'deadline' } },
    ]);
  });

  it('a window still waiting for a retry when the deadline comes is marked MISSED (retries exhausted)', () => {
    const now = T('2026-06-01T03:31:00Z');
    const ok = [pass('upstream-dependency', now), pass('row-count', now)];
    let w = openWindow(now, ok);
    w = ev(
      w,
      { type: 'claim', attempt: 1, runId: 'r1', decision: { outcome: 'READY', blocking: [], decidedAt: now } },
      now,
    );
    const policy = {
      maxAttempts: 3,
      backoffMs: 30_000,
      multiplier: 2,
      maxBackoffMs: 3_600_000,
      on: ['TRANSIENT' as const],
    };
    w = ev(
      w,
      {
        type: 'attempt-failed',
        attempt: 1,
        category: 'TRANSIENT',
        retry: decideRetry(policy, 1, 'TRANSIENT', now, 0.5),
      },
      now,
    );
    const at = T('2026-06-01T07:00:00Z');
    const r = due({ now: at, records: [w], results: ok });
    expect(r.actions).toEqual([{ kind: 'miss', key: KEY, event: { type: 'deadline' } }]);
    expect(applyAll([w], r.actions, at)[0].terminal?.detail).toMatchObject({ cause: 'retries-exhausted' });
  });

  it("wakeFor: only that window's wake-ups count (a view of one window), not the schedule's next opening", () => {
    const created = applyAll([], due({ now: T('2026-06-01T03:00:00Z') }).actions, T('2026-06-01T03:00:00Z'));
    const now = T('2026-06-01T03:10:00Z');
    const all = due({ now, records: created });
    expect(all.nextWake?.reason).toBe('window daily may trigger from 05:30');
    const other = due({ now, records: created, wakeFor: 'orders@daily@2026-05-31T03:00:00Z' });
    expect(other.nextWake).toBeUndefined(); // a terminal window never wakes anything
    const mine = due({ now: T('2026-06-01T03:40:00Z'), records: created, wakeFor: KEY });
    // OPEN, never decided: the evaluation is due now (an action); the next wake of this window is its deadline.
    expect(kinds(mine.actions)).toEqual(['open', 'evaluate']);
    expect(mine.nextWake).toEqual({
      at: T('2026-06-01T07:00:00Z'),
      reason: 'deadline of window daily 09:00',
      key: KEY,
    });
  });
});
