import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoUtc, localDate } from './local-time.js';
import {
  compileSchedule,
  countOpensBetween,
  mustCompileSchedule,
  nextOpen,
  nextWindows,
  opensBetween,
  previousOpen,
  type ScheduleSpec,
  windowsBetween,
  windowTimes,
} from './schedule.js';

const T = (s: string) => Date.parse(s);
const H = 3_600_000;
const sched = (p: Partial<ScheduleSpec>) =>
  mustCompileSchedule({ name: 'daily', timezone: 'UTC', catchup: 'latest', ...p } as ScheduleSpec);
const cron = (c: string, timezone: string, extra: Partial<ScheduleSpec> = {}) => sched({ cron: c, timezone, ...extra });
const iso = (xs: number[]) => xs.map(isoUtc);
/** Window openings whose local date (in tz) is `date`. */
const onLocalDay = (c: string, tz: string, date: string) =>
  iso(opensBetween(cron(c, tz), T(`${date}T00:00:00Z`) - 2 * 86_400_000, T(`${date}T00:00:00Z`) + 2 * 86_400_000))
    .map((s) => ({ s, d: localDate(T(s), tz) }))
    .filter((x) => x.d === date)
    .map((x) => x.s);

describe('cron windows in a timezone across DST (croner)', () => {
  it('Europe/Berlin 2026-03-29 (02:00 → 03:00): `30 2 * * *` opens once, when the clock jumps (03:00 CEST)', () => {
    expect(onLocalDay('30 2 * * *', 'Europe/Berlin', '2026-03-29')).toEqual(['2026-03-29T01:00:00Z']);
    expect(onLocalDay('30 2 * * *', 'Europe/Berlin', '2026-03-28')).toEqual(['2026-03-28T01:30:00Z']);
    expect(onLocalDay('30 2 * * *', 'Europe/Berlin', '2026-03-30')).toEqual(['2026-03-30T00:30:00Z']);
  });

  it('Europe/Berlin 2026-10-25 (03:00 → 02:00): `30 2 * * *` opens once, at the first 02:30 (CEST)', () => {
    expect(onLocalDay('30 2 * * *', 'Europe/Berlin', '2026-10-25')).toEqual(['2026-10-25T00:30:00Z']);
    // Asked from inside the repeated hour (after the first 02:30), the next window is the next day's, not the repeat.
    expect(isoUtc(nextOpen(cron('30 2 * * *', 'Europe/Berlin'), T('2026-10-25T00:45:00Z')) as number)).toBe(
      '2026-10-26T01:30:00Z',
    );
  });

  it('America/New_York 2026-03-08 and 2026-11-01: fixed-time crons open once', () => {
    expect(onLocalDay('30 2 * * *', 'America/New_York', '2026-03-08')).toEqual(['2026-03-08T07:00:00Z']);
    expect(onLocalDay('30 2 * * *', 'America/New_York', '2026-11-01')).toEqual(['2026-11-01T07:30:00Z']);
    // 01:30 occurs twice on 2026-11-01 (EDT, then EST): the first one only.
    expect(onLocalDay('30 1 * * *', 'America/New_York', '2026-11-01')).toEqual(['2026-11-01T05:30:00Z']);
  });

  it.each([
    ['Europe/Berlin', '2026-03-29', 23],
    ['Europe/Berlin', '2026-10-25', 25],
    ['America/New_York', '2026-03-08', 23],
    ['America/New_York', '2026-11-01', 25],
    ['Europe/Berlin', '2026-06-01', 24],
  ])('`0 * * * *` in %s on %s: one window per real hour (%i), each instant once, an hour apart', (tz, date, n) => {
    const opens = onLocalDay('0 * * * *', tz, date).map(T);
    expect(opens).toHaveLength(n);
    expect(new Set(opens).size).toBe(n);
    for (let i = 1; i < opens.length; i++) expect(opens[i] - opens[i - 1]).toBe(H);
  });

  it('in the fall-back hour the two 02:00 windows are distinct instants (CEST then CET)', () => {
    const s = cron('0 * * * *', 'Europe/Berlin');
    expect(iso(opensBetween(s, T('2026-10-24T23:00:00Z'), T('2026-10-25T03:00:00Z')))).toEqual([
      '2026-10-24T23:00:00Z', // 01:00 CEST
      '2026-10-25T00:00:00Z', // 02:00 CEST
      '2026-10-25T01:00:00Z', // 02:00 CET
      '2026-10-25T02:00:00Z', // 03:00 CET
    ]);
  });

  it('nextOpen and previousOpen agree around DST (property)', () => {
    const crons = ['30 2 * * *', '0 * * * *', '*/15 1-3 * * *', '0 3 * * *'];
    const zones = ['Europe/Berlin', 'America/New_York'];
    const around = [
      T('2026-03-08T00:00:00Z'),
      T('2026-03-29T00:00:00Z'),
      T('2026-10-25T00:00:00Z'),
      T('2026-11-01T00:00:00Z'),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...crons),
        fc.constantFrom(...zones),
        fc.constantFrom(...around),
        fc.integer({ min: -12 * H, max: 36 * H }),
        (c, tz, base, off) => {
          const s = cron(c, tz);
          const t = base + off;
          const n = nextOpen(s, t) as number;
          expect(n).toBeGreaterThan(t);
          expect(previousOpen(s, n)).toBe(n);
          const p = previousOpen(s, n - 1) as number;
          expect(p).toBeLessThanOrEqual(t);
          expect(nextOpen(s, p)).toBe(n);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('6 fields: seconds first', () => {
    const s = cron('*/2 * * * * *', 'UTC');
    expect(iso(opensBetween(s, T('2026-01-01T00:00:00.500Z'), T('2026-01-01T00:00:07Z')))).toEqual([
      '2026-01-01T00:00:02Z',
      '2026-01-01T00:00:04Z',
      '2026-01-01T00:00:06Z',
    ]);
  });

  it('opensBetween is [from, to): an opening exactly at `from` counts, one exactly at `to` does not', () => {
    const s = cron('0 * * * *', 'UTC');
    expect(iso(opensBetween(s, T('2026-01-01T05:00:00Z'), T('2026-01-01T07:00:00Z')))).toEqual([
      '2026-01-01T05:00:00Z',
      '2026-01-01T06:00:00Z',
    ]);
    expect(isoUtc(nextOpen(s, T('2026-01-01T05:00:00Z')) as number)).toBe('2026-01-01T06:00:00Z');
    expect(countOpensBetween(s, T('2026-01-01T05:00:00Z'), T('2026-01-01T07:00:00Z'))).toBe(2);
    expect(opensBetween(s, T('2026-01-01T05:00:00Z'), T('2026-01-02T05:00:00Z'), 3)).toHaveLength(3);
  });
});

describe('every: a fixed interval from an anchor', () => {
  it('defaults to midnight UTC', () => {
    const s = sched({ everyMs: H });
    expect(isoUtc(nextOpen(s, T('2026-03-29T01:59:59Z')) as number)).toBe('2026-03-29T02:00:00Z');
    expect(isoUtc(nextOpen(s, T('2026-03-29T02:00:00Z')) as number)).toBe('2026-03-29T03:00:00Z');
    expect(isoUtc(previousOpen(s, T('2026-03-29T02:00:00Z')) as number)).toBe('2026-03-29T02:00:00Z');
  });

  it('counts from its anchor, and ignores DST (real elapsed time)', () => {
    const s = sched({ everyMs: 90 * 60_000, anchorMs: T('2026-01-01T00:10:00Z'), timezone: 'Europe/Berlin' });
    expect(iso(opensBetween(s, T('2026-01-01T00:00:00Z'), T('2026-01-01T04:00:00Z')))).toEqual([
      '2026-01-01T00:10:00Z',
      '2026-01-01T01:40:00Z',
      '2026-01-01T03:10:00Z',
    ]);
    const h = sched({ everyMs: H, timezone: 'Europe/Berlin' });
    const day = opensBetween(h, T('2026-10-24T22:00:00Z'), T('2026-10-25T23:00:00Z'));
    expect(day).toHaveLength(25);
  });

  it('counts many windows arithmetically', () => {
    const s = sched({ everyMs: 1000 });
    expect(countOpensBetween(s, T('2026-01-01T00:00:00Z'), T('2026-01-01T08:00:00Z'))).toBe(8 * 3600);
    expect(countOpensBetween(s, T('2026-01-01T00:00:00.500Z'), T('2026-01-01T00:00:03Z'))).toBe(2);
    expect(countOpensBetween(s, 5, 5)).toBe(0);
  });
});

describe('after and deadline', () => {
  it('HH:MM after and deadline on the window day (winter and summer offsets)', () => {
    const s = cron('0 5 * * *', 'Europe/Berlin', {
      after: { kind: 'time', hour: 5, minute: 30 },
      deadline: { kind: 'time', hour: 9, minute: 0 },
    });
    const [w] = windowsBetween(s, T('2026-01-15T00:00:00Z'), T('2026-01-16T00:00:00Z'));
    expect([isoUtc(w.openAt), isoUtc(w.afterAt), isoUtc(w.deadlineAt), w.date]).toEqual([
      '2026-01-15T04:00:00Z',
      '2026-01-15T04:30:00Z',
      '2026-01-15T08:00:00Z',
      '2026-01-15',
    ]);
    const [v] = windowsBetween(s, T('2026-07-15T00:00:00Z'), T('2026-07-16T00:00:00Z'));
    expect([isoUtc(v.openAt), isoUtc(v.afterAt), isoUtc(v.deadlineAt)]).toEqual([
      '2026-07-15T03:00:00Z',
      '2026-07-15T03:30:00Z',
      '2026-07-15T07:00:00Z',
    ]);
  });

  it('a deadline HH:MM not after the open rolls to the next day; one equal to the open too', () => {
    const s = cron('0 22 * * *', 'America/New_York', { deadline: { kind: 'time', hour: 6, minute: 0 } });
    const w = windowTimes(s, nextOpen(s, T('2026-01-10T00:00:00Z')) as number);
    expect([isoUtc(w.openAt), isoUtc(w.deadlineAt), w.date]).toEqual([
      '2026-01-10T03:00:00Z', // 22:00 EST on 01-09
      '2026-01-10T11:00:00Z', // 06:00 EST on 01-10
      '2026-01-09',
    ]);
    const e = cron('0 5 * * *', 'UTC', { deadline: { kind: 'time', hour: 5, minute: 0 } });
    const x = windowTimes(e, T('2026-01-10T05:00:00Z'));
    expect(isoUtc(x.deadlineAt)).toBe('2026-01-11T05:00:00Z');
  });

  it('an after HH:MM before the open rolls to the next day; equal to the open is the open', () => {
    const s = cron('0 23 * * *', 'UTC', {
      after: { kind: 'time', hour: 1, minute: 0 },
      deadline: { kind: 'time', hour: 6, minute: 0 },
    });
    const w = windowTimes(s, T('2026-01-10T23:00:00Z'));
    expect([isoUtc(w.afterAt), isoUtc(w.deadlineAt)]).toEqual(['2026-01-11T01:00:00Z', '2026-01-11T06:00:00Z']);
    const e = cron('0 5 * * *', 'UTC', { after: { kind: 'time', hour: 5, minute: 0 } });
    expect(windowTimes(e, T('2026-01-10T05:00:00Z')).afterAt).toBe(T('2026-01-10T05:00:00Z'));
  });

  it('durations count from the open; without a deadline the window closes when the next one opens', () => {
    const s = cron('0 5 * * *', 'Europe/Berlin', {
      after: { kind: 'offset', ms: 30 * 60_000 },
      deadline: { kind: 'offset', ms: 4 * H },
    });
    const w = windowTimes(s, T('2026-03-28T04:00:00Z'));
    expect([isoUtc(w.afterAt), isoUtc(w.deadlineAt)]).toEqual(['2026-03-28T04:30:00Z', '2026-03-28T08:00:00Z']);
    const d = cron('0 5 * * *', 'Europe/Berlin');
    // The next open is 23 real hours later: 2026-03-29 is a 23-hour day in Berlin.
    expect(isoUtc(windowTimes(d, T('2026-03-28T04:00:00Z')).deadlineAt)).toBe('2026-03-29T03:00:00Z');
    const e = sched({ everyMs: H });
    expect(isoUtc(windowTimes(e, T('2026-03-28T04:00:00Z')).deadlineAt)).toBe('2026-03-28T05:00:00Z');
  });

  it('HH:MM deadlines and afters on DST days: a missing time is the end of the gap, a repeated one the first', () => {
    const spring = cron('0 1 * * *', 'Europe/Berlin', { deadline: { kind: 'time', hour: 2, minute: 30 } });
    const w = windowTimes(spring, T('2026-03-29T00:00:00Z'));
    expect(isoUtc(w.deadlineAt)).toBe('2026-03-29T01:00:00Z'); // 03:00 CEST
    const fall = cron('0 1 * * *', 'Europe/Berlin', { deadline: { kind: 'time', hour: 2, minute: 30 } });
    expect(isoUtc(windowTimes(fall, T('2026-10-24T23:00:00Z')).deadlineAt)).toBe('2026-10-25T00:30:00Z');
    const ny = cron('0 0 * * *', 'America/New_York', {
      after: { kind: 'time', hour: 2, minute: 30 },
      deadline: { kind: 'time', hour: 3, minute: 30 },
    });
    const n = windowTimes(ny, nextOpen(ny, T('2026-03-08T00:00:00Z')) as number);
    expect([isoUtc(n.openAt), isoUtc(n.afterAt), isoUtc(n.deadlineAt)]).toEqual([
      '2026-03-08T05:00:00Z',
      '2026-03-08T07:00:00Z', // 03:00 EDT: 02:30 does not exist
      '2026-03-08T07:30:00Z',
    ]);
  });

  it('the window date is the local date of the open', () => {
    const s = cron('30 0 * * *', 'Europe/Berlin');
    const w = windowTimes(s, nextOpen(s, T('2026-12-24T12:00:00Z')) as number);
    expect([isoUtc(w.openAt), w.date]).toEqual(['2026-12-24T23:30:00Z', '2026-12-25']);
  });

  it('nextWindows lists the next n', () => {
    const s = cron('0 5 * * 1-5', 'UTC');
    expect(nextWindows(s, T('2026-12-24T06:00:00Z'), 3).map((w) => w.date)).toEqual([
      '2026-12-25',
      '2026-12-28',
      '2026-12-29',
    ]);
  });
});

describe('compileSchedule refuses what cannot work', () => {
  const bad = (p: Partial<ScheduleSpec>) => {
    const r = compileSchedule({ name: 'x', timezone: 'UTC', catchup: 'latest', ...p } as ScheduleSpec);
    return r.ok ? 'ok' : r.error;
  };
  it.each([
    [{ cron: '0 5 * * *', timezone: 'Mars/Olympus' }, /unknown timezone/],
    [{}, /exactly one of cron or every/],
    [{ cron: '0 5 * * *', everyMs: H }, /exactly one of cron or every/],
    [{ cron: '0 5 * *' }, /5 fields/],
    [{ cron: '0 0 5 * * * 2027' }, /5 fields/],
    [{ cron: '@daily' }, /5 fields/],
    [{ cron: '61 5 * * *' }, /invalid cron/],
    [{ cron: 'a b c d e' }, /invalid cron/],
    [{ cron: '0 0 31 2 *' }, /never fires/],
    [{ everyMs: 1500 }, /whole number of seconds/],
    [{ everyMs: 0 }, /whole number of seconds/],
    [{ everyMs: H, anchorMs: 5 }, /anchor/],
    [{ cron: '0 5 * * *', after: { kind: 'time', hour: 24, minute: 0 } }, /after must be HH:MM/],
    [{ cron: '0 5 * * *', deadline: { kind: 'offset', ms: 0 } }, /deadline must be after/],
    [{ cron: '0 5 * * *', deadline: { kind: 'offset', ms: -1 } }, /non-negative/],
    [{ cron: '0 * * * *', after: { kind: 'offset', ms: 2 * H } }, /not before the deadline/],
    [
      {
        cron: '0 5 * * *',
        after: { kind: 'time', hour: 9, minute: 30 },
        deadline: { kind: 'time', hour: 9, minute: 0 },
      },
      /not before the deadline/,
    ],
  ] as Array<[Partial<ScheduleSpec>, RegExp]>)('%j', (p, re) => {
    expect(bad(p)).toMatch(re);
  });
  it('accepts good ones', () => {
    expect(bad({ cron: '0 5 * * *' })).toBe('ok');
    expect(bad({ cron: '*/2 * * * * *' })).toBe('ok');
    expect(bad({ everyMs: H, anchorMs: T('2026-01-01T00:10:00Z') })).toBe('ok');
    expect(() => mustCompileSchedule({ name: 'x', timezone: 'Nope/Nope', catchup: 'skip', cron: '* * * * *' })).toThrow(
      /schedule 'x': unknown timezone/,
    );
  });
});
