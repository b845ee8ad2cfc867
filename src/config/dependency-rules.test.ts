// Config diagnostics of the pipeline dependency graph (builtin:pipeline): an unknown upstream and every cycle are
// errors at the trait's file:line:col that make the pipelines INVALID; a valid chain loads; the graph helpers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../core/errors.js';
import { dependencyCycles, dependentsOf } from '../engine/dependencies.js';
import { loadProject } from './load.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const lines = (...ls: string[]) => `${ls.join('\n')}\n`;
const ARCHETYPE = lines('name: dep', 'requiredTraits:', '  - type: upstream', '    evaluator: builtin:pipeline');

/** Pipeline `name` waiting for `upstream` (none: a pipeline with a file check instead). */
function pipeline(name: string, upstream?: string): string {
  if (upstream === undefined)
    return lines(
      `name: ${name}`,
      'archetype: dep',
      'traits:',
      '  upstream:',
      '    evaluator: builtin:file',
      '    config: { path: x }',
    );
  return lines(`name: ${name}`, 'archetype: dep', 'traits:', '  upstream:', `    config: { pipeline: ${upstream} }`);
}

function load(pipelines: Record<string, string | undefined>) {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'interlock-deps-')));
  made.push(root);
  fs.mkdirSync(path.join(root, 'archetypes'));
  fs.mkdirSync(path.join(root, 'pipelines'));
  fs.writeFileSync(path.join(root, 'interlock.yaml'), 'provider: memory\n');
  fs.writeFileSync(path.join(root, 'archetypes/dep.yaml'), ARCHETYPE);
  for (const [name, up] of Object.entries(pipelines))
    fs.writeFileSync(path.join(root, `pipelines/${name}.yaml`), pipeline(name, up));
  const p = loadProject(path.join(root, 'interlock.yaml'));
  return { p, errors: p.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic) };
}

describe('pipeline dependencies in config', () => {
  it('a chain loads: every pipeline valid, the graph says who waits for whom', () => {
    const { p, errors } = load({ a: undefined, b: 'a', c: 'b' });
    expect(errors).toEqual([]);
    expect([...p.pipelines.keys()].sort()).toEqual(['a', 'b', 'c']);
    const deps = dependentsOf(p.pipelines.values());
    expect(deps.get('a')?.map((e) => e.pipeline)).toEqual(['b']);
    expect(deps.get('b')?.map((e) => [e.pipeline, e.trait])).toEqual([['c', 'upstream']]);
  });

  it('a cycle is an error at each trait (file:line:col) and makes its pipelines INVALID; others stay valid', () => {
    const { p, errors } = load({ a: 'c', b: 'a', c: 'b', d: 'a', solo: undefined });
    expect(errors).toEqual([
      'pipelines/a.yaml:5:25 traits.upstream.config.pipeline: builtin:pipeline: dependency cycle a → c → b → a: these pipelines wait for each other, none could ever be READY',
      'pipelines/b.yaml:5:25 traits.upstream.config.pipeline: builtin:pipeline: dependency cycle a → c → b → a: these pipelines wait for each other, none could ever be READY',
      'pipelines/c.yaml:5:25 traits.upstream.config.pipeline: builtin:pipeline: dependency cycle a → c → b → a: these pipelines wait for each other, none could ever be READY',
    ]);
    expect([...p.invalid.keys()].sort()).toEqual(['a', 'b', 'c']);
    // d waits for a (INVALID: it never completes) but is not in the cycle.
    expect([...p.pipelines.keys()].sort()).toEqual(['d', 'solo']);
  });

  it('waiting for itself, and an unknown upstream (with a suggestion), are errors', () => {
    const { p, errors } = load({ self: 'self', orders: undefined, report: 'order' });
    expect(errors).toEqual([
      "pipelines/report.yaml:5:25 traits.upstream.config.pipeline: builtin:pipeline: unknown pipeline 'order' (pipelines defined in this project: orders, self) (did you mean 'orders'?)",
      "pipelines/self.yaml:5:25 traits.upstream.config.pipeline: builtin:pipeline: pipeline 'self' waits for itself; it could never be READY",
    ]);
    expect([...p.pipelines.keys()]).toEqual(['orders']);
  });

  it('finds every cycle once, however long the chain', () => {
    const edge = (pipeline: string, upstream: string) => ({ pipeline, trait: 't', upstream });
    expect(dependencyCycles([edge('a', 'b'), edge('b', 'a'), edge('c', 'c'), edge('d', 'a')])).toEqual([
      ['a', 'b'],
      ['c'],
    ]);
    const chain = Array.from({ length: 5000 }, (_, i) => edge(`p${i}`, `p${i + 1}`));
    expect(dependencyCycles(chain)).toEqual([]);
    expect(dependencyCycles([...chain, edge('p5000', 'p0')])[0]).toHaveLength(5001);
  });
});
