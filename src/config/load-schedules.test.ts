// loadProject and the watcher's config: pipeline `schedules`/`exclusions`/`watch`/`retry`/`mode`, calendar files and
// interlock.yaml `timezone`/`calendarDirs`/`watcher`, from real YAML files in temp dirs.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFiles } from '../../test/support/files.js';
import { useTempDirs } from '../../test/support/test-cleanups.js';
import { formatDiagnostic } from '../core/errors.js';
import { type LoadedProject, loadProject } from './load.js';

const tempDir = useTempDirs('interlock-schedules-');
const lines = (...ls: string[]) => `${ls.join('\n')}\n`;
const errors = (p: LoadedProject) => p.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
const warnings = (p: LoadedProject) => p.diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);

const ARCHETYPE = lines('name: gate', 'requiredTraits:', '  - type: t');

/** A project with archetype `gate` and pipeline files `pipelines/<name>.yaml` (body after name/archetype/traits). */
function project(pipelines: Record<string, string>, extra: Record<string, string> = {}): LoadedProject {
  const root = tempDir();
  const files: Record<string, string> = {
    'interlock.yaml': 'provider: memory\n',
    'archetypes/gate.yaml': ARCHETYPE,
    'evaluators/ok.sh': '#!/bin/sh\necho \'{"status":"PASS"}\'\n',
    ...extra,
  };
  for (const [name, body] of Object.entries(pipelines)) {
    files[`pipelines/${name}.yaml`] =
      lines(`name: ${name}`, 'archetype: gate', 'traits:', '  t: { evaluator: ok.sh }') + body;
  }
  writeFiles(root, files);
  return loadProject(path.join(root, 'interlock.yaml'));
}

const invalidNames = (p: LoadedProject) => [...p.invalid.keys()].sort();

describe('pipeline schedules', () => {
  it('a valid schedules block becomes the watcher spec; a pipeline without one stays on demand', () => {
    const p = project({
      daily: lines(
        'schedules:',
        '  - name: daily',
        '    cron: "0 5 * * *"',
        '    timezone: Europe/Berlin',
        '    after: "05:30"',
        '    deadline: 4h',
        '    catchup: all',
        '  - name: hourly',
        '    every: 1h',
        'exclusions:',
        '  days: [saturday, sunday]',
        '  dates: ["2026-12-25"]',
        'watch: { reevaluate: 2m }',
        'retry: { maxAttempts: 3, backoff: 10s, multiplier: 3, maxBackoff: 5m, on: [TRANSIENT] }',
        'mode: shadow',
      ),
      manual: '',
    });
    expect(errors(p)).toEqual([]);
    expect([...p.pipelines.keys()].sort()).toEqual(['daily', 'manual']);
    expect([...p.watch.keys()]).toEqual(['daily']);
    expect(p.watch.get('daily')).toEqual({
      schedules: [
        {
          name: 'daily',
          cron: '0 5 * * *',
          timezone: 'Europe/Berlin',
          after: { kind: 'time', hour: 5, minute: 30 },
          deadline: { kind: 'offset', ms: 4 * 3_600_000 },
          catchup: 'all',
        },
        { name: 'hourly', everyMs: 3_600_000, timezone: 'UTC', catchup: 'latest' },
      ],
      exclusions: { days: ['saturday', 'sunday'], dates: ['2026-12-25'] },
      reevaluateMs: 120_000,
      retry: { maxAttempts: 3, backoffMs: 10_000, multiplier: 3, maxBackoffMs: 300_000, on: ['TRANSIENT'] },
      mode: 'shadow',
    });
  });

  it("interlock.yaml's timezone is the default of every schedule without its own; calendarDirs resolve to absolute", () => {
    const p = project(
      { p: lines('schedules:', '  - cron: "0 6 * * 1-5"') },
      { 'interlock.yaml': lines('provider: memory', 'timezone: America/New_York', 'watcher: { sweep: 15s }') },
    );
    expect(errors(p)).toEqual([]);
    expect(p.watch.get('p')?.schedules).toEqual([
      { name: 'default', cron: '0 6 * * 1-5', timezone: 'America/New_York', catchup: 'latest' },
    ]);
    expect(p.watch.get('p')?.mode).toBe('live');
    expect(p.watcher).toEqual({
      timezone: 'America/New_York',
      calendarDirs: [path.join(p.root, 'calendars')],
      watcher: { enabled: true, sweepMs: 15_000 },
    });
    expect(p.config.calendarDirs).toEqual([path.join(p.root, 'calendars')]);
  });

  it('without a timezone anywhere, schedules are in UTC', () => {
    const p = project({ p: lines('schedules:', '  - cron: "0 6 * * *"') });
    expect(p.watch.get('p')?.schedules[0]?.timezone).toBe('UTC');
    expect(p.watcher.timezone).toBe('UTC');
  });

  it('structural errors point at file:line:col, all of them, and the pipeline is INVALID', () => {
    const p = project({
      p: lines(
        'schedules:',
        '  - name: daily',
        '    cron: "0 5 * * *"',
        '    timezone: Mars/Olympus',
        '    after: "25:00"',
        '    catchup: sometimes',
        '  - every: 0s',
        'watch: { reevaluate: soon }',
        'retry: { on: [PERMANENT] }',
        'mode: dry-run',
      ),
      ok: lines('schedules:', '  - cron: "0 5 * * *"'),
    });
    expect(errors(p)).toEqual([
      "pipelines/p.yaml:8:15 schedules.0.timezone: unknown timezone 'Mars/Olympus'; expected an IANA timezone such as Europe/Berlin or UTC",
      'pipelines/p.yaml:9:12 schedules.0.after: expected HH:MM (local time, 00:00–23:59) or a duration such as 30m',
      'pipelines/p.yaml:10:14 schedules.0.catchup: expected one of: skip, latest, all',
      'pipelines/p.yaml:11:12 schedules.1.every: expected a duration greater than zero',
      'pipelines/p.yaml:12:22 watch.reevaluate: expected a duration such as 30s, 15m, 1h or 1h30m (or a number of seconds)',
      "pipelines/p.yaml:13:15 retry.on.0: 'PERMANENT': only TRANSIENT and TIMEOUT failures can be retried (PERMANENT never helps; UNKNOWN may already have started the job)",
      'pipelines/p.yaml:14:7 mode: expected one of: live, shadow',
    ]);
    expect(invalidNames(p)).toEqual(['p']);
    expect(p.pipelines.has('p')).toBe(false);
    expect(p.watch.has('p')).toBe(false);
    expect(p.invalid.get('p')?.problems).toHaveLength(7);
    expect([...p.watch.keys()]).toEqual(['ok']);
  });

  it('a cron croner rejects, or one that never fires, is a semantic error at the cron value', () => {
    const p = project({
      p: lines('schedules:', '  - name: a', '    cron: "0 5 * *"', '  - name: b', '    cron: "0 99 * * *"'),
      q: lines('schedules:', '  - cron: "0 0 30 2 *"'),
    });
    expect(errors(p)).toEqual([
      "pipelines/p.yaml:7:11 schedules.0.cron: cron '0 5 * *' must have 5 fields (or 6 with seconds first)",
      expect.stringMatching(/^pipelines\/p\.yaml:9:11 schedules\.1\.cron: invalid cron '0 99 \* \* \*': /),
      "pipelines/q.yaml:6:11 schedules.0.cron: cron '0 0 30 2 *' never fires",
    ]);
    expect(invalidNames(p)).toEqual(['p', 'q']);
    expect(p.watch.size).toBe(0);
  });

  it('an `after` that is not before the deadline is an error of the schedule', () => {
    const p = project({ p: lines('schedules:', '  - cron: "0 5 * * *"', '    after: 2h', '    deadline: 1h') });
    expect(errors(p)).toEqual([
      'pipelines/p.yaml:7:12 schedules.0.after: after (2026-01-01T07:00:00Z) is not before the deadline (2026-01-01T06:00:00Z) for the window opening 2026-01-01T05:00:00Z',
    ]);
    expect(invalidNames(p)).toEqual(['p']);
  });

  it('exclusions, watch, retry or mode without schedules fail closed: the pipeline is INVALID', () => {
    const p = project({
      p: lines(
        'exclusions: { days: [sunday] }',
        'watch: { reevaluate: 1m }',
        'retry: { maxAttempts: 2 }',
        'mode: shadow',
      ),
    });
    expect(errors(p)).toEqual([
      'pipelines/p.yaml:5:1 exclusions: exclusions has no effect: this pipeline has no schedules (add schedules, or remove exclusions)',
      'pipelines/p.yaml:6:1 watch: watch has no effect: this pipeline has no schedules (add schedules, or remove watch)',
      'pipelines/p.yaml:7:1 retry: retry has no effect: this pipeline has no schedules (add schedules, or remove retry)',
      'pipelines/p.yaml:8:1 mode: mode has no effect: this pipeline has no schedules (add schedules, or remove mode)',
    ]);
    expect(invalidNames(p)).toEqual(['p']);
  });

  it('an empty schedules list is a warning and the pipeline stays on demand', () => {
    const p = project({ p: 'schedules: []\n' });
    expect(errors(p)).toEqual([]);
    expect(warnings(p)).toEqual([
      'pipelines/p.yaml:5:1 warning: schedules: schedules is empty: this pipeline runs on demand only (add a schedule, or remove the key)',
    ]);
    expect(p.pipelines.has('p')).toBe(true);
    expect(p.watch.has('p')).toBe(false);
  });

  it('schedule errors are reported alongside the other rules of the pipeline (unknown archetype)', () => {
    const root = tempDir();
    writeFiles(root, {
      'interlock.yaml': 'provider: memory\n',
      'archetypes/gate.yaml': ARCHETYPE,
      'pipelines/p.yaml': lines('name: p', 'archetype: nope', 'mode: shadow'),
    });
    const p = loadProject(path.join(root, 'interlock.yaml'));
    expect(errors(p)).toEqual([
      'pipelines/p.yaml:3:1 mode: mode has no effect: this pipeline has no schedules (add schedules, or remove mode)',
      "pipelines/p.yaml:2:12 archetype: unknown archetype 'nope' (known: gate)",
    ]);
  });

  it('a pipeline defined twice is not watched', () => {
    const root = tempDir();
    const body = lines(
      'name: p',
      'archetype: gate',
      'traits:',
      '  t: { evaluator: ok.sh }',
      'schedules:',
      '  - every: 1h',
    );
    writeFiles(root, {
      'interlock.yaml': 'provider: memory\n',
      'archetypes/gate.yaml': ARCHETYPE,
      'evaluators/ok.sh': '#!/bin/sh\n',
      'pipelines/a.yaml': body,
      'pipelines/b.yaml': body,
    });
    const p = loadProject(path.join(root, 'interlock.yaml'));
    expect(invalidNames(p)).toEqual(['p']);
    expect(p.watch.size).toBe(0);
  });
});

describe('calendars', () => {
  const HOLIDAYS = lines('name: holidays', 'days: [saturday]', 'dates: ["2026-12-25", "2026-12-26"]');
  const usesHolidays = lines('schedules:', '  - cron: "0 5 * * *"', 'exclusions:', '  calendar: holidays');

  it('a calendar found in the default ./calendars is resolved into the exclusions', () => {
    const p = project({ p: usesHolidays }, { 'calendars/holidays.yaml': HOLIDAYS });
    expect(errors(p)).toEqual([]);
    expect(p.watch.get('p')?.exclusions).toEqual({
      calendars: [{ name: 'holidays', days: ['saturday'], dates: ['2026-12-25', '2026-12-26'] }],
    });
  });

  it('calendars in configured calendarDirs, several by list', () => {
    const p = project(
      { p: lines('schedules:', '  - every: 1d', 'exclusions:', '  days: [sunday]', '  calendar: [holidays, ops]') },
      {
        'interlock.yaml': lines('provider: memory', 'calendarDirs: [./cal/a, cal/b]'),
        'cal/a/holidays.yaml': HOLIDAYS,
        'cal/b/ops.yml': lines('name: ops', 'dates: ["2026-03-01"]'),
      },
    );
    expect(errors(p)).toEqual([]);
    expect(p.watcher.calendarDirs).toEqual([path.join(p.root, 'cal/a'), path.join(p.root, 'cal/b')]);
    expect(p.watch.get('p')?.exclusions?.calendars?.map((c) => c.name)).toEqual(['holidays', 'ops']);
    expect(p.watch.get('p')?.exclusions?.days).toEqual(['sunday']);
  });

  it('an unknown calendar is an error at the reference; the pipeline is INVALID', () => {
    const p = project({
      p: usesHolidays,
      q: lines('schedules:', '  - every: 1d', 'exclusions:', '  calendar: [holidays, nope]'),
    });
    expect(errors(p)).toEqual([
      "pipelines/p.yaml:8:13 exclusions.calendar: unknown calendar 'holidays' (not found in calendarDirs)",
      "pipelines/q.yaml:8:14 exclusions.calendar.0: unknown calendar 'holidays' (not found in calendarDirs)",
      "pipelines/q.yaml:8:24 exclusions.calendar.1: unknown calendar 'nope' (not found in calendarDirs)",
    ]);
    expect(invalidNames(p)).toEqual(['p', 'q']);
    expect(p.watch.size).toBe(0);
  });

  it('the default calendar dir may be missing; a configured one that is missing is a warning', () => {
    const quiet = project({ p: lines('schedules:', '  - every: 1d') });
    expect(quiet.diagnostics).toEqual([]);
    const p = project(
      { p: lines('schedules:', '  - every: 1d') },
      { 'interlock.yaml': lines('provider: memory', 'calendarDirs: [./holidays]') },
    );
    expect(p.diagnostics.map(formatDiagnostic)).toEqual([
      "interlock.yaml:2:16 warning: calendarDirs.0: calendar directory './holidays' does not exist",
    ]);
    expect(p.watch.has('p')).toBe(true);
  });

  it('an invalid calendar file is reported at file:line:col, and pipelines using it are INVALID', () => {
    const p = project(
      { p: usesHolidays, other: lines('schedules:', '  - every: 1d') },
      {
        'calendars/holidays.yaml': lines('name: holidays', 'days: [caturday]', 'dates: ["2026-02-30"]', 'colour: red'),
      },
    );
    expect(errors(p)).toEqual([
      'calendars/holidays.yaml:2:8 days.0: expected one of: sunday, monday, tuesday, wednesday, thursday, friday, saturday',
      "calendars/holidays.yaml:3:9 dates.0: '2026-02-30' is not a calendar date; expected a date YYYY-MM-DD",
      "calendars/holidays.yaml:4:1 colour: unknown key 'colour'",
      "pipelines/p.yaml:8:13 exclusions.calendar: calendar 'holidays' has errors (calendars/holidays.yaml); run 'interlock validate'",
    ]);
    expect(invalidNames(p)).toEqual(['p']);
    expect([...p.watch.keys()]).toEqual(['other']);
    expect(p.invalidFiles).toContain('calendars/holidays.yaml');
  });

  it('two calendar files with one name: neither is used', () => {
    const p = project(
      { p: usesHolidays },
      { 'calendars/a.yaml': HOLIDAYS, 'calendars/b.yaml': lines('name: holidays', 'days: [sunday]') },
    );
    expect(errors(p)).toEqual([
      "calendars/b.yaml:1:7 name: duplicate calendar name 'holidays' (also defined in calendars/a.yaml:1:7)",
      "pipelines/p.yaml:8:13 exclusions.calendar: calendar 'holidays' has errors (calendars/b.yaml); run 'interlock validate'",
    ]);
    expect(invalidNames(p)).toEqual(['p']);
  });
});

describe('interlock.yaml watcher keys', () => {
  it('a bad timezone, calendarDirs or watcher block is an error of interlock.yaml at file:line:col', () => {
    const p = project(
      {},
      {
        'interlock.yaml': lines(
          'provider: memory',
          'timezone: Europe/Berlinn',
          'calendarDirs: ""',
          'watcher: { enabled: yes please, sweep: 0s, extra: 1 }',
        ),
      },
    );
    expect(errors(p)).toEqual([
      "interlock.yaml:2:11 timezone: unknown timezone 'Europe/Berlinn'; expected an IANA timezone such as Europe/Berlin or UTC",
      'interlock.yaml:3:15 calendarDirs: expected a list, got a string ("")',
      'interlock.yaml:4:21 watcher.enabled: expected a boolean (true or false), got a string ("yes please")',
      'interlock.yaml:4:40 watcher.sweep: expected a duration greater than zero',
      "interlock.yaml:4:44 watcher.extra: unknown key 'extra'",
    ]);
  });
});
