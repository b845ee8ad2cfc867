// The smallest project a CLI test needs: archetype `gate` with the given required traits and one pipeline.
import { copyFixtureEvaluators, writeFiles } from './files.js';

/** Environment variables the fixture evaluators read (pid files, barriers, counters), passed via defaultEnv. */
export const FIXTURE_ENV = ['FIXTURE_PID_FILE', 'FIXTURE_CONC_DIR', 'FIXTURE_EXTRA', 'BARRIER_DIR', 'BARRIER_N'];

/**
 * A minimal project: one archetype `gate` whose required traits are `traits`, and one pipeline `p`
 * whose trait i uses evaluator `evaluators[i]` (fixture names). Returns the project root.
 */
export function minimalProject(
  root: string,
  traits: Array<{ type: string; evaluator?: string; timeout?: number; ttl?: number; config?: Record<string, unknown> }>,
  opts: { pipeline?: string; extraConfig?: string } = {},
): string {
  copyFixtureEvaluators(root);
  const name = opts.pipeline ?? 'p';
  // The fixture evaluators' test hooks reach them the documented way: listed in the archetype's defaultEnv.
  const arch = [
    'name: gate',
    'requiredTraits:',
    ...traits.map((t) => `  - type: ${t.type}\n    defaultEnv: [${FIXTURE_ENV.join(', ')}]`),
  ].join('\n');
  const pipe = [
    `name: ${name}`,
    'archetype: gate',
    'traits:',
    ...traits.map((t) =>
      [
        `  ${t.type}:`,
        t.evaluator ? `    evaluator: ${t.evaluator}` : '',
        t.timeout !== undefined ? `    timeout: ${t.timeout}` : '',
        t.ttl !== undefined ? `    ttl: ${t.ttl}` : '',
        `    config: ${JSON.stringify(t.config ?? {})}`,
      ]
        .filter(Boolean)
        .join('\n'),
    ),
  ].join('\n');
  writeFiles(root, {
    'interlock.yaml': `provider: sqlite\n${opts.extraConfig ?? ''}`,
    'archetypes/gate.yaml': `${arch}\n`,
    [`pipelines/${name}.yaml`]: `${pipe}\n`,
  });
  return root;
}
