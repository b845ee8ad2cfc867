// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in builtin config are tested here.
// Config diagnostics of builtin traits (`evaluator: builtin:<name>`): unknown names, each builtin's config schema,
// identifiers, connections and their ${VAR}s, each at file:line:col; and what a valid one resolves to.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../core/errors.js';
import { type LoadedProject, loadProject } from './load.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'interlock-builtin-config-')));
  made.push(root);
  for (const [p, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), body);
  }
  return root;
}
const lines = (...ls: string[]) => `${ls.join('\n')}\n`;
const load = (root: string) => loadProject(path.join(root, 'interlock.yaml'));
const errors = (p: LoadedProject) => p.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);

const CONFIG = lines('provider: memory', 'connections:', '  warehouse: { url: "sqlite:warehouse.db" }');
const ARCHETYPE = lines(
  'name: gate',
  'requiredTraits:',
  '  - type: landed',
  '    evaluator: builtin:file',
  '    defaultConfig: { path: data/_SUCCESS }',
  '  - type: rows',
  'optionalTraits:',
  '  - type: fresh',
);

describe('builtin traits in config', () => {
  it('a valid project resolves builtins from the archetype and the pipeline', () => {
    const root = project({
      'interlock.yaml': CONFIG,
      'archetypes/gate.yaml': ARCHETYPE,
      'pipelines/p.yaml': lines(
        'name: p',
        'archetype: gate',
        'traits:',
        '  landed:',
        '    config: { maxAge: 1d }',
        '  rows:',
        '    evaluator: builtin:sql-row-count',
        '    config: { connection: warehouse, table: main.sales, min: 1 }',
      ),
    });
    const p = load(root);
    expect(errors(p)).toEqual([]);
    const traits = p.pipelines.get('p')?.traits ?? [];
    expect(traits.map((t) => [t.type, t.builtin, t.evaluatorRef, t.evaluator])).toEqual([
      ['landed', 'file', 'builtin:file', undefined],
      ['rows', 'sql-row-count', 'builtin:sql-row-count', undefined],
    ]);
    expect(traits[0]?.config).toEqual({ path: 'data/_SUCCESS', maxAge: '1d' });
    // No "has no evaluator" warning for a builtin from the archetype.
    expect(p.diagnostics.map((d) => d.message).join('\n')).not.toMatch(/has no evaluator/);
  });

  it('every problem of builtin config is reported at its file:line:col, and the pipeline is INVALID', () => {
    const root = project({
      'interlock.yaml': CONFIG,
      'archetypes/gate.yaml': ARCHETYPE,
      'pipelines/p.yaml': lines(
        'name: p',
        'archetype: gate',
        'traits:',
        '  landed:',
        '    config: { maxAge: soon, colour: red }',
        '  rows:',
        '    evaluator: builtin:sql-row-count',
        '    config: { connection: wherehouse, table: "x; drop table y", min: 5, max: 2 }',
        '  fresh:',
        '    evaluator: builtin:sql-fresh',
      ),
    });
    const p = load(root);
    const e = errors(p);
    expect(e).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^pipelines\/p\.yaml:5:23 .*builtin:file maxAge: expected a duration/),
        expect.stringMatching(/^pipelines\/p\.yaml:5:29 .*colour/),
        expect.stringMatching(/^pipelines\/p\.yaml:8:46 .*builtin:sql-row-count table: expected a table name/),
        expect.stringMatching(/^pipelines\/p\.yaml:8:70 .*min \(5\) is greater than max \(2\)/),
        expect.stringMatching(
          /^pipelines\/p\.yaml:8:27 .*unknown connection 'wherehouse' \(connections in interlock.yaml: warehouse\).*did you mean 'warehouse'/,
        ),
        expect.stringMatching(/^pipelines\/p\.yaml:10:16 .*unknown builtin 'sql-fresh' \(known: builtin:file, /),
      ]),
    );
    expect(p.pipelines.has('p')).toBe(false);
    expect(p.invalid.get('p')?.problems.length).toBeGreaterThanOrEqual(6);
  });

  it("a problem in the archetype's defaultConfig says so; an unknown builtin in an archetype is the archetype's error", () => {
    const root = project({
      'interlock.yaml': CONFIG,
      'archetypes/gate.yaml': lines(
        'name: gate',
        'requiredTraits:',
        '  - type: landed',
        '    evaluator: builtin:file',
        '    defaultConfig: { path: a, glob: b }',
      ),
      'archetypes/bad.yaml': lines('name: bad', 'requiredTraits:', '  - type: x', '    evaluator: builtin:nope'),
      'archetypes/cmd.yaml': lines('name: cmd', 'requiredTraits:', '  - type: x', '    evaluator: ./evaluators/x'),
      'pipelines/p.yaml': lines('name: p', 'archetype: gate'),
    });
    const e = errors(load(root));
    expect(e).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^pipelines\/p\.yaml:2:\d+ .*builtin:file config: set exactly one of path and glob/),
        expect.stringMatching(/^archetypes\/bad\.yaml:4:16 .*unknown builtin 'nope'/),
        expect.stringMatching(/^archetypes\/cmd\.yaml:4:16 .*expected 'push' or 'builtin:<name>'/),
      ]),
    );
  });

  it('${VAR} in builtin config and in a connection URL must be listed in env', () => {
    const root = project({
      'interlock.yaml': lines('provider: memory', 'connections:', '  warehouse: { url: "sqlite:${DB_DIR}/w.db" }'),
      'archetypes/gate.yaml': lines('name: gate', 'requiredTraits:', '  - type: rows', '  - type: api'),
      'pipelines/p.yaml': lines(
        'name: p',
        'archetype: gate',
        'traits:',
        '  rows:',
        '    evaluator: builtin:sql-row-count',
        '    config: { connection: warehouse, table: t }',
        '  api:',
        '    evaluator: builtin:http',
        '    config: { url: "${API_URL}/health" }',
      ),
      'pipelines/q.yaml': lines(
        'name: q',
        'archetype: gate',
        'traits:',
        '  rows:',
        '    evaluator: builtin:sql-row-count',
        '    env: [DB_DIR]',
        '    config: { connection: warehouse, table: t }',
        '  api:',
        '    evaluator: builtin:http',
        '    env: [API_URL]',
        '    config: { url: "${API_URL}/health" }',
      ),
    });
    const p = load(root);
    const e = errors(p);
    expect(e).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^pipelines\/p\.yaml:6:\d+ .*connection 'warehouse' URL references \$\{DB_DIR\}, not listed/,
        ),
        expect.stringMatching(/^pipelines\/p\.yaml:9:\d+ .*references \$\{API_URL\}, not listed in its env/),
      ]),
    );
    expect(e.filter((x) => x.startsWith('pipelines/q.yaml'))).toEqual([]);
    expect(p.pipelines.has('q')).toBe(true);
  });

  it('a connection URL must be sqlite:, postgres://, mysql:// or mariadb:// (or start with ${VAR})', () => {
    const root = project({
      'interlock.yaml': lines(
        'provider: memory',
        'connections:',
        '  ora: { url: "oracle://localhost/db" }',
        '  pg: { url: "postgresql://u@localhost/db" }',
        '  my: { url: "mysql://u@localhost/db" }',
        '  maria: { url: "mariadb://u@localhost/db" }',
      ),
      'archetypes/gate.yaml': ARCHETYPE,
      'pipelines/p.yaml': lines('name: p', 'archetype: gate'),
    });
    expect(errors(load(root))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^interlock\.yaml:3:\d+ .*expected a sqlite:PATH URL/)]),
    );
    for (const line of [4, 5, 6])
      expect(errors(load(root)).filter((e) => e.startsWith(`interlock.yaml:${line}`))).toEqual([]);
  });
});
