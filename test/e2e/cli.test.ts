// End-to-end: the BUILT CLI's commands as a user runs them — init, the README quick start, status, history,
// validate, add-pipeline, usage errors, config discovery, EPIPE, colours, and failing closed on store errors.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in trigger specs are tested here.

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, type TestContext, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ANSI, json, show, stripAnsi } from '../support/cli-output.js';
import { writeFiles } from '../support/files.js';
import { minimalProject } from '../support/minimal-project.js';
import { BIN, REPO } from '../support/paths.js';
import { sleep } from '../support/poll.js';
import { cli, cliClosingStdout, sh } from '../support/run-cli.js';
import { tempDirFor } from '../support/test-cleanups.js';

// Each test here runs the built CLI several times, and the describe blocks run their tests concurrently: on two
// cores shared with the other test files, 30 s is not enough for a test of eight CLI runs. Nothing here asserts speed.
vi.setConfig({ testTimeout: 90_000 });

const tmp = (ctx: TestContext): string => tempDirFor(ctx, 'interlock-e2e-cli-');

/** `interlock init demo` in a fresh temp dir; returns the project dir. */
async function initDemo(ctx: TestContext, extra: string[] = []): Promise<string> {
  const parent = tmp(ctx);
  const r = await cli(['init', 'demo', ...extra], { cwd: parent });
  expect(r.code, show(r)).toBe(0);
  return join(parent, 'demo');
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? listFiles(p, base) : [relative(base, p)];
  });
}

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('init', () => {
  it('init demo → evaluate example READY; init again refuses (exit 2); --force rewrites the files', async (ctx) => {
    const parent = tmp(ctx);
    const r = await cli(['init', 'demo'], { cwd: parent });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/Created Interlock project in demo \(sqlite store\)/);
    const demo = join(parent, 'demo');
    for (const f of ['interlock.yaml', 'pipelines/example.yaml', 'archetypes/batch-ingestion.yaml']) {
      expect(existsSync(join(demo, f)), f).toBe(true);
    }
    for (const e of readdirSync(join(demo, 'evaluators'))) {
      expect(statSync(join(demo, 'evaluators', e)).mode & 0o111, e).not.toBe(0);
    }

    const ev = await cli(['evaluate', 'example'], { cwd: demo });
    expect(ev.code, show(ev)).toBe(0);
    expect(ev.stdout.trimEnd().split('\n').at(-1)).toBe('READY');
    expect(ev.stdout).toMatch(/^example \(batch-ingestion, 3 traits\)$/m);
    expect(existsSync(join(demo, '.interlock', 'state.db'))).toBe(true);

    const pipelineFile = join(demo, 'pipelines', 'example.yaml');
    const original = readFileSync(pipelineFile, 'utf8');
    writeFileSync(pipelineFile, 'name: example\narchetype: broken-on-purpose\n');

    const again = await cli(['init', 'demo'], { cwd: parent });
    expect(again.code, show(again)).toBe(2);
    expect(again.stderr).toMatch(/already contains/);
    expect(readFileSync(pipelineFile, 'utf8')).toBe('name: example\narchetype: broken-on-purpose\n');

    const forced = await cli(['init', 'demo', '--force'], { cwd: parent });
    expect(forced.code, show(forced)).toBe(0);
    expect(readFileSync(pipelineFile, 'utf8')).toBe(original);
    const ev2 = await cli(['evaluate', 'example', '--json'], { cwd: demo });
    expect(ev2.code, show(ev2)).toBe(0);
    expect(json(ev2).outcome).toBe('READY');
  });

  it('every YAML file starts with a yaml-language-server $schema line whose schema exists', async (ctx) => {
    const demo = await initDemo(ctx);
    const yamls = listFiles(demo).filter((f) => f.endsWith('.yaml'));
    expect(yamls.length).toBeGreaterThanOrEqual(5);
    for (const f of yamls) {
      const first = readFileSync(join(demo, f), 'utf8').split('\n')[0];
      const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      expect(m, `${f}: first line is ${JSON.stringify(first)}`).not.toBeNull();
      const schema = resolve(dirname(join(demo, f)), m![1]);
      expect(existsSync(schema), `${f} → ${schema}`).toBe(true);
      const parsed = JSON.parse(readFileSync(schema, 'utf8'));
      expect(typeof parsed).toBe('object');
      const kind = f === 'interlock.yaml' ? 'interlock' : f.startsWith('archetypes/') ? 'archetype' : 'pipeline';
      expect(schema.endsWith(`${kind}.schema.json`), `${f} → ${schema}`).toBe(true);
    }
  });

  it('--provider redis writes a redis block (and validates); Redis unreachable → evaluate exits 3, never READY', async (ctx) => {
    const demo = await initDemo(ctx, ['--provider', 'redis']);
    const cfgFile = join(demo, 'interlock.yaml');
    const text = readFileSync(cfgFile, 'utf8');
    const cfg = parseYaml(text);
    expect(cfg.provider).toBe('redis');
    expect(cfg.redis).toMatchObject({ addr: expect.stringMatching(/:6379$/) });
    expect(cfg.sqlite).toBeUndefined();

    const v = await cli(['validate'], { cwd: demo });
    expect(v.code, show(v)).toBe(0);

    // Never touch a Redis that may be running on this machine: point the project at a closed port, and give up
    // after 1 s (README: unreachable at start → exit 3 with "cannot reach redis at <addr>" within connectTimeout).
    writeFileSync(
      cfgFile,
      text.replace(cfg.redis.addr, '127.0.0.1:1').replace(/^redis:\n/m, 'redis:\n  connectTimeout: 1\n'),
    );
    expect(parseYaml(readFileSync(cfgFile, 'utf8')).redis).toMatchObject({ addr: '127.0.0.1:1', connectTimeout: 1 });
    const [ev, j] = await Promise.all([
      cli(['evaluate', 'example'], { cwd: demo }),
      cli(['evaluate', 'example', '--json'], { cwd: demo }),
    ]);
    expect(ev.code, show(ev)).toBe(3);
    expect(ev.stderr).toMatch(/cannot reach redis at 127\.0\.0\.1:1/);
    expect(ev.stdout).not.toMatch(/READY/);
    expect(j.code, show(j)).toBe(3);
    expect(json(j).error.code).toBe('STORE_UNAVAILABLE');
    expect(json(j).error.message).toMatch(/redis/i);
    expect(json(j).outcome).toBeUndefined();
  });

  it('--start-valkey without a Docker engine still creates the project, exits 0 and says how to start one', async (ctx) => {
    const parent = tmp(ctx);
    // Point any docker CLI at a socket that does not exist: no engine answers on any machine.
    const r = await cli(['init', 'demo', '--start-valkey'], {
      cwd: parent,
      env: { DOCKER_HOST: 'unix:///nonexistent/interlock-test/docker.sock' },
    });
    expect(r.code, show(r)).toBe(0);
    expect(existsSync(join(parent, 'demo', 'interlock.yaml'))).toBe(true);
    expect(r.stdout).toMatch(/Valkey: .*no Docker engine/i);
    expect(r.stdout).toMatch(/docker run .*valkey/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('README quick start', () => {
  it('runs exactly as written (after npm ci && npm run build) and ends READY', async (ctx) => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = readme.split(/^## Quick start\s*$/m)[1]?.split(/^## /m)[0];
    expect(section, 'README has a "## Quick start" section').toBeTruthy();
    const block = /```bash\n([\s\S]*?)\n```/.exec(section!)?.[1]?.trim();
    expect(block, 'Quick start has a fenced bash block').toBeTruthy();
    expect(block!.split('\n')).toHaveLength(1);
    const prefix = 'npm ci && npm run build && ';
    expect(block!.startsWith(prefix), block).toBe(true);
    const rest = block!.slice(prefix.length);

    const dir = tmp(ctx);
    symlinkSync(join(REPO, 'bin'), join(dir, 'bin'));
    const r = await sh(rest, { cwd: dir });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^example \(batch-ingestion, 3 traits\)$/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('READY');
    expect(existsSync(join(dir, 'demo', '.interlock', 'state.db'))).toBe(true);

    // The follow-up the README describes: remove the marker → NOT_READY, blocked by upstream-dependency, exit 1.
    const follow = await sh('rm data/upstream/_SUCCESS && ../bin/interlock evaluate example', {
      cwd: join(dir, 'demo'),
    });
    expect(follow.code, show(follow)).toBe(1);
    expect(follow.stdout).toMatch(/^NOT_READY$/m);
    expect(follow.stdout).toMatch(/^ {2}blocked by upstream-dependency: /m);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('status', () => {
  it('table, detail, blocked detail (exit 1) and --json', async (ctx) => {
    const demo = await initDemo(ctx);
    expect((await cli(['evaluate', 'example'], { cwd: demo })).code).toBe(0);

    const table = await cli(['status'], { cwd: demo });
    expect(table.code, show(table)).toBe(0);
    const [head, row, ...more] = table.stdout.trimEnd().split('\n');
    expect(head).toMatch(/^PIPELINE\s+READINESS\s+TRAITS\s+LAST EVALUATED\b.*\bBLOCKING$/);
    expect(row).toMatch(/^example\s+READY\s+3\/3 pass\s+\S+ ago\b/);
    expect(row).not.toMatch(/upstream-dependency|STALE|FAIL/);
    expect(more).toEqual([]);

    const det = await cli(['status', 'example'], { cwd: demo });
    expect(det.code, show(det)).toBe(0);
    expect(det.stdout).toMatch(/^example \(batch-ingestion, tier 2, pipelines\/example\.yaml\)$/m);
    expect(det.stdout).toMatch(/last evaluated .*: READY$/m);
    for (const t of ['source-freshness', 'upstream-dependency', 'resource-availability']) {
      expect(det.stdout).toMatch(new RegExp(`^  PASS  ${t} +ttl \\S+`, 'm'));
    }
    expect(det.stdout.trimEnd().split('\n').at(-1)).toBe('READY');

    rmSync(join(demo, 'data', 'upstream', '_SUCCESS'));
    const ev = await cli(['evaluate', 'example'], { cwd: demo });
    expect(ev.code, show(ev)).toBe(1);

    const blocked = await cli(['status', 'example'], { cwd: demo });
    expect(blocked.code, show(blocked)).toBe(1);
    expect(blocked.stdout).toMatch(/^NOT_READY$/m);
    expect(blocked.stdout).toMatch(/^ {2}blocked by upstream-dependency: .*\[EVALUATOR_FAIL\]$/m);
    expect(blocked.stdout).toMatch(/^ {2}FAIL {2}upstream-dependency /m);

    // The table is informational: exit 0 even though a pipeline is blocked.
    const table2 = await cli(['status'], { cwd: demo });
    expect(table2.code, show(table2)).toBe(0);
    expect(table2.stdout).toMatch(/^example\s+NOT_READY\s+2\/3 pass\s+\S+ ago\b.*upstream-dependency: /m);

    const all = await cli(['status', '--json'], { cwd: demo });
    expect(all.code, show(all)).toBe(0);
    const arr = json(all);
    expect(Array.isArray(arr)).toBe(true);
    expect(arr).toHaveLength(1);
    expect(arr[0]).toMatchObject({ pipeline: 'example', archetype: 'batch-ingestion', outcome: 'NOT_READY' });
    expect(arr[0].lastOutcome).toBe('NOT_READY');
    expect(typeof arr[0].lastEvaluatedAt).toBe('number');
    expect(arr[0].blocking.map((b: { trait: string }) => b.trait)).toEqual(['upstream-dependency']);
    expect(arr[0].traits.map((t: { state: string }) => t.state)).toEqual(['PASS', 'FAIL', 'PASS']);

    const one = await cli(['status', 'example', '--json'], { cwd: demo });
    expect(one.code, show(one)).toBe(1);
    expect(json(one).pipeline).toBe('example');
  });

  it('never evaluated: every trait STALE (no result), NOT_READY', async (ctx) => {
    const dir = minimalProject(tmp(ctx), [{ type: 'a', evaluator: './evaluators/pass' }]);
    const r = await cli(['status', 'p', '--json'], { cwd: dir });
    expect(r.code, show(r)).toBe(1);
    const j = json(r);
    expect(j.outcome).toBe('NOT_READY');
    expect(j.lastEvaluatedAt).toBeNull();
    expect(j.traits).toEqual([expect.objectContaining({ trait: 'a', state: 'STALE', result: null })]);
    expect(j.blocking[0]).toMatchObject({ trait: 'a', reasonCode: 'STALE' });
    const h = await cli(['status', 'p'], { cwd: dir });
    expect(h.code).toBe(1);
    expect(h.stdout).toMatch(/never evaluated/);
    expect(h.stdout).toMatch(/^ {2}STALE a +no result/m);
  });

  it('a result past its TTL is STALE and blocks (ttl: 1, real ~1 s wait)', async (ctx) => {
    const dir = minimalProject(tmp(ctx), [
      { type: 'short', evaluator: './evaluators/pass', ttl: 1 },
      { type: 'long', evaluator: './evaluators/pass', ttl: 3600 },
    ]);
    const ev = await cli(['evaluate', 'p', '--json'], { cwd: dir });
    expect(ev.code, show(ev)).toBe(0);
    const results = json(ev).readiness.traits.map(
      (t: { result: { evaluatedAt: number; expiresAt: number } }) => t.result,
    );
    expect(results[0].expiresAt - results[0].evaluatedAt).toBe(1000);
    expect(results[1].expiresAt - results[1].evaluatedAt).toBe(3_600_000);

    // Wait (really) until the short result has expired.
    const wait = results[0].expiresAt + 150 - Date.now();
    if (wait > 0) await sleep(wait);

    const st = await cli(['status', 'p', '--json'], { cwd: dir });
    expect(st.code, show(st)).toBe(1);
    const j = json(st);
    expect(j.outcome).toBe('NOT_READY');
    expect(j.lastOutcome).toBe('READY'); // what was decided then; now it blocks
    const byTrait = Object.fromEntries(j.traits.map((t: { trait: string }) => [t.trait, t]));
    expect(byTrait.short.state).toBe('STALE');
    expect(byTrait.short.result.status).toBe('PASS'); // the stored result is still there, just expired
    expect(byTrait.long.state).toBe('PASS');
    expect(byTrait.long.ttlLeftMs).toBeGreaterThan(3_500_000);
    expect(j.blocking).toEqual([expect.objectContaining({ trait: 'short', state: 'STALE', reasonCode: 'STALE' })]);

    const h = await cli(['status', 'p'], { cwd: dir });
    expect(h.stdout).toMatch(/^ {2}STALE short +expired/m);
    expect(h.stdout).toMatch(/^ {2}blocked by short: .*\[STALE\]$/m);
  });

  it('a cached result evaluated with no ttl goes STALE once the YAML sets ttl: 1 (configured ttl bounds it)', async (ctx) => {
    const root = tmp(ctx);
    const dir = minimalProject(root, [{ type: 'a', evaluator: './evaluators/pass' }]);
    const ev = await cli(['evaluate', 'p', '--json'], { cwd: dir });
    expect(ev.code, show(ev)).toBe(0);
    const stored = json(ev).readiness.traits[0].result;
    expect(stored.expiresAt).toBeUndefined();
    // The operator shortens the ttl afterwards; nothing is evaluated again.
    minimalProject(root, [{ type: 'a', evaluator: './evaluators/pass', ttl: 1 }]);
    const wait = stored.evaluatedAt + 1000 + 150 - Date.now();
    if (wait > 0) await sleep(wait);
    const st = await cli(['status', 'p', '--json'], { cwd: dir });
    expect(st.code, show(st)).toBe(1);
    const j = json(st);
    expect(j.outcome).toBe('NOT_READY');
    expect(j.traits[0]).toMatchObject({ trait: 'a', state: 'STALE', ttlLeftMs: 0 });
    expect(j.blocking[0].reason).toBe(
      `result expired (TTL passed) at ${new Date(stored.evaluatedAt + 1000).toISOString()}; evaluate again`,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('history', () => {
  it('newest first with blocking reasons; --json records; --at picks the decision in force; --limit', async (ctx) => {
    const demo = await initDemo(ctx);
    const first = await cli(['evaluate', 'example', '--json'], { cwd: demo });
    expect(first.code, show(first)).toBe(0);
    await sleep(30); // two distinct decision times, with room for an instant between them
    rmSync(join(demo, 'data', 'upstream', '_SUCCESS'));
    const second = await cli(['evaluate', 'example', '--json'], { cwd: demo });
    expect(second.code, show(second)).toBe(1);
    const t1 = json(first).readiness.decidedAt as number;
    const t2 = json(second).readiness.decidedAt as number;
    expect(t2).toBeGreaterThan(t1);

    const h = await cli(['history', 'example'], { cwd: demo });
    expect(h.code, show(h)).toBe(0);
    const lines = h.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`NOT_READY +cli +${json(second).decisionId}$`));
    expect(lines[1]).toMatch(/^ {4}blocked by upstream-dependency: upstream not done: .*\[EVALUATOR_FAIL\]$/);
    expect(lines[2]).toMatch(new RegExp(`READY +cli +${json(first).decisionId}$`));
    expect(lines).toHaveLength(3);

    const hj = await cli(['history', 'example', '--json'], { cwd: demo });
    expect(hj.code, show(hj)).toBe(0);
    const recs = json(hj);
    expect(recs).toHaveLength(2);
    expect(recs.map((d: { id: string }) => d.id)).toEqual([json(second).decisionId, json(first).decisionId]);
    for (const d of recs) {
      expect(d).toMatchObject({ pipeline: 'example', source: 'cli', rule: { type: 'all-required-pass' } });
      expect(d.traits.map((t: { trait: string }) => t.trait)).toEqual([
        'source-freshness',
        'upstream-dependency',
        'resource-availability',
      ]);
      expect(Array.isArray(d.blocking)).toBe(true);
    }
    expect(recs[0].outcome).toBe('NOT_READY');
    expect(recs[0].blocking).toEqual([
      expect.objectContaining({ trait: 'upstream-dependency', state: 'FAIL', reasonCode: 'EVALUATOR_FAIL' }),
    ]);
    expect(recs[0].traits[1]).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_FAIL' });
    expect(recs[1].outcome).toBe('READY');
    expect(recs[1].blocking).toEqual([]);
    expect(recs[0].decidedAt).toBe(t2);
    expect(recs[1].decidedAt).toBe(t1);

    const mid = new Date(Math.floor((t1 + t2) / 2)).toISOString();
    const at = await cli(['history', 'example', '--json', '--at', mid], { cwd: demo });
    expect(at.code, show(at)).toBe(0);
    expect(json(at).map((d: { id: string }) => d.id)).toEqual([json(first).decisionId]);

    // Exactly at the second decision's instant, the second one is in force.
    const atT2 = await cli(['history', 'example', '--json', '--at', new Date(t2).toISOString()], { cwd: demo });
    expect(json(atT2).map((d: { id: string }) => d.id)).toEqual([json(second).decisionId]);

    // Before any decision: nothing.
    const before = new Date(t1 - 60_000).toISOString();
    const none = await cli(['history', 'example', '--json', '--at', before], { cwd: demo });
    expect(none.code, show(none)).toBe(0);
    expect(json(none)).toEqual([]);
    const noneH = await cli(['history', 'example', '--at', before], { cwd: demo });
    expect(noneH.stdout).toMatch(/no decision for example at or before/);

    // --before: strictly earlier decisions only.
    const bef = await cli(['history', 'example', '--json', '--before', new Date(t2).toISOString()], { cwd: demo });
    expect(json(bef).map((d: { id: string }) => d.id)).toEqual([json(first).decisionId]);

    // --at HH:MM:SS is local time today (skipped in the rare run that straddles midnight).
    const local = new Date(t2 + 1000);
    if (local.toDateString() === new Date().toDateString()) {
      const hms = [local.getHours(), local.getMinutes(), local.getSeconds()].map((n) => String(n).padStart(2, '0'));
      const atLocal = await cli(['history', 'example', '--json', '--at', hms.join(':')], { cwd: demo });
      expect(atLocal.code, show(atLocal)).toBe(0);
      expect(json(atLocal).map((d: { id: string }) => d.id)).toEqual([json(second).decisionId]);
    }

    const lim = await cli(['history', 'example', '--json', '--limit', '1'], { cwd: demo });
    expect(lim.code, show(lim)).toBe(0);
    expect(json(lim).map((d: { id: string }) => d.id)).toEqual([json(second).decisionId]);
    const limShort = await cli(['history', 'example', '-n', '1'], { cwd: demo });
    expect(limShort.stdout.match(/^\d{4}-\d\d-\d\d /gm)).toHaveLength(1);

    const bad = await cli(['history', 'example', '--limit', '0'], { cwd: demo });
    expect(bad.code, show(bad)).toBe(2);
    const badAt = await cli(['history', 'example', '--at', 'yesterday-ish'], { cwd: demo });
    expect(badAt.code, show(badAt)).toBe(2);
  });

  it('--at refuses clock times that do not exist (exit 2) and reads epoch seconds or milliseconds by magnitude', async (ctx) => {
    const demo = await initDemo(ctx);
    const ev = await cli(['evaluate', 'example', '--json'], { cwd: demo });
    expect(ev.code, show(ev)).toBe(0);
    const t = json(ev).readiness.decidedAt as number;
    for (const bad of ['99:99', '25:00']) {
      const r = await cli(['history', 'example', '--at', bad], { cwd: demo });
      expect(r.code, show(r)).toBe(2);
      expect(r.stderr).toContain(`--at: cannot read time '${bad}'`);
      expect(r.stderr).toMatch(/ISO 8601.*HH:MM.*epoch seconds or milliseconds/);
    }
    // Seconds (below 10^11) and milliseconds: the decision is in force from its instant on, not before.
    const atSec = await cli(['history', 'example', '--json', '--at', String(Math.ceil(t / 1000))], { cwd: demo });
    expect(atSec.code, show(atSec)).toBe(0);
    expect(json(atSec).map((d: { id: string }) => d.id)).toEqual([json(ev).decisionId]);
    const atMs = await cli(['history', 'example', '--json', '--at', String(t - 1)], { cwd: demo });
    expect(json(atMs)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('validate', () => {
  /** Several errors across several files, with known positions. */
  function brokenProject(root: string): string {
    writeFiles(root, {
      'interlock.yaml': 'provider: sqlite\nevaluatorConcurency: 4\n',
      'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: a\n    defaultTimeout: 5\n',
      'pipelines/one.yaml': [
        'name: one',
        'archetype: gate',
        'tier: 1',
        'traits:',
        '  a:',
        '    evaluatr: ./evaluators/x',
        '    timeout: -5',
        '',
      ].join('\n'),
      'pipelines/two.yaml': 'name: one\narchetype: nosuch\n',
      'pipelines/three.yaml': 'name: three\narchetype: gate\ntraits:\n  zzz:\n    evaluator: ./evaluators/x\n',
      'pipelines/four.yaml': 'name: four\narchetype: gate\ntraits: [unclosed\n',
    });
    return root;
  }

  it('prints every diagnostic as file:line:col field: message and exits 2', async (ctx) => {
    const dir = brokenProject(tmp(ctx));
    const r = await cli(['validate'], { cwd: dir });
    expect(r.code, show(r)).toBe(2);
    const lines = r.stdout.trimEnd().split('\n');
    // Exact positions.
    expect(lines).toContain(
      "interlock.yaml:2:1 evaluatorConcurency: unknown key 'evaluatorConcurency' (did you mean 'evaluatorConcurrency'?)",
    );
    expect(lines).toContain(
      "pipelines/one.yaml:6:5 traits.a.evaluatr: unknown key 'evaluatr' (did you mean 'evaluator'?)",
    );
    expect(
      lines.some((l) => l.startsWith('pipelines/one.yaml:7:14 traits.a.timeout: ')),
      r.stdout,
    ).toBe(true);
    // The rest: right file, line, field and gist.
    const expected = [
      /^pipelines\/(one|two)\.yaml:1:\d+ name: .*duplicate pipeline name 'one'/,
      /^pipelines\/two\.yaml:2:\d+ archetype: .*unknown archetype 'nosuch'/,
      /^pipelines\/three\.yaml:4:\d+ traits\.zzz: .*not declared by archetype 'gate'/,
      /^pipelines\/four\.yaml:\d+:\d+ \S/, // YAML syntax error (no field path)
    ];
    for (const re of expected)
      expect(
        lines.some((l) => re.test(l)),
        `${re}\n${r.stdout}`,
      ).toBe(true);
    // One pass: the semantic rules ran on what parsed of one.yaml and three.yaml too (their trait `a` has no
    // evaluator), so warnings come with the errors rather than after they are fixed.
    expect(lines).toContain(
      "pipelines/one.yaml:5:3 warning: traits.a: required trait 'a' has no evaluator: it always fails (NO_EVALUATOR), so this pipeline can never be READY; set traits.a.evaluator",
    );
    const diagLines = lines.filter((l) => /^[\w./-]+\.yaml:\d+:\d+ /.test(l));
    expect(diagLines).toHaveLength(9);
    // Errors first, then warnings.
    expect(diagLines.findIndex((l) => l.includes(' warning: '))).toBe(7);
    expect(lines.at(-1)).toMatch(/^7 error\(s\), 2 warning\(s\)/);

    const j = await cli(['validate', '--json'], { cwd: dir });
    expect(j.code, show(j)).toBe(2);
    const rep = json(j);
    expect(rep.valid).toBe(false);
    expect(rep.errors).toHaveLength(7);
    expect(rep.errors).toContainEqual(
      expect.objectContaining({ file: 'pipelines/one.yaml', line: 7, col: 14, path: 'traits.a.timeout' }),
    );
  });

  it('evaluate on the broken project exits 2 with the diagnostics (and never evaluates)', async (ctx) => {
    const dir = brokenProject(tmp(ctx));
    const r = await cli(['evaluate', 'three'], { cwd: dir });
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout).not.toMatch(/READY/);
    expect(r.stderr).toMatch(/^pipelines\/one\.yaml:6:5 traits\.a\.evaluatr: /m);
    expect(r.stderr).toMatch(/config errors?/);
    expect(existsSync(join(dir, '.interlock'))).toBe(false);

    const j = await cli(['evaluate', 'three', '--json'], { cwd: dir });
    expect(j.code).toBe(2);
    expect(json(j).error.code).toBe('CONFIG_INVALID');
    expect(json(j).error.diagnostics).toHaveLength(9);
  });

  it('a valid project → exit 0, "valid"', async (ctx) => {
    const demo = await initDemo(ctx);
    const r = await cli(['validate'], { cwd: demo });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^valid: 1 pipeline\(s\), 3 archetype\(s\)$/m);
    const j = await cli(['validate', '--json'], { cwd: demo });
    expect(json(j)).toMatchObject({ valid: true, errors: [], pipelines: ['example'] });
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('validate --strict', () => {
  it('a required trait without an evaluator is a warning naming it; --strict makes it an error (exit 2)', async (ctx) => {
    const root = minimalProject(tmp(ctx), [{ type: 'fresh', evaluator: 'pass' }, { type: 'upstream' }]);
    const r = await cli(['validate'], { cwd: root });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain(
      "pipelines/p.yaml:7:3 warning: traits.upstream: required trait 'upstream' has no evaluator: it always fails (NO_EVALUATOR), so this pipeline can never be READY; set traits.upstream.evaluator",
    );
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('valid: 1 pipeline(s), 1 archetype(s), 1 warning(s)');

    const strict = await cli(['validate', '--strict'], { cwd: root });
    expect(strict.code, show(strict)).toBe(2);
    expect(strict.stdout).toContain("required trait 'upstream' has no evaluator");
    expect(strict.stdout.trimEnd().split('\n').at(-1)).toBe(
      '0 error(s), 1 warning(s): warnings are errors with --strict',
    );

    const j = json(await cli(['validate', '--strict', '--json'], { cwd: root }));
    expect(j).toMatchObject({ valid: false, strict: true, errors: [] });
    expect(j.warnings).toEqual([
      expect.objectContaining({
        file: 'pipelines/p.yaml',
        path: 'traits.upstream',
        severity: 'warning',
        message: expect.stringContaining("'upstream'"),
      }),
    ]);
    expect(json(await cli(['validate', '--json'], { cwd: root }))).toMatchObject({ valid: true, strict: false });
  });

  it('an unset ${VAR} of an http trigger is a validate warning; VAR= is reported as empty', async (ctx) => {
    const root = minimalProject(tmp(ctx), [{ type: 'fresh', evaluator: 'pass' }]);
    writeFiles(root, {
      'pipelines/p.yaml': `name: p\narchetype: gate\ntraits:\n  fresh: { evaluator: pass }\ntrigger:\n  type: http\n  url: "https://\${IL_E2E_HOST}/x"\n  headers: { Authorization: "Bearer \${IL_E2E_TOKEN}" }\n`,
    });
    const env = { IL_E2E_TOKEN: '' };
    const r = await cli(['validate'], { cwd: root, env });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain('trigger.url: environment variable IL_E2E_HOST is not set here');
    expect(r.stdout).toContain('trigger.headers.Authorization: environment variable IL_E2E_TOKEN is empty here');
    expect((await cli(['validate', '--strict'], { cwd: root, env })).code).toBe(2);
    const set = await cli(['validate', '--strict'], { cwd: root, env: { IL_E2E_TOKEN: 't', IL_E2E_HOST: 'h' } });
    expect(set.code, show(set)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('blast radius: a bad file blocks only what it defines', () => {
  const TRIGGER = 'trigger:\n  type: command\n  command: "echo $INTERLOCK_PIPELINE >> fired.log"\n';
  function project(root: string): string {
    minimalProject(root, [{ type: 'a', evaluator: 'pass' }], { pipeline: 'good' });
    writeFiles(root, {
      'pipelines/good.yaml': `name: good\narchetype: gate\ntraits:\n  a: { evaluator: pass }\n${TRIGGER}`,
      'pipelines/typo.yaml': `name: typo\narchetype: gate\ntraits:\n  a: { evaluator: pass, timout: 5 }\n${TRIGGER}`,
      'archetypes/bad.yaml': 'name: bad\nrequiredTraits: [{ type: a, defaultTtl: soon }]\n',
      'pipelines/uses-bad.yaml': `name: uses-bad\narchetype: bad\ntraits:\n  a: { evaluator: pass }\n${TRIGGER}`,
    });
    return root;
  }
  const fired = (root: string) =>
    existsSync(join(root, 'fired.log'))
      ? readFileSync(join(root, 'fired.log'), 'utf8').split('\n').filter(Boolean)
      : [];
  const WARNING =
    "interlock: warning: invalid config in archetypes/bad.yaml, pipelines/typo.yaml: pipelines typo, uses-bad are INVALID (never evaluated or triggered); run 'interlock validate'\n";

  it('the valid pipeline evaluates and runs, with a one-line warning naming the invalid files', async (ctx) => {
    const root = project(tmp(ctx));
    const ev = await cli(['evaluate', 'good'], { cwd: root });
    expect(ev.code, show(ev)).toBe(0);
    expect(ev.stdout.trimEnd().split('\n').at(-1)).toBe('READY');
    expect(ev.stderr).toBe(WARNING);
    const run = await cli(['run', 'good'], { cwd: root });
    expect(run.code, show(run)).toBe(0);
    expect(fired(root)).toEqual(['good']);
  });

  it('evaluate/run of an INVALID pipeline exit 2 with its diagnostics; nothing is evaluated or fired', async (ctx) => {
    const root = project(tmp(ctx));
    for (const [cmd, name, file] of [
      ['evaluate', 'typo', 'pipelines/typo.yaml:4:25 traits.a.timout'],
      ['run', 'typo', 'pipelines/typo.yaml:4:25 traits.a.timout'],
      ['evaluate', 'uses-bad', 'archetypes/bad.yaml:2:41 requiredTraits.0.defaultTtl'],
      ['run', 'uses-bad', 'archetypes/bad.yaml:2:41 requiredTraits.0.defaultTtl'],
    ] as const) {
      const r = await cli([cmd, name], { cwd: root });
      expect(r.code, `${cmd} ${name}\n${show(r)}`).toBe(2);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toContain(`interlock: pipeline '${name}' is INVALID`);
      expect(r.stdout).not.toMatch(/READY/);
    }
    const j = await cli(['run', 'typo', '--json'], { cwd: root });
    expect(j.code).toBe(2);
    expect(json(j).error).toMatchObject({
      code: 'CONFIG_INVALID',
      diagnostics: [expect.objectContaining({ path: 'traits.a.timout' })],
    });
    expect(fired(root)).toEqual([]);
    expect(json(await cli(['history', 'good', '--json'], { cwd: root }))).toEqual([]);
  });

  it('status shows INVALID ones with their diagnostics (table, detail exit 2, --json); validate still fails', async (ctx) => {
    const root = project(tmp(ctx));
    const table = await cli(['status'], { cwd: root });
    expect(table.code, show(table)).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows.find((l) => l.startsWith('typo '))).toMatch(
      /^typo +INVALID .*1 config problem\(s\): pipelines\/typo\.yaml:4:25 traits\.a\.timout: unknown key 'timout'/,
    );
    expect(rows.find((l) => l.startsWith('uses-bad '))).toMatch(/^uses-bad +INVALID .*archetypes\/bad\.yaml:2:41/);
    expect(rows.find((l) => l.startsWith('good '))).toMatch(/^good +NOT_READY/);

    const one = await cli(['status', 'typo'], { cwd: root });
    expect(one.code, show(one)).toBe(2);
    expect(one.stdout).toContain(
      "  pipelines/typo.yaml:4:25 traits.a.timout: unknown key 'timout' (did you mean 'timeout'?)",
    );
    expect(one.stdout).toMatch(/^INVALID$/m);

    const all = json(await cli(['status', '--json'], { cwd: root }));
    expect(all.map((s: { pipeline: string; outcome: string }) => [s.pipeline, s.outcome])).toEqual([
      ['good', 'NOT_READY'],
      ['typo', 'INVALID'],
      ['uses-bad', 'INVALID'],
    ]);
    expect(all[1]).toMatchObject({
      source: 'pipelines/typo.yaml',
      problems: [expect.objectContaining({ line: 4, col: 25 })],
    });

    const v = await cli(['validate'], { cwd: root });
    expect(v.code, show(v)).toBe(2);
    expect(v.stdout.trimEnd().split('\n').at(-1)).toBe(
      '2 error(s), 0 warning(s) (INVALID, never evaluated: typo, uses-bad)',
    );
  });

  it('an invalid interlock.yaml still stops everything (exit 2)', async (ctx) => {
    const root = project(tmp(ctx));
    writeFiles(root, { 'interlock.yaml': 'provider: sqlite\nevaluatorConcurency: 2\n' });
    const r = await cli(['evaluate', 'good'], { cwd: root });
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toContain("interlock.yaml:2:1 evaluatorConcurency: unknown key 'evaluatorConcurency'");
    expect(r.stderr).toContain('interlock: 3 config errors (interlock.yaml is invalid)');
    expect((await cli(['status'], { cwd: root })).code).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('add-pipeline', () => {
  it('creates the pipelines directory when it does not exist yet', async (ctx) => {
    const demo = await initDemo(ctx);
    rmSync(join(demo, 'pipelines'), { recursive: true, force: true });
    const r = await cli(['add-pipeline', '--name', 'fresh', '--archetype', 'batch-ingestion'], { cwd: demo });
    expect(r.code, show(r)).toBe(0);
    expect(existsSync(join(demo, 'pipelines', 'fresh.yaml'))).toBe(true);
    expect((await cli(['validate'], { cwd: demo })).code).toBe(0);
  });

  it('writes pipelines/<name>.yaml with evaluators filled in, stays valid, never overwrites', async (ctx) => {
    const demo = await initDemo(ctx);
    const r = await cli(['add-pipeline', '--name', 'sales', '--archetype', 'batch-ingestion'], { cwd: demo });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/Wrote pipelines\/sales\.yaml/);
    const file = join(demo, 'pipelines', 'sales.yaml');
    const text = readFileSync(file, 'utf8');
    const m = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text);
    expect(m, text).not.toBeNull();
    expect(existsSync(resolve(dirname(file), m![1]))).toBe(true);
    const doc = parseYaml(text);
    expect(doc).toMatchObject({ name: 'sales', archetype: 'batch-ingestion' });
    // Each scaffold evaluator is wired with the config it declares (placeholders to fill in; see cli-conventions).
    expect(doc.traits).toEqual({
      'source-freshness': {
        evaluator: 'check-source-freshness',
        config: { path: expect.any(String), maxLagSeconds: 300 },
      },
      'upstream-dependency': { evaluator: 'check-upstream-dependency', config: { markers: [expect.any(String)] } },
      'resource-availability': { evaluator: 'check-resource-availability', config: { minFreeMb: 50 } },
    });

    const v = await cli(['validate'], { cwd: demo });
    expect(v.code, show(v)).toBe(0);
    expect(v.stdout).toMatch(/valid: 2 pipeline\(s\)/);

    const before = statSync(file).mtimeMs;
    const again = await cli(['add-pipeline', '--name', 'sales', '--archetype', 'streaming-enrichment'], {
      cwd: demo,
    });
    expect(again.code, show(again)).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(statSync(file).mtimeMs).toBe(before);
    expect(readdirSync(join(demo, 'pipelines')).sort()).toEqual(['example.yaml', 'sales.yaml']);
  });

  it('traits without a check-<trait> evaluator are reported; tier and http trigger are written', async (ctx) => {
    const demo = await initDemo(ctx);
    const r = await cli(
      [
        'add-pipeline',
        '--name',
        'feat',
        '--archetype',
        'ml-feature-pipeline',
        '--tier',
        '1',
        '--trigger-type',
        'http',
        '--trigger-url',
        'http://127.0.0.1:9/run',
      ],
      { cwd: demo },
    );
    expect(r.code, show(r)).toBe(0);
    const archetype = parseYaml(readFileSync(join(demo, 'archetypes', 'ml-feature-pipeline.yaml'), 'utf8'));
    const required: string[] = archetype.requiredTraits.map((t: { type: string }) => t.type);
    const missing = required.filter((t) => !existsSync(join(demo, 'evaluators', `check-${t}`)));
    expect(missing.length).toBeGreaterThan(0);
    expect(r.stdout).toMatch(new RegExp(`No evaluator yet for: ${missing.join(', ')}`));
    const doc = parseYaml(readFileSync(join(demo, 'pipelines', 'feat.yaml'), 'utf8'));
    expect(doc.tier).toBe(1);
    expect(doc.trigger).toMatchObject({ type: 'http', url: 'http://127.0.0.1:9/run' });
    expect(Object.keys(doc.traits).sort()).toEqual(required.filter((t) => !missing.includes(t)).sort());
    expect((await cli(['validate'], { cwd: demo })).code).toBe(0);
    // A required trait without an evaluator blocks.
    const ev = await cli(['evaluate', 'feat', '--json'], { cwd: demo });
    expect(ev.code, show(ev)).toBe(1);
    expect(json(ev).readiness.blocking).toContainEqual(
      expect.objectContaining({ trait: missing[0], reasonCode: 'NO_EVALUATOR' }),
    );
  });

  it('bad name, unknown archetype, http trigger without url, bad tier → exit 2 and no file', async (ctx) => {
    const demo = await initDemo(ctx);
    const cases: string[][] = [
      ['--name', 'Bad_Name', '--archetype', 'batch-ingestion'],
      ['--name', '../escape', '--archetype', 'batch-ingestion'],
      ['--name', '-x', '--archetype', 'batch-ingestion'],
      ['--name', 'x'.repeat(129), '--archetype', 'batch-ingestion'],
      ['--name', 'okname', '--archetype', 'no-such-archetype'],
      ['--name', 'okname', '--archetype', 'batch-ingestion', '--trigger-type', 'http'],
      ['--name', 'okname', '--archetype', 'batch-ingestion', '--trigger-type', 'command'],
      ['--name', 'okname', '--archetype', 'batch-ingestion', '--tier', 'high'],
      ['--name', 'okname', '--archetype', 'batch-ingestion', '--trigger-type', 'ftp'],
      ['--archetype', 'batch-ingestion'],
    ];
    const results = await Promise.all(cases.map((args) => cli(['add-pipeline', ...args], { cwd: demo })));
    for (const [i, args] of cases.entries()) {
      const r = results[i];
      expect(r.code, `${args.join(' ')}\n${show(r)}`).toBe(2);
      expect(r.stderr.length, args.join(' ')).toBeGreaterThan(0);
    }
    expect(readdirSync(join(demo, 'pipelines'))).toEqual(['example.yaml']);
    expect(existsSync(join(demo, 'escape.yaml'))).toBe(false);
    expect(results[4].stderr).toMatch(/unknown archetype 'no-such-archetype'/);
    expect(results[5].stderr).toMatch(/--trigger-url/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('usage errors, help and version', () => {
  it('unknown pipeline → exit 2 "unknown pipeline" (evaluate, status, history; human and JSON)', async (ctx) => {
    const demo = await initDemo(ctx);
    for (const cmd of ['evaluate', 'status', 'history']) {
      const r = await cli([cmd, 'nope'], { cwd: demo });
      expect(r.code, `${cmd}\n${show(r)}`).toBe(2);
      expect(r.stderr).toMatch(/unknown pipeline 'nope'/);
      expect(r.stderr).toMatch(/known: example/);
    }
    const j = await cli(['evaluate', 'nope', '--json'], { cwd: demo });
    expect(j.code).toBe(2);
    expect(json(j).error).toMatchObject({
      code: 'PIPELINE_NOT_FOUND',
      message: expect.stringMatching(/unknown pipeline/),
    });
  });

  it('unknown command, unknown option, missing argument → exit 2', async (ctx) => {
    const dir = tmp(ctx);
    for (const args of [['frobnicate'], ['status', '--bogus'], ['--bogus'], ['evaluate'], ['init']]) {
      const r = await cli(args, { cwd: dir });
      expect(r.code, `${args.join(' ')}\n${show(r)}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/error|unknown|missing/i);
    }
  });

  it('usage errors under --json come back as a JSON error on stdout, exit 2', async (ctx) => {
    const dir = tmp(ctx);
    for (const args of [
      ['evaluate', '--json'],
      ['status', '--json', '--bogus'],
      ['--json', 'frobnicate'],
    ]) {
      const r = await cli(args, { cwd: dir });
      expect(r.code, `${args.join(' ')}\n${show(r)}`).toBe(2);
      expect(json(r).error, args.join(' ')).toMatchObject({ code: 'USAGE', message: expect.any(String) });
    }
  });

  it('--help lists the exit codes; --version prints the package version', async (ctx) => {
    const dir = tmp(ctx);
    const h = await cli(['--help'], { cwd: dir });
    expect(h.code, show(h)).toBe(0);
    expect(h.stdout).toMatch(/Exit codes:/);
    for (const re of [
      /^ +0 +success; READY/m,
      /^ +1 +blocked: NOT_READY/m,
      /^ +2 +usage or config error/m,
      /^ +3 +runtime failure/m,
    ]) {
      expect(h.stdout).toMatch(re);
    }
    for (const c of ['init', 'add-pipeline', 'validate', 'evaluate', 'status', 'history']) {
      expect(h.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const v = await cli([flag], { cwd: dir });
      expect(v.code, show(v)).toBe(0);
      expect(v.stdout.trim()).toBe(pkg.version);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('finding interlock.yaml', () => {
  it('none up the tree → exit 2 pointing at `interlock init`', async (ctx) => {
    const dir = tmp(ctx);
    const nested = join(dir, 'a', 'b');
    mkdirSync(nested, { recursive: true });
    // Precondition: no interlock.yaml above the temp dir on this machine.
    for (let d = dir; d !== dirname(d); d = dirname(d)) {
      expect(existsSync(join(d, 'interlock.yaml')), `unexpected ${join(d, 'interlock.yaml')}`).toBe(false);
    }
    for (const args of [['status'], ['evaluate', 'x'], ['validate'], ['history', 'x']]) {
      const r = await cli(args, { cwd: nested });
      expect(r.code, `${args.join(' ')}\n${show(r)}`).toBe(2);
      expect(r.stderr).toMatch(/interlock\.yaml/);
      expect(r.stderr).toMatch(/interlock init/);
    }
    const j = await cli(['status', '--json'], { cwd: nested });
    expect(j.code).toBe(2);
    expect(json(j).error.code).toBe('CONFIG_NOT_FOUND');
  });

  it('is found from a subdirectory; --config works from elsewhere, paths resolve against its directory', async (ctx) => {
    const demo = await initDemo(ctx);
    const sub = join(demo, 'data', 'upstream');
    const fromSub = await cli(['evaluate', 'example'], { cwd: sub });
    expect(fromSub.code, show(fromSub)).toBe(0);
    expect(existsSync(join(sub, '.interlock'))).toBe(false);

    const elsewhere = tmp(ctx);
    const rel = relative(elsewhere, join(demo, 'interlock.yaml'));
    const r = await cli(['--config', rel, 'evaluate', 'example'], { cwd: elsewhere });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('READY');
    expect(existsSync(join(elsewhere, '.interlock'))).toBe(false);
    const hist = await cli(['history', 'example', '--json', '-c', join(demo, 'interlock.yaml')], { cwd: elsewhere });
    expect(json(hist)).toHaveLength(2); // both decisions landed in the project's own store

    const missing = await cli(['status', '--config', join(elsewhere, 'nope.yaml')], { cwd: elsewhere });
    expect(missing.code, show(missing)).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('output plumbing', () => {
  /** 300 pipelines with long names: `status` prints well over a pipe buffer (64 KiB). */
  function manyPipelines(root: string): string {
    const files: Record<string, string> = {
      'interlock.yaml': 'provider: sqlite\n',
      'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: a\n  - type: b\n  - type: c\n',
    };
    for (let i = 0; i < 300; i++) {
      const name = `p${String(i).padStart(3, '0')}-${'x'.repeat(110)}`;
      files[`pipelines/${i}.yaml`] = `name: ${name}\narchetype: gate\n`;
    }
    writeFiles(root, files);
    return root;
  }

  it('`status | head -1` with 300 pipelines: no EPIPE crash, exit 0, empty stderr', async (ctx) => {
    const dir = manyPipelines(tmp(ctx));
    const full = await cli(['status'], { cwd: dir });
    expect(full.code, show(full)).toBe(0);
    expect(full.stdout.split('\n').filter((l) => /^p\d{3}-x+ +NOT_READY/.test(l))).toHaveLength(300);
    expect(Buffer.byteLength(full.stdout)).toBeGreaterThan(64 * 1024); // more than a pipe holds

    const script = `"${process.execPath}" "${BIN}" status 2>"$ERRFILE" | head -1; echo "rc=\${PIPESTATUS[0]}"`;
    const errFile = join(dir, 'stderr.txt');
    const r = await sh(script, { cwd: dir, shell: 'bash', env: { ERRFILE: errFile } });
    expect(r.code, show(r)).toBe(0);
    const out = r.stdout.trimEnd().split('\n');
    expect(out[0]).toMatch(/^PIPELINE\s+READINESS/);
    expect(out.at(-1)).toBe('rc=0');
    expect(readFileSync(errFile, 'utf8')).toBe('');

    // Same with the read side closed after the first chunk, for human and JSON output.
    for (const args of [['status'], ['status', '--json']]) {
      const c = await cliClosingStdout(args, { cwd: dir });
      expect(c.firstChunk).toBeGreaterThan(0);
      expect(c.stderr, args.join(' ')).toBe('');
      expect(c.signal, args.join(' ')).toBeNull();
      expect(c.code, args.join(' ')).toBe(0);
    }
  });

  it('no ANSI escapes when piped or with NO_COLOR; escapes with FORCE_COLOR=1; --no-color removes them', async (ctx) => {
    const demo = await initDemo(ctx);
    expect((await cli(['evaluate', 'example'], { cwd: demo })).code).toBe(0);
    const commands = [['evaluate', 'example'], ['status'], ['history', 'example']];
    const plain = { NO_COLOR: undefined, FORCE_COLOR: undefined };
    const forceOnly = { NO_COLOR: undefined, FORCE_COLOR: '1' };
    for (const args of commands) {
      const [piped, noColor, forced, flag, asJson] = await Promise.all([
        cli(args, { cwd: demo, env: plain }),
        cli(args, { cwd: demo, env: { NO_COLOR: '1', FORCE_COLOR: '1' } }),
        cli(args, { cwd: demo, env: forceOnly }),
        cli([...args, '--no-color'], { cwd: demo, env: forceOnly }),
        cli([...args, '--json'], { cwd: demo, env: forceOnly }),
      ]);
      expect(piped.code, show(piped)).toBe(0);
      expect(piped.stdout, `piped: ${args.join(' ')}`).not.toMatch(ANSI);
      expect(piped.stderr).not.toMatch(ANSI);

      expect(noColor.stdout, `NO_COLOR: ${args.join(' ')}`).not.toMatch(ANSI);

      expect(forced.code).toBe(0);
      expect(forced.stdout, `FORCE_COLOR: ${args.join(' ')}`).toMatch(ANSI);
      // Colour is decoration only: the text is the same once escapes are removed.
      const stripped = stripAnsi(forced.stdout);
      expect(stripped.split('\n')[0]).toBe(piped.stdout.split('\n')[0]);

      expect(flag.code).toBe(0);
      expect(flag.stdout, `--no-color: ${args.join(' ')}`).not.toMatch(ANSI);

      expect(asJson.code).toBe(0);
      expect(asJson.stdout, `--json: ${args.join(' ')}`).not.toMatch(ANSI);
    }
  });

  // A real pseudo-terminal through util-linux `script`: colours appear without FORCE_COLOR, and NO_COLOR still wins.
  it('on a real terminal: colours, unless NO_COLOR', async (ctx) => {
    const demo = await initDemo(ctx);
    expect((await cli(['evaluate', 'example'], { cwd: demo })).code).toBe(0);
    const cmd = `"${process.execPath}" "${BIN}" status example`;
    const tty = await sh(`script -qec '${cmd}' /dev/null`, {
      cwd: demo,
      env: { NO_COLOR: undefined, FORCE_COLOR: undefined },
    });
    expect(tty.code, show(tty)).toBe(0);
    expect(stripAnsi(tty.stdout)).toMatch(/example \(batch-ingestion/);
    expect(tty.stdout).toMatch(ANSI);
    const ttyNo = await sh(`script -qec '${cmd}' /dev/null`, {
      cwd: demo,
      env: { NO_COLOR: '1', FORCE_COLOR: undefined },
    });
    expect(ttyNo.code, show(ttyNo)).toBe(0);
    expect(ttyNo.stdout).toMatch(/example \(batch-ingestion/);
    expect(ttyNo.stdout).not.toMatch(ANSI);
    const ttyFlag = await sh(`script -qec '${cmd} --no-color' /dev/null`, {
      cwd: demo,
      env: { NO_COLOR: undefined, FORCE_COLOR: undefined },
    });
    expect(ttyFlag.stdout).toMatch(/example \(batch-ingestion/);
    expect(ttyFlag.stdout).not.toMatch(ANSI);
  });

  it('on a real terminal, an evaluation over a second shows live per-trait progress; piped, it does not', async (ctx) => {
    const demo = await initDemo(ctx);
    writeFiles(demo, {
      'evaluators/check-upstream-dependency': '#!/bin/sh\nsleep 1.8\necho \'{"status":"PASS"}\'\n',
    });
    const cmd = `"${process.execPath}" "${BIN}" evaluate example`;
    const tty = await sh(`script -qec '${cmd}' /dev/null`, { cwd: demo, env: { NO_COLOR: '1' } });
    expect(tty.code, show(tty)).toBe(0);
    expect(tty.stdout).toMatch(/evaluating: 2\/3 done, .*waiting on upstream-dependency/);
    const piped = await cli(['evaluate', 'example'], { cwd: demo });
    expect(piped.code, show(piped)).toBe(0);
    expect(piped.stdout + piped.stderr).not.toContain('evaluating:');
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('store failures fail closed (exit 3, never READY)', () => {
  it('state.db is a directory', async (ctx) => {
    const demo = await initDemo(ctx);
    mkdirSync(join(demo, '.interlock', 'state.db'), { recursive: true });
    const r = await cli(['evaluate', 'example'], { cwd: demo });
    expect(r.code, show(r)).toBe(3);
    expect(r.stdout).not.toMatch(/READY/);
    expect(r.stderr).toMatch(/state\.db/);
    const j = await cli(['evaluate', 'example', '--json'], { cwd: demo });
    expect(j.code).toBe(3);
    expect(json(j).error.code).toBe('STORE_UNAVAILABLE');
    expect(json(j).outcome).toBeUndefined();
    for (const args of [['status'], ['status', 'example'], ['history', 'example']]) {
      const s = await cli(args, { cwd: demo });
      expect(s.code, `${args.join(' ')}\n${show(s)}`).toBe(3);
      expect(s.stdout).not.toMatch(/READY/);
    }
  });

  it('state.db is garbage', async (ctx) => {
    const demo = await initDemo(ctx);
    mkdirSync(join(demo, '.interlock'));
    writeFileSync(join(demo, '.interlock', 'state.db'), 'this is not a database, just garbage bytes\n'.repeat(200));
    const r = await cli(['evaluate', 'example'], { cwd: demo });
    expect(r.code, show(r)).toBe(3);
    expect(r.stdout).not.toMatch(/READY/);
    expect(r.stderr).toMatch(/sqlite|database/i);
  });

  it('the write of the decision fails after the evaluators ran → exit 3, nothing half-recorded', async (ctx) => {
    const demo = await initDemo(ctx);
    const first = await cli(['evaluate', 'example', '--json'], { cwd: demo });
    expect(first.code, show(first)).toBe(0);
    const dbPath = join(demo, '.interlock', 'state.db');
    const db = new Database(dbPath);
    db.exec(
      "CREATE TRIGGER interlock_test_boom BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
    );
    const traitsBefore = db.prepare('SELECT trait, evaluated_at FROM trait_results ORDER BY trait').all();
    db.close();

    const r = await cli(['evaluate', 'example'], { cwd: demo });
    expect(r.code, show(r)).toBe(3);
    expect(r.stdout).not.toMatch(/READY/);
    expect(r.stderr).toMatch(/disk on fire/);
    const j = await cli(['evaluate', 'example', '--json'], { cwd: demo });
    expect(j.code, show(j)).toBe(3);
    expect(json(j).error.code).toBe('STORE_UNAVAILABLE');

    const db2 = new Database(dbPath, { readonly: true });
    try {
      // One transaction: the trait results were not updated either.
      expect(db2.prepare('SELECT trait, evaluated_at FROM trait_results ORDER BY trait').all()).toEqual(traitsBefore);
      expect(db2.prepare('SELECT count(*) AS n FROM decisions').get()).toEqual({ n: 1 });
    } finally {
      db2.close();
    }
  });
});
