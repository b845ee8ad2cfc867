// The project of the HTTP API tests: a gated pipeline `p` whose trigger records each execution, and `no-trigger`.
import { copyFixtureEvaluators, writeFiles } from './files.js';
import { RECORD_TRIGGER } from './trigger-recorder.js';

export interface ProjectOptions {
  /** interlock.yaml body (default `provider: sqlite`). */
  config?: string;
  /** Evaluator of trait `a` of pipeline `p` (fixture name; default pass). */
  evaluator?: string;
  /** Trigger YAML block of `p` (default: a command appending its run id to fired.log). */
  trigger?: string;
  /** Extra files (relative path → content). */
  files?: Record<string, string>;
}

/**
 * A project: archetype `gate` (required trait `a`, optional trait `b`), pipeline `p` (trait a → evaluator) with a
 * trigger, and pipeline `no-trigger` without one. Fixture evaluators are in evaluators/.
 */
export function makeProject(root: string, o: ProjectOptions = {}): string {
  copyFixtureEvaluators(root);
  writeFiles(root, {
    'interlock.yaml': o.config ?? 'provider: sqlite\n',
    'archetypes/gate.yaml':
      'name: gate\nrequiredTraits:\n  - type: a\n    defaultTtl: 600\noptionalTraits:\n  - type: b\n',
    'pipelines/p.yaml': `name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: ${o.evaluator ?? 'pass'}\n${o.trigger ?? RECORD_TRIGGER}`,
    'pipelines/no-trigger.yaml': 'name: no-trigger\narchetype: gate\ntraits:\n  a:\n    evaluator: pass\n',
    ...o.files,
  });
  return root;
}
