// monitor.traits must name the pipeline's traits (error at file:line:col, the pipeline INVALID); an expectedDuration
// not below maxRunSeconds is a warning (RUN_STUCK could never fire).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFiles } from '../../test/support/files.js';
import { useTempDirs } from '../../test/support/test-cleanups.js';
import { formatDiagnostic } from '../core/errors.js';
import { type LoadedProject, loadProject } from './load.js';

const tempDir = useTempDirs('interlock-watchdog-rules-');
const lines = (...ls: string[]) => `${ls.join('\n')}\n`;
const of = (p: LoadedProject, s: string) => p.diagnostics.filter((d) => d.severity === s).map(formatDiagnostic);

function project(body: string): LoadedProject {
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
        'trigger: { type: command, command: "true", maxRunSeconds: 600 }',
        'schedules:',
        '  - name: daily',
        '    cron: "0 5 * * *"',
      ) + body,
  });
  return loadProject(path.join(root, 'interlock.yaml'));
}

describe('watchdog config rules', () => {
  it('monitor.traits naming a trait the pipeline does not have is an error at its position', () => {
    const p = project(lines('monitor:', '  duration: 2h', '  traits: [t, nope]'));
    expect(of(p, 'error')).toEqual([
      expect.stringMatching(/pipelines\/p\.yaml:11:\d+.*monitor\.traits: 'nope' is not a trait of pipeline 'p'/),
    ]);
    expect(p.pipelines.has('p')).toBe(false);
    const ok = project(lines('monitor:', '  duration: 2h', '  traits: [t]'));
    expect(of(ok, 'error')).toEqual([]);
    expect(ok.watch.get('p')?.monitor?.traits).toEqual(['t']);
  });

  it('expectedDuration not below maxRunSeconds is a warning (pipeline and schedule)', () => {
    const p = project(lines('sla:', '  expectedDuration: 10m'));
    expect(of(p, 'error')).toEqual([]);
    expect(of(p, 'warning')).toEqual([
      expect.stringMatching(/p\.yaml:10:\d+.*expectedDuration 600s is not below maxRunSeconds 600/),
    ]);
    expect(of(project(lines('sla:', '  expectedDuration: 9m')), 'warning')).toEqual([]);
  });
});
