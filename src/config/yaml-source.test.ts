// YAML parsing and positions: syntax errors, empty files, node → line:col for values, keys and missing fields.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../core/errors.js';
import { pipelineSchema } from './schema.js';
import { checkYaml, parseYaml, positionOf } from './yaml-source.js';

const text = [
  'name: sales', // 1
  'archetype: batch', // 2
  'traits:', // 3
  '  source-freshness:', // 4
  '    evaluator: ./e', // 5
  '    ttl:', // 6
  '    timeout: 15', // 7
  'list:', // 8
  '  - a', // 9
  '  - b', // 10
  '',
].join('\n');

describe('positionOf', () => {
  const src = parseYaml(text, 'p.yaml');

  it('finds a value, a key, and a list item', () => {
    expect(positionOf(src, ['traits', 'source-freshness', 'timeout'])).toEqual({ line: 7, col: 14 });
    expect(positionOf(src, ['traits', 'source-freshness', 'timeout'], true)).toEqual({ line: 7, col: 5 });
    expect(positionOf(src, ['list', 1])).toEqual({ line: 10, col: 5 });
  });

  it('points at the key when the value is empty', () => {
    expect(positionOf(src, ['traits', 'source-freshness', 'ttl'])).toEqual({ line: 6, col: 5 });
  });

  it('falls back to the deepest ancestor that exists', () => {
    expect(positionOf(src, ['traits', 'source-freshness', 'config', 'x'])).toEqual({ line: 5, col: 5 });
    expect(positionOf(src, ['trigger', 'type'])).toEqual({ line: 1, col: 1 });
    expect(positionOf(src, [])).toEqual({ line: 1, col: 1 });
  });

  it('follows aliases', () => {
    const s = parseYaml('base: &b\n  timeout: 5\ntraits:\n  t: *b\n', 'a.yaml');
    expect(positionOf(s, ['traits', 't', 'timeout'])).toEqual({ line: 2, col: 12 });
  });
});

describe('parseYaml', () => {
  it('reports a syntax error at its line:col and gives no data', () => {
    const s = parseYaml('name: a\ntraits: [x, y\nother: 1\n', 'p.yaml');
    expect(s.data).toBeUndefined();
    expect(s.diagnostics.map(formatDiagnostic)[0]).toMatch(/^p\.yaml:3:1 /);
  });

  it('reports an unterminated quote', () => {
    const s = parseYaml('name: "abc\n', 'p.yaml');
    expect(s.diagnostics).toHaveLength(1);
    expect(s.diagnostics[0]).toMatchObject({ line: 2, col: 1, severity: 'error' });
  });

  it('keeps duplicate keys an error, naming the key', () => {
    const s = parseYaml('name: a\narchetype: b\nname: c\n', 'p.yaml');
    expect(s.diagnostics.map(formatDiagnostic)).toEqual(["p.yaml:3:1 duplicate key 'name'"]);
  });

  it('rejects a second document', () => {
    const s = parseYaml('name: a\n---\nname: b\n', 'p.yaml');
    expect(s.diagnostics.map((d) => d.message)).toEqual([
      "only one YAML document per file is allowed (found a second '---')",
    ]);
  });

  it('says an empty (or comment-only) file is empty', () => {
    for (const t of ['', '# nothing here\n', '\n\n']) {
      const s = parseYaml(t, 'e.yaml');
      expect(s.diagnostics.map(formatDiagnostic)).toEqual(['e.yaml:1:1 file is empty (expected a mapping)']);
    }
  });

  it('says when the top level is not a mapping', () => {
    expect(parseYaml('- a\n- b\n', 'l.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'l.yaml:1:1 expected a mapping at the top level, got a list',
    ]);
    expect(parseYaml('\n\njust text\n', 's.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      's.yaml:3:1 expected a mapping at the top level, got a string',
    ]);
  });

  it('reports an unresolvable alias instead of throwing', () => {
    const s = parseYaml('a: *nope\n', 'x.yaml');
    expect(s.data).toBeUndefined();
    expect(s.diagnostics.some((d) => d.severity === 'error')).toBe(true);
  });
});

describe('checkYaml', () => {
  it('positions schema issues: unknown keys at the key, bad values at the value, in line order', () => {
    const s = parseYaml(
      [
        'name: sales',
        'archetype: batch',
        'traits:',
        '  source-freshness:',
        '    timeout: -1',
        '    timout: 5',
        '',
      ].join('\n'),
      'pipelines/sales.yaml',
    );
    const r = checkYaml(s, pipelineSchema);
    expect(r.value).toBeUndefined();
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'pipelines/sales.yaml:5:14 traits.source-freshness.timeout: expected a positive duration: a number of seconds (90) or a string like 90s, 15m, 2h, 1d or 1h30m',
      "pipelines/sales.yaml:6:5 traits.source-freshness.timout: unknown key 'timout' (did you mean 'timeout'?)",
    ]);
  });

  it('returns the parsed value with defaults when valid', () => {
    const r = checkYaml(
      parseYaml('name: a\narchetype: b\ntrigger: {type: http, url: "http://x"}\n', 'p.yaml'),
      pipelineSchema,
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.value?.trigger).toEqual({ type: 'http', method: 'POST', url: 'http://x' });
  });
});
