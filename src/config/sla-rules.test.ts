// The semantic sla rules, through loadProject on a real temp project: atRisk without a deadline, a completionDeadline
// before the evaluationDeadline, an evaluationDeadline after the window's deadline, an atRisk not shorter than a
// duration deadline — each at its file:line:col with its severity; HH:MM deadlines are never compared.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFiles } from '../../test/support/files.js';
import { useTempDirs } from '../../test/support/test-cleanups.js';
import { formatDiagnostic } from '../core/errors.js';
import { type LoadedProject, loadProject } from './load.js';
import { durationWords } from './sla-rules.js';

const tempDir = useTempDirs('interlock-sla-rules-');
const lines = (...ls: string[]) => `${ls.join('\n')}\n`;
const of = (p: LoadedProject, s: string) => p.diagnostics.filter((d) => d.severity === s).map(formatDiagnostic);

/** A pipeline whose `body` starts at line 8, after one schedule (`schedule` lines go into it, from line 8 on). */
function project(body: string, schedule: string[] = []): LoadedProject {
  const root = tempDir();
  writeFiles(root, {
    'interlock.yaml': 'provider: memory\n',
    'archetypes/gate.yaml': lines('name: gate', 'requiredTraits:', '  - type: t'),
    'evaluators/ok.sh': '#!/bin/sh\necho \'{"status":"PASS"}\'\n',
    'pipelines/p.yaml':
      lines(
        'name: p',
        'archetype: gate',
        'traits:',
        '  t: { evaluator: ok.sh }',
        'schedules:',
        '  - name: daily',
        '    cron: "0 5 * * *"',
        ...schedule,
      ) + body,
  });
  return loadProject(path.join(root, 'interlock.yaml'));
}

describe('sla config rules', () => {
  it('atRisk without any deadline is a warning at atRisk (pipeline block)', () => {
    const p = project(lines('sla:', '  atRisk: 15m'));
    expect(of(p, 'error')).toEqual([]);
    expect(of(p, 'warning')).toEqual([
      expect.stringMatching(
        /^pipelines\/p\.yaml:9:11 warning: .*atRisk has no effect without evaluationDeadline or completionDeadline \(schedule 'daily'\)/,
      ),
    ]);
    expect(p.pipelines.has('p')).toBe(true);
    // A deadline of the schedule's own gives the pipeline-wide atRisk its effect.
    const ok = project(lines('sla:', '  atRisk: 15m'), ['    sla: { completionDeadline: "09:00" }']);
    expect(of(ok, 'warning')).toEqual([]);
    expect(of(project(lines('sla:', '  evaluationDeadline: "06:30"', '  atRisk: 15m')), 'warning')).toEqual([]);
  });

  it('atRisk without a deadline in a schedule block points at the schedule key', () => {
    const p = project('', ['    sla:', '      atRisk: 5m']);
    expect(of(p, 'warning')).toEqual([
      expect.stringMatching(/^pipelines\/p\.yaml:9:15 warning: .*atRisk has no effect without evaluationDeadline/),
    ]);
  });

  it('a completionDeadline before the evaluationDeadline (both durations) is an error; the pipeline is INVALID', () => {
    const p = project(lines('sla:', '  evaluationDeadline: 2h', '  completionDeadline: 90m'));
    expect(of(p, 'error')).toEqual([
      expect.stringMatching(
        /^pipelines\/p\.yaml:10:23 .*completionDeadline 1h30m is before evaluationDeadline 2h \(schedule 'daily'\): a window cannot complete before it is triggered/,
      ),
    ]);
    expect(p.pipelines.has('p')).toBe(false);
    expect(p.watch.has('p')).toBe(false);
    // Equal is allowed; the schedule's key wins over the pipeline's (and is where the error points).
    expect(of(project(lines('sla:', '  evaluationDeadline: 2h', '  completionDeadline: 2h')), 'error')).toEqual([]);
    const fixed = project(lines('sla:', '  evaluationDeadline: 2h', '  completionDeadline: 90m'), [
      '    sla: { completionDeadline: 3h }',
    ]);
    expect(of(fixed, 'error')).toEqual([]);
    expect(fixed.pipelines.has('p')).toBe(true);
    const bySchedule = project(lines('sla:', '  evaluationDeadline: 2h'), ['    sla: { completionDeadline: 1h }']);
    expect(of(bySchedule, 'error')).toEqual([
      expect.stringMatching(/^pipelines\/p\.yaml:8:32 .*completionDeadline 1h is before evaluationDeadline 2h/),
    ]);
  });

  it('HH:MM deadlines are never compared (their instants depend on the open and the timezone)', () => {
    const p = project(lines('sla:', '  evaluationDeadline: "23:00"', '  completionDeadline: "01:00"', '  atRisk: 3h'), [
      '    deadline: "00:30"',
    ]);
    expect(p.diagnostics).toEqual([]);
    // A time and a duration are not compared either.
    expect(project(lines('sla:', '  evaluationDeadline: 2h', '  completionDeadline: "06:00"')).diagnostics).toEqual([]);
  });

  it("an evaluationDeadline later than the window's own duration deadline is a warning", () => {
    const p = project(lines('sla:', '  evaluationDeadline: 3h'), ['    deadline: 2h']);
    expect(of(p, 'error')).toEqual([]);
    expect(of(p, 'warning')).toEqual([
      expect.stringMatching(
        /^pipelines\/p\.yaml:10:23 warning: .*evaluationDeadline 3h is later than the window's deadline 2h \(schedule 'daily'\): nothing triggers after the window closes.*the SLA still fires at 3h/,
      ),
    ]);
    expect(p.pipelines.has('p')).toBe(true);
    // At the deadline, before it, or a completion deadline after it (runs complete after the close): no warning.
    expect(of(project(lines('sla:', '  evaluationDeadline: 2h'), ['    deadline: 2h']), 'warning')).toEqual([]);
    expect(of(project(lines('sla:', '  completionDeadline: 5h'), ['    deadline: 2h']), 'warning')).toEqual([]);
    expect(of(project(lines('sla:', '  evaluationDeadline: 3h'), ['    deadline: "08:00"']), 'warning')).toEqual([]);
  });

  it('atRisk not shorter than a duration deadline is a warning per deadline', () => {
    const p = project(lines('sla:', '  evaluationDeadline: 20m', '  completionDeadline: 2h', '  atRisk: 30m'));
    expect(of(p, 'warning')).toEqual([
      expect.stringMatching(
        /^pipelines\/p\.yaml:11:11 warning: .*atRisk 30m is not shorter than evaluationDeadline 20m \(schedule 'daily'\): SLA_AT_RISK would fire as the window opens/,
      ),
    ]);
    const equal = project(lines('sla:', '  completionDeadline: 30m', '  atRisk: 30m'));
    expect(of(equal, 'warning')).toEqual([
      expect.stringMatching(
        /^pipelines\/p\.yaml:10:11 warning: .*atRisk 30m is not shorter than completionDeadline 30m/,
      ),
    ]);
    expect(of(project(lines('sla:', '  completionDeadline: 31m', '  atRisk: 30m')), 'warning')).toEqual([]);
  });

  it('a pipeline-wide key is checked against each schedule (the message names it)', () => {
    const p = project(lines('  - name: hourly', '    cron: "0 * * * *"', 'sla:', '  atRisk: 15m'));
    expect(of(p, 'warning')).toEqual([
      expect.stringMatching(/p\.yaml:11:11 warning: .*atRisk has no effect.*\(schedule 'daily'\)/),
      expect.stringMatching(/p\.yaml:11:11 warning: .*atRisk has no effect.*\(schedule 'hourly'\)/),
    ]);
  });

  it('durationWords', () => {
    expect([90_000, 1_200_000, 7_200_000, 5_400_000, 1500, 0].map(durationWords)).toEqual([
      '90s',
      '20m',
      '2h',
      '1h30m',
      '1.5s',
      '0s',
    ]);
  });
});
