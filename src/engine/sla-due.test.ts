import { describe, expect, it } from 'vitest';
import { isoUtc } from './local-time.js';
import { mustCompileSchedule, windowTimes } from './schedule.js';
import type { SlaSpec } from './sla.js';
import { deadlineInstant, metBy, slaDue, slaInstants, slaRecovered } from './sla-due.js';
import { newWindow, type WindowRecord } from './window.js';

const T = (s: string) => Date.parse(s);
const MIN = 60_000;
const BERLIN = 'Europe/Berlin';
const hhmm = (hour: number, minute: number) => ({ kind: 'time' as const, hour, minute });

// Daily at 05:00 Berlin; evaluation by 06:30, completion by 09:00, warn 15 min before each.
const SLA: SlaSpec = { evaluationDeadline: hhmm(6, 30), completionDeadline: hhmm(9, 0), atRiskMs: 15 * MIN };
const daily = mustCompileSchedule({
  name: 'daily',
  cron: '0 5 * * *',
  timezone: BERLIN,
  catchup: 'skip',
  deadline: hhmm(8, 0),
  sla: SLA,
});
const OPEN = T('2026-06-01T03:00:00Z'); // 05:00 CEST

function win(over: Partial<WindowRecord> = {}, openAt = OPEN): WindowRecord {
  return {
    ...newWindow({
      key: `p@daily@${isoUtc(openAt)}`,
      pipeline: 'p',
      times: windowTimes(daily, openAt),
      mode: 'live',
      now: openAt,
    }),
    state: 'OPEN',
    ...over,
  };
}
const claimed = (at: number) => ({ attempt: 1, runId: 'r1', runKey: 'k#1', claimedAt: at });
const due = (w: WindowRecord, now: number, sla: SlaSpec = SLA) => slaDue({ window: w, sla, timezone: BERLIN, now });

describe('deadline instants', () => {
  it('HH:MM is the next occurrence at/after the window opens, in the schedule timezone; a duration is after open', () => {
    expect(isoUtc(deadlineInstant(hhmm(6, 30), OPEN, BERLIN))).toBe('2026-06-01T04:30:00Z');
    // Earlier in the day than the open: the next day's.
    expect(isoUtc(deadlineInstant(hhmm(4, 0), OPEN, BERLIN))).toBe('2026-06-02T02:00:00Z');
    // At the open itself: that instant.
    expect(isoUtc(deadlineInstant(hhmm(5, 0), OPEN, BERLIN))).toBe('2026-06-01T03:00:00Z');
    expect(deadlineInstant({ kind: 'offset', ms: 90 * MIN }, OPEN, BERLIN)).toBe(OPEN + 90 * MIN);
    const [e, c] = slaInstants(SLA, OPEN, BERLIN);
    expect(e).toEqual({ kind: 'evaluation', deadline: T('2026-06-01T04:30:00Z'), atRisk: T('2026-06-01T04:15:00Z') });
    expect(c).toEqual({ kind: 'completion', deadline: T('2026-06-01T07:00:00Z'), atRisk: T('2026-06-01T06:45:00Z') });
  });

  it('DST days: 06:30 local is 04:30Z in summer, 05:30Z in winter; spring-forward 02:30 resolves to 03:00 CEST', () => {
    const open = (s: string) => T(s);
    // 2026-03-29 (Berlin springs 02:00 → 03:00): window opening 00:00 CET = 2026-03-28T23:00Z.
    const spring = open('2026-03-28T23:00:00Z');
    expect(isoUtc(deadlineInstant(hhmm(6, 30), spring, BERLIN))).toBe('2026-03-29T04:30:00Z'); // CEST
    expect(isoUtc(deadlineInstant(hhmm(2, 30), spring, BERLIN))).toBe('2026-03-29T01:00:00Z'); // end of the gap
    // A 1-hour at-risk before 03:30 CEST on that day is 01:30Z (02:30 does not exist; the instant arithmetic holds).
    const [i] = slaInstants({ evaluationDeadline: hhmm(3, 30), atRiskMs: 60 * MIN }, spring, BERLIN);
    expect(isoUtc(i?.deadline ?? 0)).toBe('2026-03-29T01:30:00Z');
    expect(isoUtc(i?.atRisk ?? 0)).toBe('2026-03-29T00:30:00Z');
    // 2026-10-25 (Berlin falls 03:00 → 02:00): 02:30 happens twice: the first (CEST, 00:30Z).
    const fall = open('2026-10-24T22:00:00Z');
    expect(isoUtc(deadlineInstant(hhmm(2, 30), fall, BERLIN))).toBe('2026-10-25T00:30:00Z');
    expect(isoUtc(deadlineInstant(hhmm(6, 30), fall, BERLIN))).toBe('2026-10-25T05:30:00Z'); // CET
    // A duration counts real time, not wall time: 4 h after 00:00 CEST on the fall day is 03:00 CET.
    expect(isoUtc(deadlineInstant({ kind: 'offset', ms: 240 * MIN }, fall, BERLIN))).toBe('2026-10-25T02:00:00Z');
  });

  it('an at-risk longer than the time to the deadline warns at the open, never before', () => {
    const [i] = slaInstants({ evaluationDeadline: hhmm(5, 10), atRiskMs: 60 * MIN }, OPEN, BERLIN);
    expect(i?.atRisk).toBe(OPEN);
  });
});

describe('what SLA alert is due', () => {
  const eAtRisk = T('2026-06-01T04:15:00Z');
  const eDeadline = T('2026-06-01T04:30:00Z');
  const cAtRisk = T('2026-06-01T06:45:00Z');
  const cDeadline = T('2026-06-01T07:00:00Z');

  it('before the at-risk instant: nothing, wake at it', () => {
    expect(due(win(), eAtRisk - 1)).toEqual({ due: [], nextAt: eAtRisk });
  });

  it('at the at-risk instant, not READY: SLA_AT_RISK (on time: no delay); next wake the deadline', () => {
    const r = due(win(), eAtRisk);
    expect(r.due).toEqual([
      {
        id: 'SLA_AT_RISK:evaluation',
        alert: 'SLA_AT_RISK',
        kind: 'evaluation',
        at: eAtRisk,
        deadline: eDeadline,
        repeatable: false,
      },
    ]);
    expect(r.nextAt).toBe(eDeadline);
  });

  it('at the deadline, still not READY: SLA_BREACHED (the at-risk is no longer due: the deadline came)', () => {
    const r = due(win(), eDeadline);
    expect(r.due.map((d) => d.id)).toEqual(['SLA_BREACHED:evaluation']);
    expect(r.due[0]).toMatchObject({ repeatable: true, at: eDeadline });
    expect(r.due[0]?.delayMs).toBeUndefined();
    expect(r.nextAt).toBe(cAtRisk);
  });

  it('triggered before the at-risk instant: nothing for evaluation; completion still watched', () => {
    const w = win({ state: 'RUNNING', attempts: [claimed(eAtRisk - MIN)] });
    expect(due(w, eDeadline + MIN)).toEqual({ due: [], nextAt: cAtRisk });
    expect(due(w, cAtRisk).due.map((d) => d.id)).toEqual(['SLA_AT_RISK:completion']);
    expect(due(w, cDeadline).due.map((d) => d.id)).toEqual(['SLA_BREACHED:completion']);
  });

  it('triggered between at-risk and deadline: no breach', () => {
    const w = win({ state: 'RUNNING', attempts: [claimed(eAtRisk + MIN)] });
    expect(due(w, eDeadline).due).toEqual([]);
  });

  it('COMPLETED in time: nothing ever; completed after the deadline: the breach still stands (fired late)', () => {
    const done = (at: number) =>
      win({
        state: 'COMPLETED',
        attempts: [claimed(OPEN + MIN)],
        terminal: { at, reason: 'ok', detail: { state: 'COMPLETED', attempt: 1, runId: 'r1' } },
      });
    expect(due(done(cAtRisk - MIN), cDeadline + MIN)).toEqual({ due: [] });
    const late = due(done(cDeadline + 5 * MIN), cDeadline + 10 * MIN);
    expect(late.due).toEqual([
      {
        id: 'SLA_BREACHED:completion',
        alert: 'SLA_BREACHED',
        kind: 'completion',
        at: cDeadline,
        deadline: cDeadline,
        delayMs: 10 * MIN,
        repeatable: false,
      },
    ]);
  });

  it('a serve down over the deadline: the breach is due when it comes back, with the delay; not past 24 h', () => {
    const r = due(win(), eDeadline + 3 * MIN);
    expect(r.due).toEqual([expect.objectContaining({ id: 'SLA_BREACHED:evaluation', delayMs: 3 * MIN })]);
    // The at-risk that came and went meanwhile is not sent late: the breach says more.
    expect(r.due.some((d) => d.alert === 'SLA_AT_RISK')).toBe(false);
    expect(due(win(), eDeadline + 24 * 3_600_000 + 1).due.map((d) => d.id)).not.toContain('SLA_BREACHED:evaluation');
  });

  it('a window that went MISSED: WINDOW_MISSED after the breach of the same instant; at-risk not for ended ones', () => {
    const sla: SlaSpec = { evaluationDeadline: hhmm(8, 0), atRiskMs: 15 * MIN };
    const missedAt = T('2026-06-01T06:00:00Z');
    const w = win({
      state: 'MISSED',
      terminal: { at: missedAt, reason: 'deadline passed', detail: { state: 'MISSED', cause: 'never-evaluated' } },
    });
    expect(due(w, missedAt, sla).due.map((d) => d.id)).toEqual(['SLA_BREACHED:evaluation', 'WINDOW_MISSED']);
    expect(due(w, missedAt, sla).due[0]?.repeatable).toBe(false);
    // An ended window's completion deadline later still breaches; its at-risk does not warn.
    expect(due(w, cAtRisk).due.map((d) => d.id)).toEqual(['SLA_BREACHED:evaluation', 'WINDOW_MISSED']);
    expect(due(w, cDeadline).due.map((d) => d.id)).toEqual([
      'SLA_BREACHED:evaluation',
      'WINDOW_MISSED',
      'SLA_BREACHED:completion',
    ]);
  });

  it('EXCLUDED / SKIPPED windows have no SLA; shadow windows only the evaluation one', () => {
    for (const state of ['EXCLUDED', 'SKIPPED'] as const) expect(due(win({ state }), cDeadline).due).toEqual([]);
    const shadow = win({ mode: 'shadow' });
    expect(due(shadow, cDeadline).due.map((d) => d.id)).toEqual(['SLA_BREACHED:evaluation']);
    const shadowed = win({
      mode: 'shadow',
      state: 'SHADOW',
      terminal: { at: eAtRisk - MIN, reason: 'shadow', detail: { state: 'SHADOW' } },
    });
    expect(metBy(shadowed, 'evaluation', eAtRisk)).toBe(true);
    expect(due(shadowed, cDeadline).due).toEqual([]);
  });
});

describe('recovery', () => {
  const eDeadline = T('2026-06-01T04:30:00Z');
  const rec = (w: WindowRecord, now: number, readyNow = false) =>
    slaRecovered({ window: w, sla: SLA, timezone: BERLIN, now, readyNow });

  it('nothing alerted: nothing to recover', () => {
    expect(rec(win({ state: 'RUNNING', attempts: [claimed(OPEN)] }), eDeadline + MIN)).toBeUndefined();
  });

  it('a breached evaluation recovers once triggered; a larger set (completion too) recovers again on COMPLETED', () => {
    expect(rec(win(), eDeadline + MIN)).toBeUndefined();
    const triggered = win({ state: 'RUNNING', attempts: [claimed(eDeadline + 2 * MIN)] });
    expect(rec(triggered, eDeadline + 3 * MIN)).toEqual(['SLA_AT_RISK:evaluation', 'SLA_BREACHED:evaluation']);
    // The completion at-risk came while running: not recovered until COMPLETED.
    expect(rec(triggered, T('2026-06-01T06:50:00Z'))).toBeUndefined();
    const done = {
      ...triggered,
      state: 'COMPLETED' as const,
      terminal: {
        at: T('2026-06-01T06:55:00Z'),
        reason: 'ok',
        detail: { state: 'COMPLETED' as const, attempt: 1, runId: 'r1' },
      },
    };
    expect(rec(done, T('2026-06-01T06:56:00Z'))).toEqual([
      'SLA_AT_RISK:completion',
      'SLA_AT_RISK:evaluation',
      'SLA_BREACHED:evaluation',
    ]);
  });

  it('a MISSED window recovers when the pipeline is READY again', () => {
    const w = win({
      state: 'MISSED',
      terminal: {
        at: T('2026-06-01T06:00:00Z'),
        reason: 'blocked',
        detail: { state: 'MISSED', cause: 'blocked', blocking: [] },
      },
    });
    expect(rec(w, T('2026-06-01T06:01:00Z'), false)).toBeUndefined();
    expect(rec(w, T('2026-06-01T06:01:00Z'), true)).toEqual([
      'SLA_AT_RISK:evaluation',
      'SLA_BREACHED:evaluation',
      'WINDOW_MISSED',
    ]);
  });
});
