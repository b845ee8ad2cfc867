// The soak project: archetype `soak` (three trivial evaluators), pipelines soak-000…; the first half are YAML files,
// the rest are registered through the API by the run. Every tenth pipeline is NOT_READY.
import { writeFiles } from '../../test/support/files.js';

const PASS = '#!/bin/sh\ncat >/dev/null\necho \'{"status":"PASS","value":{"rows":42}}\'\n';
const FAIL = '#!/bin/sh\ncat >/dev/null\necho \'{"status":"FAIL","reason":"soak: every tenth pipeline is blocked"}\'\n';

/** The name of pipeline i. */
export const pipelineName = (i: number) => `soak-${String(i).padStart(3, '0')}`;

/** Every tenth pipeline is NOT_READY (its third trait fails), so blocking and alerting are exercised too. */
export function traitsOf(i: number): Record<string, { evaluator: string }> {
  return { t1: { evaluator: 'ok-1' }, t2: { evaluator: 'ok-2' }, t3: { evaluator: i % 10 === 0 ? 'no' : 'ok-3' } };
}

/** How many pipelines are YAML files (the rest get registered through the API). */
export const fromFiles = (pipelines: number) => Math.ceil(pipelines / 2);

/** Writes the project: config, archetype, evaluators and the first half of the pipelines as YAML files. */
export function makeSoakProject(root: string, pipelines: number): void {
  const files: Record<string, string> = {
    'interlock.yaml': 'provider: sqlite\nalerts:\n  - type: file\n    path: ./alerts.log\n',
    'archetypes/soak.yaml':
      'name: soak\nrequiredTraits:\n  - type: t1\n  - type: t2\n  - type: t3\n    defaultTtl: 600\n    defaultTimeout: 10\n',
    'evaluators/ok-1': PASS,
    'evaluators/ok-2': PASS,
    'evaluators/ok-3': PASS,
    'evaluators/no': FAIL,
  };
  for (let i = 0; i < fromFiles(pipelines); i++) {
    files[`pipelines/${pipelineName(i)}.yaml`] = `name: ${pipelineName(i)}\narchetype: soak\ntraits:\n${Object.entries(
      traitsOf(i),
    )
      .map(([k, v]) => `  ${k}:\n    evaluator: ${v.evaluator}\n`)
      .join('')}`;
  }
  writeFiles(root, files);
}
