// loadProject / findConfigFile / assertValid against real project trees in temp dirs.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are tested here.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { formatDiagnostic, InterlockError } from '../core/errors.js';
import { assertUsable, assertValid, findConfigFile, type LoadedProject, loadProject } from './load.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SEED = path.join(REPO, 'test', 'fixtures', 'config', 'seed');
const TEMPLATES = path.join(REPO, 'src', 'runtime', 'templates');

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'interlock-config-')));
  made.push(d);
  return d;
}

/** Writes `files` (path → content) under a fresh temp dir; paths in `exec` get mode 755. */
function project(files: Record<string, string>, exec: string[] = []): string {
  const root = tmp();
  for (const [p, body] of Object.entries(files)) {
    const abs = path.join(root, p);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, body);
    fs.chmodSync(abs, exec.includes(p) ? 0o755 : 0o644);
  }
  return root;
}

const EXEC = '#!/bin/sh\necho \'{"status":"PASS"}\'\n';
const lines = (...ls: string[]) => `${ls.join('\n')}\n`;
const load = (root: string) => loadProject(path.join(root, 'interlock.yaml'));
const formatted = (p: LoadedProject) => p.diagnostics.map(formatDiagnostic);
const errors = (p: LoadedProject) => p.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
const warnings = (p: LoadedProject) => p.diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);

const ARCHETYPE = lines(
  'name: batch',
  'requiredTraits:',
  '  - type: source-freshness',
  '    defaultConfig: { maxLagSeconds: 300, source: default }',
  '    defaultTtl: 300',
  '    defaultTimeout: 30',
  '  - type: upstream-dependency',
  'optionalTraits:',
  '  - type: schema-contract',
  '    defaultTimeout: 5',
  '  - type: row-count',
);

describe('loadProject: the seed examples', () => {
  it('loads the seed interlock.yaml, archetype and pipeline with no errors (one warning: a trait without an evaluator)', () => {
    const root = tmp();
    fs.cpSync(SEED, root, { recursive: true });
    fs.chmodSync(path.join(root, 'evaluators', 'check-sales-freshness'), 0o755);
    const p = load(root);
    expect(formatted(p)).toEqual([
      "pipelines/daily-sales-rollup.yaml:6:3 warning: traits: required trait 'upstream-dependency' has no evaluator: it always fails (NO_EVALUATOR), so this pipeline can never be READY; set traits.upstream-dependency.evaluator",
    ]);
    expect(p.root).toBe(root);
    expect(p.configFile).toBe(path.join(root, 'interlock.yaml'));
    expect(p.config).toEqual({
      provider: 'redis',
      sqlite: { path: path.join(root, '.interlock', 'state.db') },
      redis: { addr: 'localhost:6379', keyPrefix: 'interlock:', connectTimeout: 5 },
      postgres: { schema: 'interlock', poolSize: 10, connectTimeout: 5 },
      retention: { decisions: 30 * 86_400, runs: 90 * 86_400, windows: 90 * 86_400 },
      server: { addr: ':3000' },
      archetypeDirs: [path.join(root, 'archetypes')],
      calendarDirs: [path.join(root, 'calendars')],
      timezone: 'UTC',
      watcher: { enabled: true, sweep: '60s' },
      evaluatorDirs: [path.join(root, 'evaluators')],
      pipelineDirs: [path.join(root, 'pipelines')],
      alerts: {
        repeatAfterSeconds: 3600,
        timeoutSeconds: 5,
        sinks: [
          { type: 'console' },
          { type: 'webhook', url: 'http://localhost:8080/alerts', timeout: 2, retries: 2 },
          { type: 'file', path: path.join(root, 'alerts.log') },
        ],
      },
    });
    expect(p.archetypes.get('batch-ingestion')).toMatchObject({
      file: 'archetypes/batch-ingestion.yaml',
      readinessRule: { type: 'all-required-pass' },
      optionalTraits: [{ type: 'schema-contract' }],
    });
    expect(p.pipelines.get('daily-sales-rollup')).toEqual({
      name: 'daily-sales-rollup',
      archetype: 'batch-ingestion',
      tier: 2,
      source: 'pipelines/daily-sales-rollup.yaml',
      readinessRule: { type: 'all-required-pass' },
      trigger: { type: 'command', command: 'python scripts/run_pipeline.py' },
      traits: [
        {
          type: 'source-freshness',
          description: 'Source data is recent enough',
          required: true,
          evaluator: path.join(root, 'evaluators', 'check-sales-freshness'),
          evaluatorRef: './evaluators/check-sales-freshness',
          config: { maxLagSeconds: 60, source: 'sales_events' },
          ttlSeconds: 120,
          timeoutSeconds: 15,
        },
        {
          type: 'upstream-dependency',
          description: 'Upstream pipelines completed',
          required: true,
          config: {},
          ttlSeconds: 600,
          timeoutSeconds: 60,
        },
      ],
    });
    expect(() => assertValid(p)).not.toThrow();
  });

  it('loads the starter archetypes and example pipeline (runtime templates) clean', () => {
    const root = tmp();
    for (const d of ['archetypes', 'pipelines', 'evaluators']) {
      fs.cpSync(path.join(TEMPLATES, d), path.join(root, d), { recursive: true });
    }
    fs.writeFileSync(path.join(root, 'interlock.yaml'), 'provider: memory\n');
    const p = load(root);
    expect(formatted(p)).toEqual([]);
    expect([...p.archetypes.keys()].sort()).toEqual(['batch-ingestion', 'ml-feature-pipeline', 'streaming-enrichment']);
    expect(p.archetypes.get('batch-ingestion')?.requiredTraits.map((t) => t.type)).toEqual([
      'source-freshness',
      'upstream-dependency',
      'resource-availability',
    ]);
    expect(p.archetypes.get('ml-feature-pipeline')?.requiredTraits.map((t) => t.type)).toContain('model-registry');
    expect(p.archetypes.get('streaming-enrichment')?.requiredTraits.map((t) => t.type)).toContain('enrichment-source');
    expect(p.pipelines.size).toBeGreaterThan(0);
  });
});

describe('loadProject: defaults and paths', () => {
  it('applies defaults and resolves every path against the directory of interlock.yaml', () => {
    const root = project({
      'interlock.yaml': lines('alerts:', '  - type: file', '    path: logs/alerts.log'),
      'logs/.keep': '',
      'archetypes/batch.yaml': 'name: batch\nrequiredTraits: [{type: t}]\n',
      'pipelines/p.yaml': lines('name: p', 'archetype: batch', 'trigger:', '  type: http', '  url: http://x/run'),
    });
    const p = load(root);
    expect(errors(p)).toEqual([]);
    expect(p.config).toEqual({
      provider: 'sqlite',
      sqlite: { path: path.join(root, '.interlock', 'state.db') },
      redis: { addr: 'localhost:6379', keyPrefix: 'interlock:', connectTimeout: 5 },
      postgres: { schema: 'interlock', poolSize: 10, connectTimeout: 5 },
      retention: { decisions: 30 * 86_400, runs: 90 * 86_400, windows: 90 * 86_400 },
      server: { addr: '127.0.0.1:3000' },
      archetypeDirs: [path.join(root, 'archetypes')],
      calendarDirs: [path.join(root, 'calendars')],
      timezone: 'UTC',
      watcher: { enabled: true, sweep: '60s' },
      evaluatorDirs: [path.join(root, 'evaluators')],
      pipelineDirs: [path.join(root, 'pipelines')],
      alerts: {
        repeatAfterSeconds: 3600,
        timeoutSeconds: 5,
        sinks: [{ type: 'file', path: path.join(root, 'logs', 'alerts.log') }],
      },
    });
    expect(p.archetypes.get('batch')).toEqual({
      name: 'batch',
      requiredTraits: [{ type: 't' }],
      optionalTraits: [],
      readinessRule: { type: 'all-required-pass' },
      file: 'archetypes/batch.yaml',
    });
    const spec = p.pipelines.get('p');
    expect(spec?.trigger).toEqual({ type: 'http', method: 'POST', url: 'http://x/run' });
    expect(spec?.traits).toEqual([{ type: 't', required: true, config: {}, timeoutSeconds: 30 }]);
  });

  it('resolves relative paths from the config dir, not from the cwd', () => {
    const root = project(
      {
        'interlock.yaml': lines(
          'sqlite: { path: state/db.sqlite }',
          'archetypeDirs: [conf/archetypes]',
          'pipelineDirs: [conf/pipelines]',
          'evaluatorDirs: [bin]',
        ),
        'conf/archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: t}, {type: u}]\n',
        'conf/pipelines/p.yaml': lines(
          'name: p',
          'archetype: a',
          'traits:',
          '  t: { evaluator: check-t }',
          '  u: { evaluator: bin/check-u }',
        ),
        'bin/check-t': EXEC,
        'bin/check-u': EXEC,
        'deep/er/dir/.keep': '',
      },
      ['bin/check-t', 'bin/check-u'],
    );
    const before = process.cwd();
    process.chdir(path.join(root, 'deep', 'er', 'dir'));
    try {
      const p = loadProject(findConfigFile('.'));
      expect(formatted(p)).toEqual([]);
      expect(p.config.sqlite.path).toBe(path.join(root, 'state', 'db.sqlite'));
      expect(p.config.archetypeDirs).toEqual([path.join(root, 'conf', 'archetypes')]);
      expect(p.pipelines.get('p')?.traits.map((t) => t.evaluator)).toEqual([
        path.join(root, 'bin', 'check-t'),
        path.join(root, 'bin', 'check-u'),
      ]);
      expect(p.pipelines.get('p')?.source).toBe('conf/pipelines/p.yaml');
    } finally {
      process.chdir(before);
    }
  });
});

describe('loadProject: trait resolution', () => {
  it('orders required traits by archetype, then the listed optional ones, merging config, ttl and timeout', () => {
    const root = project(
      {
        'interlock.yaml': '{}\n',
        'archetypes/batch.yaml': ARCHETYPE,
        'pipelines/p.yaml': lines(
          'name: p',
          'archetype: batch',
          'traits:',
          '  row-count: { evaluator: count, config: { min: 10 } }', // optional, listed first in the file
          '  source-freshness:',
          '    evaluator: fresh',
          '    config: { maxLagSeconds: 60 }',
          '    ttl: 120',
        ),
        'evaluators/count': EXEC,
        'evaluators/fresh': EXEC,
      },
      ['evaluators/count', 'evaluators/fresh'],
    );
    const p = load(root);
    expect(errors(p)).toEqual([]);
    const traits = p.pipelines.get('p')?.traits ?? [];
    expect(traits.map((t) => [t.type, t.required])).toEqual([
      ['source-freshness', true],
      ['upstream-dependency', true],
      ['row-count', false],
    ]);
    expect(traits[0]).toMatchObject({
      config: { maxLagSeconds: 60, source: 'default' },
      ttlSeconds: 120,
      timeoutSeconds: 30,
      evaluator: path.join(root, 'evaluators', 'fresh'),
      evaluatorRef: 'fresh',
    });
    expect(traits[1]).toEqual({ type: 'upstream-dependency', required: true, config: {}, timeoutSeconds: 30 });
    expect(traits[2]).toMatchObject({ config: { min: 10 }, timeoutSeconds: 30 });
  });

  it('looks bare evaluator names up in each evaluatorDir in order, else points into the first', () => {
    const root = project(
      {
        'interlock.yaml': 'evaluatorDirs: [first, second]\n',
        'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}, {type: y}, {type: z}]\n',
        'pipelines/p.yaml': lines(
          'name: p',
          'archetype: a',
          'traits:',
          '  x: { evaluator: both }',
          '  y: { evaluator: only-second }',
          '  z: { evaluator: nowhere }',
        ),
        'first/both': EXEC,
        'second/both': EXEC,
        'second/only-second': EXEC,
      },
      ['first/both', 'second/both', 'second/only-second'],
    );
    const p = load(root);
    expect(p.pipelines.get('p')?.traits.map((t) => t.evaluator)).toEqual([
      path.join(root, 'first', 'both'),
      path.join(root, 'second', 'only-second'),
      path.join(root, 'first', 'nowhere'),
    ]);
    expect(formatted(p)).toEqual([
      "pipelines/p.yaml:6:19 warning: traits.z.evaluator: evaluator 'nowhere' not found (looked for first/nowhere)",
    ]);
  });

  it('copies the archetype readiness rule into the spec', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/a.yaml': lines(
        'name: a',
        'requiredTraits: [{type: x}, {type: y}, {type: z}]',
        'readinessRule: { type: majority-pass, threshold: 0.6 }',
      ),
      'pipelines/p.yaml': 'name: p\narchetype: a\n',
    });
    const p = load(root);
    expect(errors(p)).toEqual([]);
    expect(p.pipelines.get('p')?.readinessRule).toEqual({ type: 'majority-pass', threshold: 0.6 });
  });
});

describe('loadProject: durations', () => {
  it('reads every duration field as seconds, written as a number or as 90s, 15m, 2h, 1d, 1h30m', () => {
    const root = project(
      {
        'interlock.yaml': lines('redis: { connectTimeout: 10s }', 'alerts: { repeatAfter: 2h }'),
        'archetypes/a.yaml': lines(
          'name: a',
          'requiredTraits:',
          '  - { type: t1, defaultTtl: 1d, defaultTimeout: 1h30m }',
          '  - { type: t2, defaultTtl: 90, defaultTimeout: 45s }',
        ),
        'pipelines/p.yaml': lines(
          'name: p',
          'archetype: a',
          'traits:',
          '  t1: { evaluator: ./e }',
          '  t2: { evaluator: ./e, ttl: 15m, timeout: 90s }',
          'trigger: { type: command, command: "true", timeout: 2h, maxRunSeconds: 1d }',
        ),
        e: EXEC,
      },
      ['e'],
    );
    const p = load(root);
    expect(formatted(p)).toEqual([]);
    expect(p.config.redis.connectTimeout).toBe(10);
    expect(p.config.alerts.repeatAfterSeconds).toBe(7200);
    const spec = p.pipelines.get('p');
    expect(spec?.traits.map((t) => [t.type, t.ttlSeconds, t.timeoutSeconds])).toEqual([
      ['t1', 86_400, 5400],
      ['t2', 900, 90],
    ]);
    expect(spec?.trigger).toMatchObject({ timeout: 7200, maxRunSeconds: 86_400 });
  });

  it('refuses other spellings, naming the accepted forms', () => {
    const root = project({
      'interlock.yaml': lines('redis: { connectTimeout: 10 seconds }'),
      'archetypes/a.yaml': lines('name: a', 'requiredTraits:', '  - { type: t1, defaultTtl: 1.5h }'),
      'pipelines/p.yaml': lines(
        'name: p',
        'archetype: a',
        'trigger: { type: command, command: "true", timeout: 30m1h }',
      ),
    });
    const forms = 'a number of seconds (90) or a string like 90s, 15m, 2h, 1d or 1h30m';
    expect(errors(load(root))).toEqual([
      `interlock.yaml:1:26 redis.connectTimeout: expected a positive duration: ${forms}`,
      `archetypes/a.yaml:3:29 requiredTraits.0.defaultTtl: expected a positive duration: ${forms}`,
      `pipelines/p.yaml:3:53 trigger.timeout: expected a positive duration: ${forms}`,
    ]);
  });
});

describe('loadProject: positioned structural errors', () => {
  it("reports a typo'd key at the key with a suggestion", () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/batch.yaml': ARCHETYPE,
      'pipelines/sales.yaml': lines(
        'name: sales',
        'archetype: batch',
        'traits:',
        '  source-freshness:',
        '    config:',
        '      maxLagSeconds: 60',
        '    timout: 15',
      ),
    });
    const p = load(root);
    expect(errors(p)).toEqual([
      "pipelines/sales.yaml:7:5 traits.source-freshness.timout: unknown key 'timout' (did you mean 'timeout'?)",
    ]);
    expect(p.pipelines.has('sales')).toBe(false);
  });

  it('reports a non-positive timeout at the value', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/batch.yaml': ARCHETYPE,
      'pipelines/sales.yaml': lines(
        'name: sales',
        'archetype: batch',
        'traits:',
        '  source-freshness:',
        '    timeout:   -1',
      ),
    });
    expect(errors(load(root))).toEqual([
      'pipelines/sales.yaml:5:16 traits.source-freshness.timeout: expected a positive duration: a number of seconds (90) or a string like 90s, 15m, 2h, 1d or 1h30m',
    ]);
  });

  it('reports a number written as a string', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/batch.yaml': ARCHETYPE,
      'pipelines/sales.yaml': lines('name: sales', 'archetype: batch', 'traits:', '  source-freshness: { ttl: "30" }'),
    });
    expect(errors(load(root))).toEqual([
      'pipelines/sales.yaml:4:28 traits.source-freshness.ttl: expected a positive duration: a number of seconds (90) or a string like 90s, 15m, 2h, 1d or 1h30m',
    ]);
  });

  it('reports a YAML syntax error with its line:col', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/batch.yaml': ARCHETYPE,
      'pipelines/broken.yaml': lines(
        'name: broken',
        'archetype: batch',
        'traits:',
        '  source-freshness:',
        '   bad: [1, 2',
      ),
    });
    const p = load(root);
    expect(p.diagnostics).toHaveLength(1);
    expect(p.diagnostics[0]).toMatchObject({ file: 'pipelines/broken.yaml', line: 6, col: 1, severity: 'error' });
    expect(p.pipelines.size).toBe(0);
  });

  it('reports every error in every file, structural before semantic', () => {
    const root = project({
      'interlock.yaml': lines('provider: mongodb', 'server:', '  adr: ":3000"'),
      'archetypes/a.yaml': lines('name: a', 'requiredTraits:', '  - type: x', '    defaultTtl: 0'),
      'archetypes/b.yaml': lines('name: b', 'requiredTraits: [{type: x}]'),
      'pipelines/1.yaml': lines('name: one', 'archetype: nope'),
      'pipelines/2.yaml': lines('name: two', 'archetype: b', 'tier: "1"'),
      'pipelines/3.yaml': '',
      'pipelines/4.yaml': lines('name: four', 'archetype: b', 'traits:', '  y: {}'),
    });
    const p = load(root);
    expect(errors(p)).toEqual([
      'interlock.yaml:1:11 provider: expected one of: sqlite, redis, postgres, memory',
      "interlock.yaml:3:3 server.adr: unknown key 'adr' (did you mean 'addr'?)",
      'archetypes/a.yaml:4:17 requiredTraits.0.defaultTtl: expected a positive duration: a number of seconds (90) or a string like 90s, 15m, 2h, 1d or 1h30m',
      'pipelines/2.yaml:3:7 tier: expected a non-negative integer',
      'pipelines/3.yaml:1:1 file is empty (expected a mapping)',
      "pipelines/1.yaml:2:12 archetype: unknown archetype 'nope' (known: a, b)",
      "pipelines/4.yaml:4:3 traits.y: trait 'y' is not declared by archetype 'b' (declared: x)",
    ]);
    expect(() => assertValid(p)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: '7 config errors' }),
    );
    expect(p.archetypes.has('b')).toBe(true);
    expect(p.pipelines.size).toBe(0);
  });

  it('still loads archetypes and pipelines when interlock.yaml has errors elsewhere', () => {
    const root = project({
      'interlock.yaml': lines('pipelineDirs: [defs]', 'alerts: [{type: teams}]'),
      'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}]\n',
      'defs/p.yaml': 'name: p\narchetype: a\n',
    });
    const p = load(root);
    expect(errors(p)).toEqual([
      'interlock.yaml:2:17 alerts.0.type: expected one of: console, webhook, file, slack, pagerduty',
    ]);
    expect(p.config.pipelineDirs).toEqual([path.join(root, 'defs')]);
    expect(p.config.alerts).toEqual({ repeatAfterSeconds: 3600, timeoutSeconds: 5, sinks: [] });
    expect([...p.pipelines.keys()]).toEqual(['p']);
  });

  it('says so when interlock.yaml is empty', () => {
    const root = project({ 'interlock.yaml': '', 'archetypes/.keep': '', 'pipelines/.keep': '' });
    expect(formatted(load(root))).toEqual(['interlock.yaml:1:1 file is empty (expected a mapping)']);
  });
});

describe('loadProject: semantic rules', () => {
  it('rejects a duplicate archetype name, naming the first file', () => {
    const root = project(
      {
        'interlock.yaml': '{}\n',
        'archetypes/a.yaml': 'name: batch\nrequiredTraits: [{type: x}]\n',
        'archetypes/b.yml': '# copy\nname:   batch\nrequiredTraits: [{type: y}]\n',
        'pipelines/p.yaml': 'name: p\narchetype: batch\ntraits: { x: { evaluator: ./e } }\n',
        e: EXEC,
      },
      ['e'],
    );
    const p = load(root);
    expect(formatted(p)).toEqual([
      "archetypes/b.yml:2:9 name: duplicate archetype name 'batch' (also defined in archetypes/a.yaml:1:7)",
    ]);
    // Which definition was meant is unknown: the pipelines using the name are INVALID (fail closed).
    expect(p.archetypes.has('batch')).toBe(false);
    expect(p.pipelines.has('p')).toBe(false);
    expect(p.invalid.get('p')?.problems).toEqual([expect.objectContaining({ file: 'archetypes/b.yml', path: 'name' })]);
  });

  it('rejects a duplicate pipeline name across files and dirs, naming both files', () => {
    const root = project({
      'interlock.yaml': 'pipelineDirs: [pipelines, more]\n',
      'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}]\n',
      'pipelines/a.yaml': 'name: x\narchetype: a\n',
      'more/b.yaml': 'archetype: a\nname: x\n',
    });
    const p = load(root);
    expect(errors(p)).toEqual([
      "more/b.yaml:2:7 name: duplicate pipeline name 'x' (also defined in pipelines/a.yaml:1:7)",
    ]);
    // Two definitions of one name: neither is trusted (fail closed), both files are named.
    expect(p.pipelines.has('x')).toBe(false);
    expect(p.invalid.get('x')).toMatchObject({ status: 'INVALID', source: 'pipelines/a.yaml, more/b.yaml' });
    expect(p.invalidFiles).toEqual(['more/b.yaml']);
  });

  it('finds a duplicate pipeline name even when the first file has other errors', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}]\n',
      'pipelines/a.yaml': 'name: x\narchetype: a\ntier: -1\n',
      'pipelines/b.yaml': 'name: x\narchetype: a\n',
    });
    expect(errors(load(root))).toEqual([
      'pipelines/a.yaml:3:7 tier: expected a non-negative integer',
      "pipelines/b.yaml:1:7 name: duplicate pipeline name 'x' (also defined in pipelines/a.yaml:1:7)",
    ]);
  });

  it('lists the known archetypes for an unknown one', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/1.yaml': 'name: zeta\nrequiredTraits: [{type: x}]\n',
      'archetypes/2.yaml': 'name: alpha\nrequiredTraits: [{type: x}]\n',
      'pipelines/p.yaml': 'name: p\narchetype: batch\n',
    });
    expect(formatted(load(root))).toEqual([
      "pipelines/p.yaml:2:12 archetype: unknown archetype 'batch' (known: alpha, zeta)",
    ]);
  });

  it('rejects a trait type declared twice in one archetype (required and optional together)', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/a.yaml': lines(
        'name: a',
        'requiredTraits:',
        '  - type: x',
        '  - type: y',
        'optionalTraits:',
        '  - type: x',
      ),
      'pipelines/p.yaml': 'name: p\narchetype: a\n',
    });
    const p = load(root);
    expect(errors(p)).toEqual([
      "archetypes/a.yaml:6:11 optionalTraits.0.type: duplicate trait type 'x' (also declared at requiredTraits.0.type, archetypes/a.yaml:3:11)",
    ]);
    expect(p.archetypes.has('a')).toBe(false);
    expect(p.pipelines.has('p')).toBe(false);
  });

  it('rejects a pipeline trait its archetype does not declare, at the key', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/batch.yaml': ARCHETYPE,
      'pipelines/p.yaml': lines(
        'name: p',
        'archetype: batch',
        'traits:',
        '  source-freshnes: {}',
        '  upstream-dependency: {}',
      ),
    });
    const p = load(root);
    expect(errors(p)).toEqual([
      "pipelines/p.yaml:4:3 traits.source-freshnes: trait 'source-freshnes' is not declared by archetype 'batch' " +
        "(declared: source-freshness, upstream-dependency, schema-contract, row-count) (did you mean 'source-freshness'?)",
    ]);
    expect(p.pipelines.has('p')).toBe(false);
  });

  it('does not call an archetype that failed to load "unknown"', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/a.yaml': 'name: batch\nrequiredTraits: []\n',
      'pipelines/p.yaml': 'name: p\narchetype: batch\ntraits: { whatever: {} }\n',
    });
    const p = load(root);
    expect(formatted(p)).toEqual(['archetypes/a.yaml:2:17 requiredTraits: must not be empty']);
    expect(p.pipelines.size).toBe(0);
  });

  it('warns about an evaluator that is missing or not executable, and still loads the pipeline', () => {
    const root = project(
      {
        'interlock.yaml': '{}\n',
        'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}, {type: y}, {type: z}]\n',
        'pipelines/p.yaml': lines(
          'name: p',
          'archetype: a',
          'traits:',
          '  x: { evaluator: ./scripts/missing }',
          '  y: { evaluator: plain }',
          '  z: { evaluator: ok }',
        ),
        'evaluators/plain': EXEC,
        'evaluators/ok': EXEC,
      },
      ['evaluators/ok'],
    );
    const p = load(root);
    expect(warnings(p)).toEqual([
      "pipelines/p.yaml:4:19 warning: traits.x.evaluator: evaluator './scripts/missing' not found (looked for scripts/missing)",
      "pipelines/p.yaml:5:19 warning: traits.y.evaluator: evaluator 'plain' is not executable (chmod +x evaluators/plain)",
    ]);
    expect(errors(p)).toEqual([]);
    expect(() => assertValid(p)).not.toThrow();
    expect(p.pipelines.get('p')?.traits[0]?.evaluator).toBe(path.join(root, 'scripts', 'missing'));
  });

  it('warns about a configured directory that does not exist', () => {
    const root = project({
      'interlock.yaml': lines(
        'archetypeDirs:',
        '  - ./archetypes',
        '  - ./shared/archetypes',
        'evaluatorDirs: [./bin]',
      ),
      'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}]\n',
    });
    const p = load(root);
    expect(formatted(p)).toEqual([
      "interlock.yaml:3:5 warning: archetypeDirs.1: archetype directory './shared/archetypes' does not exist",
      "interlock.yaml:1:1 warning: pipelineDirs.0: pipeline directory './pipelines' does not exist",
      "interlock.yaml:4:17 warning: evaluatorDirs.0: evaluator directory './bin' does not exist",
    ]);
    expect(p.archetypes.has('a')).toBe(true);
  });

  it('rejects a threshold with all-required-pass (it would be silently ignored)', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/a.yaml':
        'name: a\nrequiredTraits: [{type: x}]\nreadinessRule:\n  type: all-required-pass\n  threshold: 0.5\n',
      'pipelines/.keep': '',
    });
    expect(formatted(load(root))).toEqual([
      "archetypes/a.yaml:5:14 readinessRule.threshold: threshold applies only to readiness rule 'majority-pass', not 'all-required-pass': remove it or use majority-pass",
    ]);
  });
});

describe('loadProject: one pass', () => {
  it('reports unknown keys and an unknown archetype of one pipeline together (semantic rules run on what parsed)', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/batch.yaml': ARCHETYPE,
      'pipelines/p.yaml': lines(
        'name: p',
        'archetype: btach',
        'traits:',
        '  source-freshness:',
        '    confg: { maxLagSeconds: 60 }',
        '    timout: 5',
      ),
    });
    expect(errors(load(root))).toEqual([
      "pipelines/p.yaml:5:5 traits.source-freshness.confg: unknown key 'confg' (did you mean 'config'?)",
      "pipelines/p.yaml:6:5 traits.source-freshness.timout: unknown key 'timout' (did you mean 'timeout'?)",
      "pipelines/p.yaml:2:12 archetype: unknown archetype 'btach' (known: batch)",
    ]);
  });

  it('checks traits against the archetype even when the pipeline and the archetype have structural errors', () => {
    const root = project({
      'interlock.yaml': '{}\n',
      'archetypes/a.yaml': lines('name: a', 'requiredTraits:', '  - type: x', '    defaultTtl: -1'),
      'pipelines/p.yaml': lines('name: p', 'archetype: a', 'tier: high', 'traits:', '  y: { evaluator: ./e }'),
    });
    const p = load(root);
    expect(errors(p)).toEqual([
      'archetypes/a.yaml:4:17 requiredTraits.0.defaultTtl: expected a positive duration: a number of seconds (90) or a string like 90s, 15m, 2h, 1d or 1h30m',
      'pipelines/p.yaml:3:7 tier: expected a non-negative integer',
      "pipelines/p.yaml:5:3 traits.y: trait 'y' is not declared by archetype 'a' (declared: x)",
    ]);
    expect(p.pipelines.size).toBe(0);
    expect(p.archetypes.size).toBe(0);
  });
});

describe('loadProject: checks that catch what would fail later', () => {
  it('warns about a required trait without an evaluator, naming it (NO_EVALUATOR forever)', () => {
    const root = project(
      {
        'interlock.yaml': '{}\n',
        'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}, {type: y}]\noptionalTraits: [{type: o}]\n',
        'pipelines/p.yaml': lines(
          'name: p',
          'archetype: a',
          'traits:',
          '  x: { evaluator: ./e }',
          '  y: {}',
          '  o: {}',
        ),
        e: EXEC,
      },
      ['e'],
    );
    const p = load(root);
    expect(warnings(p)).toEqual([
      "pipelines/p.yaml:5:3 warning: traits.y: required trait 'y' has no evaluator: it always fails (NO_EVALUATOR), so this pipeline can never be READY; set traits.y.evaluator",
    ]);
    expect(p.pipelines.has('p')).toBe(true);
  });

  it('rejects trigger URLs that are not http(s), a bad server.addr, and redis.db with redis.cluster', () => {
    const root = project({
      'interlock.yaml': lines('server: { addr: nonsense }', 'redis:', '  cluster: [h1:7000, h2:7000]', '  db: 2'),
      'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}]\n',
      'pipelines/1.yaml': lines('name: one', 'archetype: a', 'trigger: { type: http, url: "htp://h/x" }'),
      'pipelines/2.yaml': lines('name: two', 'archetype: a', 'trigger: { type: http, url: "127.0.0.1:18080/x" }'),
      'pipelines/3.yaml': lines('name: three', 'archetype: a', 'trigger: { type: http, url: "ftp://h/x" }'),
    });
    const url = 'expected an http:// or https:// URL (a ${VAR} at the very start may supply it)';
    expect(errors(load(root))).toEqual([
      'interlock.yaml:1:17 server.addr: expected host:port, [ipv6]:port or :port (e.g. 127.0.0.1:3000)',
      `pipelines/1.yaml:3:29 trigger.url: ${url}`,
      `pipelines/2.yaml:3:29 trigger.url: ${url}`,
      `pipelines/3.yaml:3:29 trigger.url: ${url}`,
      'interlock.yaml:4:7 redis.db: redis.db cannot be combined with redis.cluster (a Redis Cluster has only database 0): remove one',
    ]);
  });

  it('airflow triggers: loads a valid one with defaults; reports every mistake at its file:line:col', () => {
    const root = project(
      {
        'interlock.yaml': '{}\n',
        'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}]\n',
        'pipelines/ok.yaml': lines(
          'name: ok',
          'archetype: a',
          'traits: { x: { evaluator: ./e } }',
          'trigger:',
          '  type: airflow',
          '  url: https://airflow.example.com',
          '  dag: daily_sales',
          '  conf: { day: "${INTERLOCK_WINDOW_DATE}" }',
          '  auth: { bearer: "${AF_TOKEN}" }',
          '  poll: 1m',
        ),
        'pipelines/bad.yaml': lines(
          'name: bad',
          'archetype: a',
          'traits: { x: { evaluator: ./e } }',
          'trigger:',
          '  type: airflow',
          '  url: ftp://airflow',
          '  auth: { bearer: t, username: u }',
          '  apiVersion: v3',
          '  poll: soon',
          '  dagId: x',
        ),
        'pipelines/basic.yaml': lines(
          'name: basic',
          'archetype: a',
          'traits: { x: { evaluator: ./e } }',
          'trigger: { type: airflow, url: "http://af:8080", dag: d, auth: { username: svc } }',
        ),
        e: EXEC,
      },
      ['e'],
    );
    const p = loadProject(path.join(root, 'interlock.yaml'), { env: {} });
    expect(p.pipelines.get('ok')?.trigger).toEqual({
      type: 'airflow',
      url: 'https://airflow.example.com',
      dag: 'daily_sales',
      conf: { day: '${INTERLOCK_WINDOW_DATE}' },
      auth: { bearer: '${AF_TOKEN}' },
      apiVersion: 'auto',
      poll: 60,
    });
    expect(errors(p)).toEqual([
      'pipelines/bad.yaml:5:3 trigger.dag: required',
      'pipelines/bad.yaml:6:8 trigger.url: expected an http:// or https:// URL (a ${VAR} at the very start may supply it)',
      'pipelines/bad.yaml:7:19 trigger.auth.bearer: give either bearer or username and password, not both',
      'pipelines/bad.yaml:8:15 trigger.apiVersion: expected one of: auto, v1, v2',
      'pipelines/bad.yaml:9:9 trigger.poll: expected a positive duration: a number of seconds (90) or a string like 90s, 15m, 2h, 1d or 1h30m',
      "pipelines/bad.yaml:10:3 trigger.dagId: unknown key 'dagId' (did you mean 'dag'?)",
      'pipelines/basic.yaml:4:64 trigger.auth.password: basic auth needs a password too',
    ]);
    expect(warnings(p)).toEqual([
      'pipelines/ok.yaml:9:19 warning: trigger.auth.bearer: environment variable AF_TOKEN is not set here: `run` refuses to fire this trigger until it is set',
      "pipelines/ok.yaml:8:16 warning: trigger.conf.day: INTERLOCK_WINDOW_DATE is set only in a schedule window's runs: a manual `run` refuses to fire this trigger",
    ]);
  });

  it('databricks triggers: loads a valid one; reports a bad host, jobId, parameters and a missing token at file:line:col', () => {
    const root = project(
      {
        'interlock.yaml': '{}\n',
        'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}]\n',
        'pipelines/ok.yaml': lines(
          'name: ok',
          'archetype: a',
          'traits: { x: { evaluator: ./e } }',
          'trigger:',
          '  type: databricks',
          '  host: https://adb-123.azuredatabricks.net',
          '  jobId: 12345',
          '  parameters: { day: "${INTERLOCK_WINDOW_DATE}" }',
          '  token: "${DATABRICKS_TOKEN}"',
          '  poll: 15s',
        ),
        'pipelines/bad.yaml': lines(
          'name: bad',
          'archetype: a',
          'traits: { x: { evaluator: ./e } }',
          'trigger:',
          '  type: databricks',
          '  host: adb-123',
          '  jobId: -3',
          '  parameters: { n: 5 }',
        ),
        e: EXEC,
      },
      ['e'],
    );
    const p = loadProject(path.join(root, 'interlock.yaml'), { env: {} });
    expect(p.pipelines.get('ok')?.trigger).toEqual({
      type: 'databricks',
      host: 'https://adb-123.azuredatabricks.net',
      jobId: 12345,
      parameters: { day: '${INTERLOCK_WINDOW_DATE}' },
      token: '${DATABRICKS_TOKEN}',
      poll: 15,
    });
    expect(errors(p)).toEqual([
      'pipelines/bad.yaml:5:3 trigger.token: required',
      'pipelines/bad.yaml:6:9 trigger.host: expected an http:// or https:// URL (a ${VAR} at the very start may supply it)',
      'pipelines/bad.yaml:7:10 trigger.jobId: expected a positive integer',
      'pipelines/bad.yaml:8:20 trigger.parameters.n: expected a string, got a number (5)',
    ]);
    expect(warnings(p)).toEqual([
      'pipelines/ok.yaml:9:10 warning: trigger.token: environment variable DATABRICKS_TOKEN is not set here: `run` refuses to fire this trigger until it is set',
      "pipelines/ok.yaml:8:22 warning: trigger.parameters.day: INTERLOCK_WINDOW_DATE is set only in a schedule window's runs: a manual `run` refuses to fire this trigger",
    ]);
  });

  it('warns about ${VAR}s of an http trigger that the environment lacks, saying "empty" for VAR=', () => {
    const root = project(
      {
        'interlock.yaml': '{}\n',
        'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}]\n',
        'pipelines/p.yaml': lines(
          'name: p',
          'archetype: a',
          'traits: { x: { evaluator: ./e } }',
          'trigger:',
          '  type: http',
          '  url: "https://${AF_HOST}/api/${INTERLOCK_PIPELINE}/${AF_SET}"',
          '  headers: { Authorization: "Bearer ${AF_TOKEN}" }',
          '  body: \'{"run":"${INTERLOCK_RUN_ID}"}\'',
        ),
        e: EXEC,
      },
      ['e'],
    );
    const p = loadProject(path.join(root, 'interlock.yaml'), { env: { AF_TOKEN: '', AF_SET: 'yes' } });
    expect(warnings(p)).toEqual([
      'pipelines/p.yaml:6:8 warning: trigger.url: environment variable AF_HOST is not set here: `run` refuses to fire this trigger until it is set',
      'pipelines/p.yaml:7:29 warning: trigger.headers.Authorization: environment variable AF_TOKEN is empty here: `run` refuses to fire this trigger until it is set',
    ]);
    expect(p.pipelines.has('p')).toBe(true);
  });

  it("Interlock's run key and window variables: never missing env; a window variable warns that a manual run refuses it", () => {
    const root = project(
      {
        'interlock.yaml': '{}\n',
        'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}]\n',
        'pipelines/p.yaml': lines(
          'name: p',
          'archetype: a',
          // Window variables in an evaluator's config need no env list (they are not the environment's).
          'traits: { x: { evaluator: ./e, config: { path: "dt=${INTERLOCK_WINDOW_DATE}/${INTERLOCK_SCHEDULE}" } } }',
          'trigger:',
          '  type: http',
          '  url: "https://airflow.example/api/${INTERLOCK_WINDOW_DATE}"',
          '  body: \'{"key":"${INTERLOCK_RUN_KEY}"}\'',
        ),
        e: EXEC,
      },
      ['e'],
    );
    // The parent's environment does not count: only a window run has the window.
    const p = loadProject(path.join(root, 'interlock.yaml'), { env: { INTERLOCK_WINDOW_DATE: '1999-01-01' } });
    expect(errors(p)).toEqual([]);
    expect(warnings(p)).toEqual([
      "pipelines/p.yaml:6:8 warning: trigger.url: INTERLOCK_WINDOW_DATE is set only in a schedule window's runs: a manual `run` refuses to fire this trigger",
    ]);
    expect(p.pipelines.has('p')).toBe(true);
  });
});

describe('loadProject: blast radius', () => {
  it('an invalid pipeline file blocks only its pipeline; an invalid archetype blocks the pipelines using it', () => {
    const root = project(
      {
        'interlock.yaml': '{}\n',
        'archetypes/good.yaml': 'name: good\nrequiredTraits: [{type: x}]\n',
        'archetypes/bad.yaml': 'name: bad\nrequiredTraits: [{type: x, defaultTtl: soon}]\n',
        'pipelines/ok.yaml': 'name: ok\narchetype: good\ntraits: { x: { evaluator: ./e } }\n',
        'pipelines/typo.yaml': 'name: typo\narchetype: good\ntraits: { x: { evaluator: ./e, timout: 5 } }\n',
        'pipelines/uses-bad.yaml': 'name: uses-bad\narchetype: bad\ntraits: { x: { evaluator: ./e } }\n',
        'pipelines/broken.yaml': 'name: [unclosed\n',
        e: EXEC,
      },
      ['e'],
    );
    const p = load(root);
    expect([...p.pipelines.keys()]).toEqual(['ok']);
    expect([...p.invalid.keys()].sort()).toEqual(['typo', 'uses-bad']);
    expect(p.invalid.get('typo')).toMatchObject({
      status: 'INVALID',
      source: 'pipelines/typo.yaml',
      problems: [expect.objectContaining({ file: 'pipelines/typo.yaml', path: 'traits.x.timout' })],
    });
    expect(p.invalid.get('uses-bad')?.problems).toEqual([
      expect.objectContaining({ file: 'archetypes/bad.yaml', path: 'requiredTraits.0.defaultTtl' }),
    ]);
    expect(p.invalidFiles).toEqual(['archetypes/bad.yaml', 'pipelines/broken.yaml', 'pipelines/typo.yaml']);
    expect(() => assertUsable(p)).not.toThrow();
    expect(() => assertValid(p)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('an invalid interlock.yaml still stops everything', () => {
    const root = project({
      'interlock.yaml': 'provider: mongodb\n',
      'archetypes/a.yaml': 'name: a\nrequiredTraits: [{type: x}]\n',
      'pipelines/p.yaml': 'name: p\narchetype: a\n',
    });
    expect(() => assertUsable(load(root))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: '1 config error (interlock.yaml is invalid)' }),
    );
  });
});

describe('loadProject: alerts', () => {
  const base = { 'archetypes/.keep': '', 'pipelines/.keep': '' };

  it('accepts slack and pagerduty sinks with ${VAR} secrets, filters and server.publicUrl', () => {
    const root = project({
      ...base,
      'interlock.yaml': lines(
        'server: { publicUrl: https://interlock.example.com }',
        'alerts:',
        '  - type: slack',
        '    url: ${SLACK_WEBHOOK_URL}',
        '    minLevel: warning',
        '  - type: pagerduty',
        '    routingKey: ${PAGERDUTY_ROUTING_KEY}',
        '    kinds: [RUN_FAILED, PIPELINE_BLOCKED, PIPELINE_READY]',
      ),
    });
    const env = { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x', PAGERDUTY_ROUTING_KEY: 'k'.repeat(32) };
    const p = loadProject(path.join(root, 'interlock.yaml'), { env });
    expect(formatted(p)).toEqual([]);
    expect(p.config.server.publicUrl).toBe('https://interlock.example.com');
    expect(p.config.alerts.sinks).toEqual([
      { type: 'slack', url: '${SLACK_WEBHOOK_URL}', timeout: 2, retries: 2, minLevel: 'warning' },
      {
        type: 'pagerduty',
        routingKey: '${PAGERDUTY_ROUTING_KEY}',
        url: 'https://events.pagerduty.com/v2/enqueue',
        timeout: 2,
        retries: 2,
        kinds: ['RUN_FAILED', 'PIPELINE_BLOCKED', 'PIPELINE_READY'],
      },
    ]);
    // Unset, the secrets are warnings (validate says so; sending fails until they are set).
    const unset = loadProject(path.join(root, 'interlock.yaml'), { env: {} });
    expect(formatted(unset)).toEqual([
      'interlock.yaml:4:10 warning: alerts.0.url: environment variable SLACK_WEBHOOK_URL is not set here: alerts to this slack sink fail until it is set',
      'interlock.yaml:7:17 warning: alerts.1.routingKey: environment variable PAGERDUTY_ROUTING_KEY is not set here: alerts to this pagerduty sink fail until it is set',
    ]);
    expect(errors(unset)).toEqual([]);
  });

  it('reports bad slack / pagerduty / filter / publicUrl values at file:line:col', () => {
    const root = project({
      ...base,
      'interlock.yaml': lines(
        'server: { publicUrl: "ftp://x?y" }',
        'alerts:',
        '  - type: slack',
        '    url: http://hooks.slack.com/services/T/B/x',
        '  - type: pagerduty',
        '    routingKey: tooshort',
        '    kinds: [RUN_EXPLODED]',
        '    minLevel: loud',
        '  - type: slack',
      ),
    });
    const p = load(root);
    expect(errors(p)).toEqual([
      expect.stringMatching(/^interlock\.yaml:1:22 server\.publicUrl: expected an http\(s\) URL with no query/),
      expect.stringMatching(/^interlock\.yaml:4:10 alerts\.0\.url: expected an https:\/\/ URL, or a \$\{VAR\}/),
      expect.stringMatching(
        /^interlock\.yaml:6:17 alerts\.1\.routingKey: expected a 32-character PagerDuty integration key/,
      ),
      expect.stringMatching(/^interlock\.yaml:7:13 alerts\.1\.kinds\.0: expected one of: TRAIT_FAILED, /),
      expect.stringMatching(
        /^interlock\.yaml:8:15 alerts\.1\.minLevel: expected one of: info, warning, error, critical/,
      ),
      expect.stringMatching(/^interlock\.yaml:9:5 alerts\.2\.url: required/),
    ]);
  });

  it('normalises the mapping form, resolving file paths and keeping webhook settings', () => {
    const root = project({
      ...base,
      'interlock.yaml': lines(
        'alerts:',
        '  repeatAfter: 600',
        '  sinks:',
        '    - type: console',
        '    - type: webhook',
        '      url: https://hooks.example.com/T000/B000/secret',
        '      timeout: 0.5',
        '      retries: 0',
        '      headers: { Authorization: Bearer abc, X-Team: data }',
        '    - type: file',
        '      path: logs/alerts.jsonl',
      ),
      'logs/.keep': '',
    });
    const p = load(root);
    expect(formatted(p)).toEqual([]);
    expect(p.config.alerts).toEqual({
      repeatAfterSeconds: 600,
      timeoutSeconds: 5,
      sinks: [
        { type: 'console' },
        {
          type: 'webhook',
          url: 'https://hooks.example.com/T000/B000/secret',
          timeout: 0.5,
          retries: 0,
          headers: { Authorization: 'Bearer abc', 'X-Team': 'data' },
        },
        { type: 'file', path: path.join(root, 'logs', 'alerts.jsonl') },
      ],
    });
  });

  it('defaults repeatAfter to 3600 seconds, sinks to none, and allows 0 (repeat every time)', () => {
    const cases: Array<[string, { repeatAfterSeconds: number; timeoutSeconds: number; sinks: unknown[] }]> = [
      ['{}\n', { repeatAfterSeconds: 3600, timeoutSeconds: 5, sinks: [] }],
      ['alerts: []\n', { repeatAfterSeconds: 3600, timeoutSeconds: 5, sinks: [] }],
      ['alerts: {}\n', { repeatAfterSeconds: 3600, timeoutSeconds: 5, sinks: [] }],
      [
        'alerts: { sinks: [{ type: console }] }\n',
        { repeatAfterSeconds: 3600, timeoutSeconds: 5, sinks: [{ type: 'console' }] },
      ],
      ['alerts: { repeatAfter: 0 }\n', { repeatAfterSeconds: 0, timeoutSeconds: 5, sinks: [] }],
      ['alerts: [{ type: console }]\n', { repeatAfterSeconds: 3600, timeoutSeconds: 5, sinks: [{ type: 'console' }] }],
      ['alerts: { timeout: 0.5 }\n', { repeatAfterSeconds: 3600, timeoutSeconds: 0.5, sinks: [] }],
    ];
    for (const [yaml, expected] of cases) {
      const p = load(project({ ...base, 'interlock.yaml': yaml }));
      expect(formatted(p), yaml).toEqual([]);
      expect(p.config.alerts, yaml).toEqual(expected);
    }
  });

  it('reports structural problems in either form at file:line:col with clear messages', () => {
    const listForm = project({
      ...base,
      'interlock.yaml': lines(
        'alerts:',
        '  - type: teams',
        '  - type: webhook',
        '    retries: 1',
        '  - type: webhook',
        '    url: ftp://x',
        '    headers: { "Bad Header": x }',
        '  - url: http://x',
      ),
    });
    expect(formatted(load(listForm))).toEqual([
      'interlock.yaml:2:11 alerts.0.type: expected one of: console, webhook, file, slack, pagerduty',
      'interlock.yaml:3:5 alerts.1.url: required',
      'interlock.yaml:6:10 alerts.2.url: expected an http(s) URL',
      "interlock.yaml:7:16 alerts.2.headers.Bad Header: expected an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)",
      'interlock.yaml:8:5 alerts.3.type: required',
    ]);

    const mapForm = project({
      ...base,
      'interlock.yaml': lines(
        'alerts:',
        '  repeatAftr: 60',
        '  sinks:',
        '    - type: webhook',
        '    - type: file',
        '      path: ""',
      ),
    });
    expect(formatted(load(mapForm))).toEqual([
      "interlock.yaml:2:3 alerts.repeatAftr: unknown key 'repeatAftr' (did you mean 'repeatAfter'?)",
      'interlock.yaml:4:7 alerts.sinks.0.url: required',
      'interlock.yaml:6:13 alerts.sinks.1.path: must not be empty',
    ]);

    const negative = project({ ...base, 'interlock.yaml': 'alerts: { repeatAfter: -5 }\n' });
    expect(formatted(load(negative))).toEqual([
      'interlock.yaml:1:24 alerts.repeatAfter: expected a duration (0 allowed): a number of seconds (90) or a string like 90s, 15m, 2h, 1d or 1h30m',
    ]);

    const scalar = project({ ...base, 'interlock.yaml': 'alerts: console\n' });
    expect(formatted(load(scalar))).toEqual([
      'interlock.yaml:1:9 alerts: expected a list of alert sinks, or a mapping with sinks (and repeatAfter), got a string ("console")',
    ]);
  });

  it('rejects a file sink whose directory is missing, that is a directory, or whose parent is a file', () => {
    const root = project({
      ...base,
      'interlock.yaml': lines(
        'alerts:',
        '  sinks:',
        '    - type: file',
        '      path: missing/alerts.log',
        '    - type: file',
        '      path: ./logs',
        '    - type: file',
        '      path: plain/alerts.log',
      ),
      'logs/.keep': '',
      plain: 'a file, not a directory\n',
    });
    const p = load(root);
    expect(errors(p)).toEqual([
      "interlock.yaml:4:13 alerts.sinks.0.path: alert file 'missing/alerts.log' is not writable: directory 'missing' does not exist (ENOENT)",
      "interlock.yaml:6:13 alerts.sinks.1.path: alert file './logs' is not writable: it is a directory (EISDIR)",
      "interlock.yaml:8:13 alerts.sinks.2.path: alert file 'plain/alerts.log' is not writable: ENOTDIR",
    ]);
    expect(() => assertValid(p)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(fs.existsSync(path.join(root, 'missing'))).toBe(false);
  });

  it('accepts a writable existing file and a file that can be created, without creating or changing either', () => {
    const root = project({
      ...base,
      'interlock.yaml': lines('alerts:', '  - { type: file, path: old.log }', '  - { type: file, path: new.log }'),
      'old.log': 'line\n',
    });
    const before = fs.statSync(path.join(root, 'old.log'));
    expect(formatted(load(root))).toEqual([]);
    expect(fs.existsSync(path.join(root, 'new.log'))).toBe(false);
    const after = fs.statSync(path.join(root, 'old.log'));
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
  });

  it('rejects a read-only alert file and a read-only directory with EACCES', () => {
    const root = project({
      ...base,
      'interlock.yaml': lines(
        'alerts:',
        '  - type: file',
        '    path: ro.log',
        '  - type: file',
        '    path: ro-dir/alerts.log',
      ),
      'ro.log': '',
      'ro-dir/.keep': '',
    });
    fs.chmodSync(path.join(root, 'ro.log'), 0o444);
    fs.chmodSync(path.join(root, 'ro-dir'), 0o555);
    try {
      expect(loadUnprivileged(root)).toEqual([
        "interlock.yaml:3:11 alerts.0.path: alert file 'ro.log' is not writable: EACCES",
        "interlock.yaml:5:11 alerts.1.path: alert file 'ro-dir/alerts.log' is not writable: cannot create it in directory 'ro-dir' (EACCES)",
      ]);
    } finally {
      fs.chmodSync(path.join(root, 'ro-dir'), 0o755);
    }
  });

  it('rejects a FIFO nobody reads instead of hanging on it', () => {
    const root = project({ ...base, 'interlock.yaml': 'alerts: [{ type: file, path: pipe }]\n' });
    expect(spawnSync('mkfifo', [path.join(root, 'pipe')]).status).toBe(0);
    expect(formatted(load(root))).toEqual([
      "interlock.yaml:1:30 alerts.0.path: alert file 'pipe' is not writable: ENXIO",
    ]);
  });
});

/**
 * Diagnostics as an unprivileged user gets them. Root may write anywhere, so under root the loader runs in a child
 * process as nobody (uid 65534) — the permission check itself is what is under test, so it must not be faked.
 */
function loadUnprivileged(root: string): string[] {
  if (process.getuid?.() !== 0) return formatted(load(root));
  fs.chmodSync(root, 0o755);
  const script = path.join(root, 'load-as-nobody.mts');
  const url = (p: string) => JSON.stringify(pathToFileURL(path.join(REPO, p)).href);
  fs.writeFileSync(
    script,
    `import { loadProject } from ${url('src/config/load.ts')};\n` +
      `import { formatDiagnostic } from ${url('src/core/errors.ts')};\n` +
      'console.log(JSON.stringify(loadProject(process.argv[2]).diagnostics.map(formatDiagnostic)));\n',
  );
  fs.chmodSync(script, 0o644);
  const tsx = path.join(REPO, 'node_modules', '.bin', 'tsx');
  const r = spawnSync(tsx, [script, path.join(root, 'interlock.yaml')], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`loader as nobody failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

describe('findConfigFile', () => {
  it('finds interlock.yaml in a parent directory', () => {
    const root = project({ 'interlock.yaml': '{}\n', 'a/b/c/.keep': '' });
    expect(findConfigFile(path.join(root, 'a', 'b', 'c'))).toBe(path.join(root, 'interlock.yaml'));
    expect(findConfigFile(root)).toBe(path.join(root, 'interlock.yaml'));
  });

  it('prefers the nearest one', () => {
    const root = project({ 'interlock.yaml': '{}\n', 'sub/interlock.yaml': '{}\n', 'sub/x/.keep': '' });
    expect(findConfigFile(path.join(root, 'sub', 'x'))).toBe(path.join(root, 'sub', 'interlock.yaml'));
  });

  it('resolves an explicit path (file or directory) against startDir', () => {
    const root = project({ 'conf/other.yaml': '{}\n', 'conf/interlock.yaml': '{}\n' });
    expect(findConfigFile(root, 'conf/other.yaml')).toBe(path.join(root, 'conf', 'other.yaml'));
    expect(findConfigFile(root, 'conf')).toBe(path.join(root, 'conf', 'interlock.yaml'));
    expect(() => findConfigFile(root, 'nope.yaml')).toThrow(expect.objectContaining({ code: 'CONFIG_NOT_FOUND' }));
  });

  it('throws CONFIG_NOT_FOUND with a hint when there is none', () => {
    const dir = tmp();
    let err: unknown;
    try {
      findConfigFile(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InterlockError);
    expect((err as InterlockError).code).toBe('CONFIG_NOT_FOUND');
    expect((err as InterlockError).message).toBe(
      `no interlock.yaml found in ${dir} or its parents (use --config FILE or run 'interlock init')`,
    );
  });
});

describe('loadProject: unreadable interlock.yaml', () => {
  it('throws CONFIG_NOT_FOUND for a missing file and IO_ERROR for a directory', () => {
    const root = project({ 'dir/interlock.yaml/.keep': '' });
    expect(() => loadProject(path.join(root, 'interlock.yaml'))).toThrow(
      expect.objectContaining({ code: 'CONFIG_NOT_FOUND' }),
    );
    expect(() => loadProject(path.join(root, 'dir', 'interlock.yaml'))).toThrow(
      expect.objectContaining({ code: 'IO_ERROR' }),
    );
  });
});

describe('assertValid', () => {
  it('attaches every diagnostic to CONFIG_INVALID', () => {
    const root = project({ 'interlock.yaml': 'provider: nope\n', 'archetypes/.keep': '', 'pipelines/.keep': '' });
    const p = load(root);
    try {
      assertValid(p);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InterlockError);
      const err = e as InterlockError;
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toBe('1 config error');
      expect(err.context.diagnostics).toEqual(p.diagnostics);
    }
  });
});

describe('provider: postgres', () => {
  it('loads the postgres block with its defaults; no url, a bad url or a bad schema are errors at file:line:col', () => {
    const ok = load(project({ 'interlock.yaml': lines('provider: postgres', 'postgres:', '  url: postgres://h/db') }));
    expect(errors(ok)).toEqual([]);
    expect(ok.config.postgres).toEqual({
      url: 'postgres://h/db',
      schema: 'interlock',
      poolSize: 10,
      connectTimeout: 5,
    });
    expect(errors(load(project({ 'interlock.yaml': lines('provider: postgres') })))).toEqual([
      'interlock.yaml:1:11 provider: provider: postgres needs postgres.url (a postgres:// URL, e.g. "${DATABASE_URL}")',
    ]);
    const bad = load(
      project({
        'interlock.yaml': lines(
          'provider: postgres',
          'postgres:',
          '  url: mysql://h/db',
          '  schema: Bad-Name',
          '  poolSize: 0',
        ),
      }),
    );
    expect(errors(bad).join('\n')).toMatch(/postgres\.schema: expected a schema name/);
    expect(errors(bad).join('\n')).toMatch(/postgres\.poolSize: expected a positive integer/);
  });

  it('a ${VAR} in postgres.url that is not set is a warning (the store cannot open until it is set)', () => {
    const root = project({ 'interlock.yaml': lines('provider: postgres', 'postgres:', '  url: "${PG_TEST_NOPE}"') });
    const p = loadProject(path.join(root, 'interlock.yaml'), { env: {} });
    expect(errors(p)).toEqual([]);
    const pgWarnings = (x: LoadedProject) => warnings(x).filter((w) => w.includes('postgres'));
    expect(pgWarnings(p)).toEqual([
      'interlock.yaml:3:8 warning: postgres.url: environment variable PG_TEST_NOPE is not set here: the store cannot open until it is set',
    ]);
    expect(
      pgWarnings(loadProject(path.join(root, 'interlock.yaml'), { env: { PG_TEST_NOPE: 'postgres://h/d' } })),
    ).toEqual([]);
  });
});
