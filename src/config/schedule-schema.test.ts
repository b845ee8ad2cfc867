import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import {
  type CalendarFile,
  calendarSchema,
  normalisePipelineWatch,
  normaliseProjectWatcher,
  type PipelineScheduleBlocks,
  parseDurationMs,
  parseTimeSpec,
  pipelineScheduleBlocksSchema,
  projectWatcherBlocksSchema,
} from './schedule-schema.js';
import { checkSchema } from './schema.js';

const ISSUE_EXAMPLE = `
schedules:
  - name: daily
    cron: "0 5 * * *"
    timezone: Europe/Berlin
    after: "05:30"
    deadline: "09:00"
    catchup: latest
  - name: hourly
    every: 1h
exclusions:
  days: [saturday, sunday]
  dates: ["2026-12-25"]
  calendar: holidays
watch:
  reevaluate: 60s
retry:
  maxAttempts: 3
  backoff: 30s
  multiplier: 2
  maxBackoff: 1h
  on: [TRANSIENT, TIMEOUT]
mode: live
`;

const issues = (data: unknown) => {
  const r = checkSchema(pipelineScheduleBlocksSchema, data);
  return r.ok ? [] : r.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const holidays: CalendarFile = { name: 'holidays', dates: ['2026-12-31'] };
const calendars = new Map([['holidays', holidays]]);

describe('durations (core/duration.ts forms) and times', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1d2h3m4s', 93_784_000],
    [90, 90_000],
    [0, 0],
  ] as const)('%s → %i ms', (v, ms) => {
    expect(parseDurationMs(v)).toBe(ms);
  });
  // Only core/duration.ts's forms: no ms, no decimals, units largest first and once each, no surrounding spaces.
  it.each(['30', '30x', '-5m', 'h', '', '1 h', ' ', 'PT1H', '500ms', '1.5h', '30m1h', '1m1m', ' 30s'])(
    '%j is not a duration',
    (v) => {
      expect(parseDurationMs(v)).toBeUndefined();
    },
  );
  it('HH:MM is a local time, anything else a duration', () => {
    expect(parseTimeSpec('05:30')).toEqual({ kind: 'time', hour: 5, minute: 30 });
    expect(parseTimeSpec('23:59')).toEqual({ kind: 'time', hour: 23, minute: 59 });
    expect(parseTimeSpec('30m')).toEqual({ kind: 'offset', ms: 1_800_000 });
    expect(parseTimeSpec('24:00')).toBeUndefined();
    expect(parseTimeSpec('5:30')).toBeUndefined();
    expect(parseDurationMs(-1)).toBeUndefined();
    expect(parseDurationMs(Number.NaN)).toBeUndefined();
  });
});

describe('pipeline schedule blocks', () => {
  it('accept the example of the issue, with defaults filled in', () => {
    const r = checkSchema(pipelineScheduleBlocksSchema, parse(ISSUE_EXAMPLE));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.schedules?.[1]).toEqual({ name: 'hourly', every: '1h', catchup: 'latest' });
    expect(r.value.mode).toBe('live');
    expect(checkSchema(pipelineScheduleBlocksSchema, {}).ok).toBe(true);
  });

  it.each([
    [
      { schedules: [{ cron: '0 5 * * *', every: '1h' }] },
      'schedules.0.every: a schedule needs exactly one of cron or every',
    ],
    [{ schedules: [{ timezone: 'UTC' }] }, 'schedules.0: a schedule needs exactly one of cron or every'],
    [{ schedules: [{ every: '1h', anchor: 'yesterday' }] }, 'schedules.0.anchor: expected an ISO 8601 instant'],
    [
      { schedules: [{ every: '1h', anchor: '2026-01-01T00:00:00' }] },
      'schedules.0.anchor: expected an ISO 8601 instant',
    ],
    [
      { schedules: [{ cron: '0 5 * * *', anchor: '2026-01-01T00:00:00Z' }] },
      'schedules.0.anchor: anchor only applies to every',
    ],
    [{ schedules: [{ every: '0s' }] }, 'schedules.0.every: expected a duration greater than zero'],
    [{ schedules: [{ every: 'hourly' }] }, 'schedules.0.every: expected a duration such as 30s'],
    [
      { schedules: [{ cron: '0 5 * * *', timezone: 'Europe/Berlinn' }] },
      "schedules.0.timezone: unknown timezone 'Europe/Berlinn'",
    ],
    [{ schedules: [{ cron: '0 5 * * *', after: '25:00' }] }, 'schedules.0.after: expected HH:MM'],
    [
      { schedules: [{ cron: '0 5 * * *', catchup: 'none' }] },
      'schedules.0.catchup: expected one of: skip, latest, all',
    ],
    [
      { schedules: [{ cron: '0 5 * * *', deadlin: '09:00' }] },
      "schedules.0.deadlin: unknown key 'deadlin' (did you mean 'deadline'?)",
    ],
    [
      { schedules: [{ cron: '0 5 * * *' }, { name: 'b', every: '1h' }] },
      'schedules.0.name: name is required when a pipeline has more than one schedule',
    ],
    [
      {
        schedules: [
          { name: 'a', cron: '0 5 * * *' },
          { name: 'a', every: '1h' },
        ],
      },
      "schedules.1.name: duplicate schedule name 'a' (also schedules.0)",
    ],
    [{ schedules: [{ name: 'Daily', cron: '0 5 * * *' }] }, 'schedules.0.name: must match'],
    [{ exclusions: { days: ['sat'] } }, 'exclusions.days.0: expected one of: sunday, monday'],
    [{ exclusions: { dates: ['2026-02-30'] } }, "exclusions.dates.0: '2026-02-30' is not a calendar date"],
    [{ exclusions: { calendar: 'Holidays' } }, 'exclusions.calendar: '],
    [{ retry: { on: ['UNKNOWN'] } }, "retry.on.0: 'UNKNOWN': only TRANSIENT and TIMEOUT failures can be retried"],
    [{ retry: { on: ['PERMANENT'] } }, "retry.on.0: 'PERMANENT': only TRANSIENT and TIMEOUT"],
    [{ retry: { backoff: '10m', maxBackoff: '1m' } }, 'retry.maxBackoff: maxBackoff must not be shorter than backoff'],
    [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts: '],
    [{ retry: { multiplier: 0.5 } }, 'retry.multiplier: '],
    [{ watch: { reevaluate: '0s' } }, 'watch.reevaluate: expected a duration greater than zero'],
    [{ mode: 'dry-run' }, 'mode: expected one of: live, shadow'],
  ] as Array<[unknown, string]>)('%j → %s', (data, want) => {
    const got = issues(data);
    expect(
      got.some((g) => g.startsWith(want)),
      got.join('\n'),
    ).toBe(true);
  });

  it('collects every problem at once', () => {
    expect(issues({ schedules: [{ cron: '0 5 * * *', timezone: 'X/Y', after: 'soon' }], mode: 'x' })).toHaveLength(3);
  });
});

describe('normalising to engine specs', () => {
  const norm = (data: unknown, tz = 'Europe/Berlin') => {
    const r = checkSchema(pipelineScheduleBlocksSchema, data);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return normalisePipelineWatch(r.value as PipelineScheduleBlocks, { timezone: tz, calendars });
  };

  it('the issue example: ms durations, local times, the project timezone as default, calendars resolved', () => {
    const r = norm(parse(ISSUE_EXAMPLE), 'America/New_York');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toEqual({
      schedules: [
        {
          name: 'daily',
          cron: '0 5 * * *',
          timezone: 'Europe/Berlin',
          after: { kind: 'time', hour: 5, minute: 30 },
          deadline: { kind: 'time', hour: 9, minute: 0 },
          catchup: 'latest',
        },
        { name: 'hourly', everyMs: 3_600_000, timezone: 'America/New_York', catchup: 'latest' },
      ],
      exclusions: {
        days: ['saturday', 'sunday'],
        dates: ['2026-12-25'],
        calendars: [{ name: 'holidays', dates: ['2026-12-31'] }],
      },
      reevaluateMs: 60_000,
      retry: {
        maxAttempts: 3,
        backoffMs: 30_000,
        multiplier: 2,
        maxBackoffMs: 3_600_000,
        on: ['TRANSIENT', 'TIMEOUT'],
      },
      mode: 'live',
    });
  });

  it('defaults: one schedule is "default", catch-up latest, reevaluate 60s, one attempt', () => {
    const r = norm({ schedules: [{ cron: '*/2 * * * * *' }] }, 'UTC');
    expect(r.ok && r.value).toEqual({
      schedules: [{ name: 'default', cron: '*/2 * * * * *', timezone: 'UTC', catchup: 'latest' }],
      reevaluateMs: 60_000,
      retry: { maxAttempts: 1, backoffMs: 30_000, multiplier: 2, maxBackoffMs: 3_600_000, on: ['TRANSIENT'] },
      mode: 'live',
    });
    const a = norm({ schedules: [{ every: '90m', anchor: '2026-01-01T00:10:00+01:00' }] });
    expect(a.ok && a.value.schedules[0]).toMatchObject({
      everyMs: 5_400_000,
      anchorMs: Date.parse('2025-12-31T23:10:00Z'),
    });
  });

  it('what croner or the calendars reject becomes an issue at its path', () => {
    const r = norm({
      schedules: [
        { name: 'a', cron: '0 5 * *' },
        { name: 'b', cron: '0 0 31 2 *' },
        { name: 'c', cron: '0 * * * *', after: '2h' },
      ],
      exclusions: { calendar: ['holidays', 'bank-days'] },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      "schedules.0.cron: cron '0 5 * *' must have 5 fields (or 6 with seconds first)",
      "schedules.1.cron: cron '0 0 31 2 *' never fires",
      'schedules.2.after: after (2026-01-01T03:00:00Z) is not before the deadline (2026-01-01T02:00:00Z) for the window opening 2026-01-01T01:00:00Z',
      "exclusions.calendar.1: unknown calendar 'bank-days' (not found in calendarDirs)",
    ]);
  });
});

describe('interlock.yaml and calendar files', () => {
  it('project defaults: timezone UTC, calendarDirs ./calendars, watcher on with a 60s sweep', () => {
    const r = checkSchema(projectWatcherBlocksSchema, {});
    expect(r.ok && normaliseProjectWatcher(r.value)).toEqual({
      timezone: 'UTC',
      calendarDirs: ['./calendars'],
      watcher: { enabled: true, sweepMs: 60_000 },
    });
    const s = checkSchema(projectWatcherBlocksSchema, {
      timezone: 'Europe/Berlin',
      watcher: { enabled: false, sweep: '15s' },
    });
    expect(s.ok && normaliseProjectWatcher(s.value).watcher).toEqual({ enabled: false, sweepMs: 15_000 });
    const bad = checkSchema(projectWatcherBlocksSchema, {
      timezone: 'CEST',
      watcher: { sweep: 'often', enable: true },
    });
    expect(bad.ok ? [] : bad.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'timezone',
      'watcher.enable',
      'watcher.sweep',
    ]);
  });

  it('a calendar file: name, days and dates', () => {
    expect(checkSchema(calendarSchema, { name: 'holidays', days: ['saturday'], dates: ['2026-12-25'] }).ok).toBe(true);
    expect(checkSchema(calendarSchema, { days: ['saturday'] }).ok).toBe(false);
  });

  it('every block has a JSON Schema (for when it is wired into the generated ones)', () => {
    for (const s of [pipelineScheduleBlocksSchema, projectWatcherBlocksSchema, calendarSchema]) {
      const j = z.toJSONSchema(s, { io: 'input', target: 'draft-2020-12' }) as { type: string };
      expect(j.type).toBe('object');
    }
  });
});
