import { describe, expect, it } from 'vitest';
import { MAX_PLANNED_WINDOWS, type PlanInput, planWindows } from './catch-up.js';
import { isoUtc } from './local-time.js';
import { type CatchUpPolicy, mustCompileSchedule, type ScheduleSpec } from './schedule.js';
import type { WindowRecord } from './window.js';

const T = (s: string) => Date.parse(s);
const H = 3_600_000;
const hourly = (catchup: CatchUpPolicy, extra: Partial<ScheduleSpec> = {}) =>
  mustCompileSchedule({ name: 'hourly', cron: '0 * * * *', timezone: 'UTC', catchup, ...extra });

/** Watcher down from just after 00:00 until 08:30 (8 h 30 m), last window recorded 00:00. */
const downtime = (s: ReturnType<typeof hourly>, more: Partial<PlanInput> = {}) =>
  planWindows({
    pipeline: 'orders',
    schedule: s,
    mode: 'live',
    lastRecordedOpenAt: T('2026-06-01T00:00:00Z'),
    watchingSince: T('2026-06-01T08:30:00Z'),
    now: T('2026-06-01T08:30:00Z'),
    ...more,
  });
const summary = (rs: WindowRecord[]) =>
  rs.map((r) => {
    const d = r.terminal?.detail;
    const cause = d && 'cause' in d ? `:${d.cause}` : '';
    return `${isoUtc(r.openAt).slice(11, 16)} ${r.state}${cause}`;
  });

describe('catch-up after 8 h of downtime (hourly windows 01:00 … 08:00 opened unwatched)', () => {
  it('every window gets a record: windows past their deadline are MISSED (never evaluated), whatever the policy', () => {
    for (const policy of ['skip', 'latest', 'all'] as const) {
      const plan = downtime(hourly(policy));
      expect(plan.records).toHaveLength(8);
      expect(plan.gap).toBeUndefined();
      expect(summary(plan.records).slice(0, 7)).toEqual(
        ['01', '02', '03', '04', '05', '06', '07'].map((h) => `${h}:00 MISSED:never-evaluated`),
      );
      expect(plan.records[0].terminal?.reason).toMatch(/no watcher was running/);
    }
  });

  it('skip: the newest window, still before its deadline (09:00), is SKIPPED', () => {
    const last = downtime(hourly('skip')).records[7];
    expect([isoUtc(last.openAt), last.state]).toEqual(['2026-06-01T08:00:00Z', 'SKIPPED']);
    expect(last.terminal?.detail).toMatchObject({ state: 'SKIPPED', policy: 'skip' });
  });

  it('latest (the default) and all: the newest window opens (PENDING)', () => {
    expect(downtime(hourly('latest')).records[7].state).toBe('PENDING');
    expect(downtime(hourly('all')).records[7].state).toBe('PENDING');
  });

  it('with a 4 h deadline, windows 05:00 … 08:00 are still open: skip skips them, latest opens 08:00, all opens all four', () => {
    const d = { deadline: { kind: 'offset' as const, ms: 4 * H } };
    const missed = ['01', '02', '03', '04'].map((h) => `${h}:00 MISSED:never-evaluated`);
    expect(summary(downtime(hourly('skip', d)).records)).toEqual([
      ...missed,
      '05:00 SKIPPED',
      '06:00 SKIPPED',
      '07:00 SKIPPED',
      '08:00 SKIPPED',
    ]);
    const latest = downtime(hourly('latest', d)).records;
    expect(summary(latest)).toEqual([...missed, '05:00 SKIPPED', '06:00 SKIPPED', '07:00 SKIPPED', '08:00 PENDING']);
    expect(latest[4].terminal?.detail).toMatchObject({ supersededBy: 'orders@hourly@2026-06-01T08:00:00Z' });
    expect(summary(downtime(hourly('all', d)).records)).toEqual([
      ...missed,
      '05:00 PENDING',
      '06:00 PENDING',
      '07:00 PENDING',
      '08:00 PENDING',
    ]);
  });

  it('latest: when the newest missed window is past its deadline, nothing older opens either', () => {
    // Deadline 30 m: 08:00's closed at 08:30, exactly now.
    const plan = downtime(hourly('latest', { deadline: { kind: 'offset', ms: 30 * 60_000 } }));
    expect(plan.records.every((r) => r.state === 'MISSED')).toBe(true);
  });

  it('all opens at most 50 (the newest); older open ones are SKIPPED with the reason', () => {
    const s = mustCompileSchedule({
      name: 'minutely',
      cron: '* * * * *',
      timezone: 'UTC',
      catchup: 'all',
      deadline: { kind: 'offset', ms: 2 * H },
    });
    const plan = downtime(s as ReturnType<typeof hourly>);
    expect(plan.records).toHaveLength(8 * 60 + 30);
    const pending = plan.records.filter((r) => r.state === 'PENDING');
    const skipped = plan.records.filter((r) => r.state === 'SKIPPED');
    const missed = plan.records.filter((r) => r.state === 'MISSED');
    // 50 late windows (07:40 … 08:29) plus 08:30, which opens exactly now: on time, not catch-up.
    expect(pending).toHaveLength(51);
    expect(isoUtc(pending[0].openAt)).toBe('2026-06-01T07:40:00Z');
    expect(isoUtc(pending[50].openAt)).toBe('2026-06-01T08:30:00Z');
    // Late windows still before their deadline (06:31 … 08:29): 119, of which 50 open.
    expect(skipped).toHaveLength(119 - 50);
    expect(skipped[0].terminal?.reason).toMatch(/at most the newest 50/);
    expect(missed).toHaveLength(plan.records.length - 120);
    expect(isoUtc(missed[missed.length - 1].openAt)).toBe('2026-06-01T06:30:00Z');
  });

  it('excluded days are EXCLUDED and do not count as the newest missed window', () => {
    const s = mustCompileSchedule({
      name: 'daily',
      cron: '0 5 * * *',
      timezone: 'Europe/Berlin',
      catchup: 'latest',
      deadline: { kind: 'offset', ms: 72 * H },
    });
    // Down from Friday 2026-12-25 (excluded date) to Sunday 12:00; Saturday and Sunday excluded.
    const plan = planWindows({
      pipeline: 'orders',
      schedule: s,
      mode: 'live',
      exclusions: { days: ['saturday', 'sunday'], dates: ['2026-12-25'] },
      lastRecordedOpenAt: T('2026-12-24T04:00:00Z'),
      watchingSince: T('2026-12-27T11:00:00Z'),
      now: T('2026-12-27T11:00:00Z'),
    });
    expect(plan.records.map((r) => [r.date, r.state])).toEqual([
      ['2026-12-25', 'EXCLUDED'],
      ['2026-12-26', 'EXCLUDED'],
      ['2026-12-27', 'EXCLUDED'],
    ]);
    expect(plan.records[0].terminal?.detail).toMatchObject({ match: { rule: 'date' } });
  });

  it('windows opening after the watcher started are on time (PENDING), not catch-up', () => {
    const plan = planWindows({
      pipeline: 'orders',
      schedule: hourly('skip'),
      mode: 'live',
      lastRecordedOpenAt: T('2026-06-01T05:00:00Z'),
      watchingSince: T('2026-06-01T05:30:00Z'),
      now: T('2026-06-01T07:00:00.200Z'),
    });
    expect(summary(plan.records)).toEqual(['06:00 MISSED:never-evaluated', '07:00 PENDING']);
    expect(plan.records[0].terminal?.reason).toMatch(/before the window could be opened/);
  });

  it('a schedule with no records starts from the latest window before the watcher started', () => {
    const base = { pipeline: 'orders', mode: 'live' as const, watchingSince: T('2026-06-01T05:10:00Z') };
    const latest = planWindows({ ...base, schedule: hourly('latest'), now: T('2026-06-01T05:10:00Z') });
    expect(summary(latest.records)).toEqual(['05:00 PENDING']);
    const skip = planWindows({ ...base, schedule: hourly('skip'), now: T('2026-06-01T05:10:00Z') });
    expect(summary(skip.records)).toEqual(['05:00 SKIPPED']);
    // Nothing new: no records.
    const again = planWindows({
      ...base,
      schedule: hourly('latest'),
      lastRecordedOpenAt: T('2026-06-01T05:00:00Z'),
      now: T('2026-06-01T05:59:59Z'),
    });
    expect(again.records).toEqual([]);
  });

  it('records carry the window key, times and the catch-up instant', () => {
    const r = downtime(hourly('latest')).records[7];
    expect(r).toMatchObject({
      key: 'orders@hourly@2026-06-01T08:00:00Z',
      pipeline: 'orders',
      schedule: 'hourly',
      openAt: T('2026-06-01T08:00:00Z'),
      deadlineAt: T('2026-06-01T09:00:00Z'),
      createdAt: T('2026-06-01T08:30:00Z'),
      version: 1,
      attempts: [],
    });
  });

  it(`more than ${MAX_PLANNED_WINDOWS} unrecorded windows: the newest get records, the rest one explicit gap`, () => {
    const s = mustCompileSchedule({ name: 'secs', everyMs: 1000, timezone: 'UTC', catchup: 'latest' });
    const plan = planWindows({
      pipeline: 'orders',
      schedule: s,
      mode: 'live',
      lastRecordedOpenAt: T('2026-06-01T00:00:00Z'),
      watchingSince: T('2026-06-01T08:00:00Z'),
      now: T('2026-06-01T08:00:00Z'),
    });
    expect(plan.records).toHaveLength(MAX_PLANNED_WINDOWS);
    expect(plan.gap?.count).toBe(8 * 3600 - MAX_PLANNED_WINDOWS);
    expect(isoUtc(plan.gap?.fromOpenAt as number)).toBe('2026-06-01T00:00:01Z');
    expect((plan.gap?.toOpenAt as number) + 1000).toBe(plan.records[0].openAt);
    expect(plan.records[plan.records.length - 1].state).toBe('PENDING'); // 08:00:00 opens now
    expect(plan.gap?.reason).toMatch(/too many to record one by one/);
  });

  it('the same for a second-level cron, in bounded time (no walk over all 14,400 openings)', () => {
    const s = mustCompileSchedule({ name: 'secs', cron: '*/2 * * * * *', timezone: 'UTC', catchup: 'skip' });
    const plan = planWindows({
      pipeline: 'orders',
      schedule: s,
      mode: 'live',
      lastRecordedOpenAt: T('2026-06-01T00:00:00Z'),
      watchingSince: T('2026-06-01T08:00:00Z'),
      now: T('2026-06-01T08:00:00Z'),
    });
    expect(plan.records).toHaveLength(MAX_PLANNED_WINDOWS);
    expect(isoUtc(plan.records[plan.records.length - 1].openAt)).toBe('2026-06-01T08:00:00Z');
    expect(plan.gap?.fromOpenAt).toBe(T('2026-06-01T00:00:02Z'));
    expect(plan.gap?.count).toBeUndefined();
    expect((plan.gap?.toOpenAt as number) + 2000).toBe(plan.records[0].openAt);
  });
});
