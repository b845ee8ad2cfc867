// End-to-end: the BUILT CLI's `interlock schedule` (windows across DST changes, exclusions, --json, on-demand and
// unknown pipelines, usage errors) and `interlock validate` reporting the schedule blocks' diagnostics.
import { describe, expect, it, type TestContext } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { writeFiles } from '../support/files.js';
import { cli } from '../support/run-cli.js';
import { tempDirFor } from '../support/test-cleanups.js';

const lines = (...ls: string[]) => `${ls.join('\n')}\n`;

/** A project: interlock.yaml (+ `config`), archetype `gate`, and the given pipeline files (name → extra lines). */
function project(ctx: TestContext, pipelines: Record<string, string>, extra: Record<string, string> = {}): string {
  const root = tempDirFor(ctx, 'interlock-e2e-schedule-');
  const files: Record<string, string> = {
    'interlock.yaml': 'provider: memory\n',
    'archetypes/gate.yaml': lines('name: gate', 'requiredTraits:', '  - type: t'),
    ...extra,
  };
  for (const [name, body] of Object.entries(pipelines)) {
    files[`pipelines/${name}.yaml`] = lines(`name: ${name}`, 'archetype: gate') + body;
  }
  writeFiles(root, files);
  return root;
}

const BERLIN = lines(
  'schedules:',
  '  - name: nightly',
  '    cron: "30 2 * * *"',
  '    timezone: Europe/Berlin',
  '    after: 30m',
  '    deadline: "09:00"',
);

interface Win {
  key: string;
  date: string;
  weekday: string;
  open: { utc: string; local: string };
  after: { utc: string; local: string };
  deadline: { utc: string; local: string };
  excluded: boolean;
  exclusion?: { rule: string; value: string; reason: string; calendar?: string };
}

describe.concurrent('interlock schedule', () => {
  it('Europe/Berlin 02:30 across spring-forward: the missing 02:30 opens once, at 03:00 CEST', async (ctx) => {
    const root = project(ctx, { nightly: BERLIN });
    const r = await cli(['--json', 'schedule', 'nightly', '--next', '4', '--from', '2026-03-27T12:00:00Z'], {
      cwd: root,
    });
    expect(r.code, show(r)).toBe(0);
    const [s] = json(r).schedules as Array<{ windows: Win[] }>;
    expect(s?.windows.map((w) => [w.open.local, w.open.utc])).toEqual([
      ['2026-03-28T02:30:00+01:00', '2026-03-28T01:30:00Z'],
      ['2026-03-29T03:00:00+02:00', '2026-03-29T01:00:00Z'],
      ['2026-03-30T02:30:00+02:00', '2026-03-30T00:30:00Z'],
      ['2026-03-31T02:30:00+02:00', '2026-03-31T00:30:00Z'],
    ]);
    // after = open + 30m; deadline 09:00 local on the window's day, whatever the offset.
    expect(s?.windows.map((w) => w.after.utc)).toEqual([
      '2026-03-28T02:00:00Z',
      '2026-03-29T01:30:00Z',
      '2026-03-30T01:00:00Z',
      '2026-03-31T01:00:00Z',
    ]);
    expect(s?.windows.map((w) => w.deadline.local)).toEqual([
      '2026-03-28T09:00:00+01:00',
      '2026-03-29T09:00:00+02:00',
      '2026-03-30T09:00:00+02:00',
      '2026-03-31T09:00:00+02:00',
    ]);
  });

  it('Europe/Berlin 02:30 across fall-back: the repeated 02:30 opens once, at its first occurrence', async (ctx) => {
    const root = project(ctx, { nightly: BERLIN });
    const r = await cli(['--json', 'schedule', 'nightly', '-n', '3', '--from', '2026-10-24T00:00:00Z'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    const [s] = json(r).schedules as Array<{ windows: Win[] }>;
    expect(s?.windows.map((w) => w.open.local)).toEqual([
      '2026-10-24T02:30:00+02:00',
      '2026-10-25T02:30:00+02:00',
      '2026-10-26T02:30:00+01:00',
    ]);
    expect(s?.windows.map((w) => w.key)).toEqual([
      'nightly@nightly@2026-10-24T00:30:00Z',
      'nightly@nightly@2026-10-25T00:30:00Z',
      'nightly@nightly@2026-10-26T01:30:00Z',
    ]);
  });

  it('--json shape: pipeline, from, mode and per schedule its spec and windows; excluded days marked', async (ctx) => {
    const root = project(
      ctx,
      {
        p: lines(
          'schedules:',
          '  - name: daily',
          '    cron: "0 6 * * *"',
          '  - name: six-hourly',
          '    every: 6h',
          '    timezone: UTC',
          'exclusions:',
          '  days: [sunday]',
          '  calendar: holidays',
          'mode: shadow',
        ),
      },
      {
        // interlock.yaml's timezone is the default of `daily`.
        'interlock.yaml': lines('provider: memory', 'timezone: America/New_York'),
        'calendars/holidays.yaml': lines('name: holidays', 'dates: ["2026-12-25"]'),
      },
    );
    const r = await cli(['--json', 'schedule', 'p', '--next', '3', '--from', '2026-12-24T00:00:00Z'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    const body = json(r);
    expect(Object.keys(body)).toEqual(['pipeline', 'from', 'mode', 'schedules']);
    expect(body).toMatchObject({ pipeline: 'p', from: '2026-12-24T00:00:00Z', mode: 'shadow' });
    const [daily, six] = body.schedules;
    expect(daily).toMatchObject({ name: 'daily', cron: '0 6 * * *', timezone: 'America/New_York', catchup: 'latest' });
    expect(daily.windows[0]).toEqual({
      key: 'p@daily@2026-12-24T11:00:00Z',
      date: '2026-12-24',
      weekday: 'thursday',
      open: { utc: '2026-12-24T11:00:00Z', local: '2026-12-24T06:00:00-05:00' },
      after: { utc: '2026-12-24T11:00:00Z', local: '2026-12-24T06:00:00-05:00' },
      deadline: { utc: '2026-12-25T11:00:00Z', local: '2026-12-25T06:00:00-05:00' },
      excluded: false,
    });
    expect(daily.windows.map((w: Win) => [w.date, w.excluded, w.exclusion?.rule, w.exclusion?.calendar])).toEqual([
      ['2026-12-24', false, undefined, undefined],
      ['2026-12-25', true, 'calendar', 'holidays'],
      ['2026-12-26', false, undefined, undefined],
    ]);
    expect(six).toMatchObject({ name: 'six-hourly', everyMs: 6 * 3_600_000, anchor: '1970-01-01T00:00:00Z' });
    expect(six.windows.map((w: Win) => w.open.utc)).toEqual([
      '2026-12-24T06:00:00Z',
      '2026-12-24T12:00:00Z',
      '2026-12-24T18:00:00Z',
    ]);
  });

  it('human output: local and UTC instants, after and deadline lines, EXCLUDED with the reason', async (ctx) => {
    const root = project(ctx, { nightly: `${BERLIN}exclusions: { days: [sunday] }\n` });
    const r = await cli(['schedule', 'nightly', '--next', '2', '--from', '2026-03-28T00:00:00Z'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toBe(
      lines(
        'nightly: next 2 window(s) per schedule after 2026-03-28T00:00:00Z',
        '',
        'schedule nightly: cron "30 2 * * *" in Europe/Berlin; after 30m after open, deadline 09:00, catchup latest',
        '  2026-03-28 Sat 02:30:00 +01:00  2026-03-28T01:30:00Z',
        '      after    2026-03-28 Sat 03:00:00 +01:00  2026-03-28T02:00:00Z',
        '      deadline 2026-03-28 Sat 09:00:00 +01:00  2026-03-28T08:00:00Z',
        '  2026-03-29 Sun 03:00:00 +02:00  2026-03-29T01:00:00Z  EXCLUDED sunday (2026-03-29) is an excluded day',
        '      after    2026-03-29 Sun 03:30:00 +02:00  2026-03-29T01:30:00Z',
        '      deadline 2026-03-29 Sun 09:00:00 +02:00  2026-03-29T07:00:00Z',
      ),
    );
  });

  it('a pipeline without schedules: says it runs on demand, exit 0; --json has no schedules', async (ctx) => {
    const root = project(ctx, { manual: '' });
    const r = await cli(['schedule', 'manual'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^manual has no schedules: it runs on demand only/);
    const j = await cli(['--json', 'schedule', 'manual', '--from', '2026-01-01T00:00:00Z'], { cwd: root });
    expect(j.code, show(j)).toBe(0);
    expect(json(j)).toEqual({ pipeline: 'manual', from: '2026-01-01T00:00:00Z', schedules: [] });
  });

  it('an unknown pipeline is the usual not-found error (exit 2); an INVALID one prints its diagnostics', async (ctx) => {
    const root = project(ctx, {
      ok: BERLIN,
      broken: lines('schedules:', '  - cron: "0 5 * *"'),
    });
    const r = await cli(['--json', 'schedule', 'nope'], { cwd: root });
    expect(r.code, show(r)).toBe(2);
    expect(json(r).error).toMatchObject({
      code: 'PIPELINE_NOT_FOUND',
      message: "unknown pipeline 'nope' (known: broken, ok)",
    });
    const b = await cli(['schedule', 'broken'], { cwd: root });
    expect(b.code, show(b)).toBe(2);
    expect(b.stdout).toBe('');
    expect(b.stderr).toContain(
      "pipelines/broken.yaml:4:11 schedules.0.cron: cron '0 5 * *' must have 5 fields (or 6 with seconds first)",
    );
    expect(b.stderr).toContain("interlock: pipeline 'broken' is INVALID");
  });

  it('usage errors: --next out of range, an unreadable --from (exit 2, nothing on stdout)', async (ctx) => {
    const root = project(ctx, { nightly: BERLIN });
    for (const args of [
      ['--next', '0'],
      ['--next', 'many'],
      ['--next', '1001'],
      ['--from', 'yesterday'],
    ]) {
      const r = await cli(['schedule', 'nightly', ...args], { cwd: root });
      expect(r.code, `${args.join(' ')}: ${show(r)}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^interlock: --(next|from)/);
    }
  });

  it('--help explains the command with examples', async (ctx) => {
    const r = await cli(['schedule', '--help'], { cwd: tempDirFor(ctx) });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain('Usage: interlock schedule [options] <pipeline>');
    expect(r.stdout).toContain('--next <n>');
    expect(r.stdout).toContain('--from <time>');
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('interlock schedule daily-sales --next 20 --from 2026-03-27T00:00:00Z');
  });

  it('the default is the next 5 windows after now', async (ctx) => {
    const root = project(ctx, { nightly: BERLIN });
    const before = Date.now();
    const r = await cli(['--json', 'schedule', 'nightly'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    const wins = json(r).schedules[0].windows as Win[];
    expect(wins).toHaveLength(5);
    expect(Date.parse(wins[0]?.open.utc as string)).toBeGreaterThan(before - 1000);
    expect(Date.parse(wins[0]?.open.utc as string) - before).toBeLessThanOrEqual(86_400_000 + 3_600_000);
  });
});

describe.concurrent('interlock validate and the schedule blocks', () => {
  it('reports every schedule problem at file:line:col and names the INVALID pipelines (exit 2)', async (ctx) => {
    const root = project(
      ctx,
      {
        a: lines('schedules:', '  - cron: "0 5 * * *"', '    timezone: Mars/Base', 'exclusions:', '  calendar: nope'),
        b: lines('retry: { maxAttempts: 2 }'),
        c: BERLIN,
      },
      { 'calendars/bad.yaml': lines('name: bad', 'days: [funday]') },
    );
    const r = await cli(['validate'], { cwd: root });
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout).toContain(
      "pipelines/a.yaml:5:15 schedules.0.timezone: unknown timezone 'Mars/Base'; expected an IANA timezone such as Europe/Berlin or UTC",
    );
    expect(r.stdout).toContain(
      "pipelines/a.yaml:7:13 exclusions.calendar: unknown calendar 'nope' (not found in calendarDirs)",
    );
    expect(r.stdout).toContain(
      'pipelines/b.yaml:3:1 retry: retry has no effect: this pipeline has no schedules (add schedules, or remove retry)',
    );
    expect(r.stdout).toContain('calendars/bad.yaml:2:8 days.0: expected one of:');
    expect(r.stdout).toMatch(/INVALID, never evaluated: a, b\)/);
    const j = await cli(['--json', 'validate'], { cwd: root });
    expect(json(j)).toMatchObject({ valid: false, pipelines: ['c'], invalidPipelines: ['a', 'b'] });
  });
});
