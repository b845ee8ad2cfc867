import { describe, expect, it } from 'vitest';
import { triggerLimitProblems } from './pipeline-rules.js';
import type { PipelineFile } from './schema.js';

const doc = (trigger: Record<string, unknown>) =>
  ({ name: 'p', archetype: 'a', trigger: { type: 'command', command: 'true', ...trigger } }) as PipelineFile;

describe('trigger limits (issue 9 item 8)', () => {
  it('maxRunSeconds shorter than timeout is an error at trigger.maxRunSeconds', () => {
    expect(triggerLimitProblems(doc({ timeout: 10, maxRunSeconds: 3 }))).toEqual([
      expect.objectContaining({ path: ['trigger', 'maxRunSeconds'], severity: 'error' }),
    ]);
    expect(triggerLimitProblems(doc({ timeout: 10, maxRunSeconds: 3 }))[0]?.message).toContain(
      '3s is shorter than trigger.timeout (10s)',
    );
  });

  it('equal, longer, or either one left to its default is fine (the lock is kept while the command runs anyway)', () => {
    expect(triggerLimitProblems(doc({ timeout: 10, maxRunSeconds: 10 }))).toEqual([]);
    expect(triggerLimitProblems(doc({ timeout: 10, maxRunSeconds: 11 }))).toEqual([]);
    expect(triggerLimitProblems(doc({ maxRunSeconds: 3 }))).toEqual([]);
    expect(triggerLimitProblems(doc({ timeout: 3 }))).toEqual([]);
    expect(triggerLimitProblems({ name: 'p', archetype: 'a' } as PipelineFile)).toEqual([]);
  });
});
