// End-to-end: CLI conventions found by new users (issue 10, items 9, 14, 15, 16) on the BUILT CLI — add-pipeline
// pipelines that can become READY, no `…` cuts when piped (terminal width on a TTY), global options in every
// subcommand's help, `--version --json`, TERM=dumb, one error prefix, `help help`, and init's Redis key prefix.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it, type TestContext } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  ANSI,
  BIN,
  cli,
  copyFixtureEvaluators,
  json,
  REPO,
  sh,
  show,
  stripAnsi,
  tempDirFor,
  useRedis,
  writeFiles,
} from '../support/index.js';

const tmp = (ctx: TestContext): string => tempDirFor(ctx, 'interlock-e2e-conv-');
/** Each test runs the CLI many times; on a loaded machine a run takes seconds. */
const SLOW = { timeout: 120_000 };

async function initDemo(ctx: TestContext, name = 'demo', extra: string[] = []): Promise<string> {
  const parent = tmp(ctx);
  const r = await cli(['init', name, ...extra], { cwd: parent });
  expect(r.code, show(r)).toBe(0);
  return join(parent, name);
}

/** Runs the built CLI on a real pseudo-terminal (util-linux `script`), `cols` columns wide. */
function onTerminal(args: string, cwd: string, env: NodeJS.ProcessEnv = {}, cols = 60) {
  const cmd = `stty cols ${cols} rows 40; "${process.execPath}" "${BIN}" ${args}`;
  return sh(`script -qec '${cmd}' /dev/null`, { cwd, env: { NO_COLOR: undefined, FORCE_COLOR: undefined, ...env } });
}

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('add-pipeline writes pipelines that can become READY (item 9)', SLOW, () => {
  it('scaffold evaluators come with their config keys as placeholders; NOT_READY naming each key; filled in → READY', async (ctx) => {
    const demo = await initDemo(ctx);
    const add = await cli(['add-pipeline', '--name', 'sales', '--archetype', 'batch-ingestion'], { cwd: demo });
    expect(add.code, show(add)).toBe(0);
    expect(add.stdout).toMatch(
      /Fill in the placeholders: source-freshness\.config\.path, upstream-dependency\.config\.markers\[0\]/,
    );
    const file = join(demo, 'pipelines', 'sales.yaml');
    const text = readFileSync(file, 'utf8');
    const doc = parseYaml(text);
    expect(doc.traits['source-freshness']).toEqual({
      evaluator: 'check-source-freshness',
      // The evaluator declares both keys; maxLagSeconds has a real default, only path is a placeholder.
      config: { path: expect.stringMatching(/^<.+>$/), maxLagSeconds: 300 },
    });
    expect(doc.traits['upstream-dependency']).toEqual({
      evaluator: 'check-upstream-dependency',
      config: { markers: [expect.stringMatching(/^<.+>$/)] },
    });
    expect(doc.traits['resource-availability']).toEqual({
      evaluator: 'check-resource-availability',
      config: { minFreeMb: 50 },
    });
    expect((await cli(['validate'], { cwd: demo })).code).toBe(0);

    // Before: NOT_READY, each FAIL naming the key to fill in — never a crash like "cannot read undefined".
    const before = await cli(['evaluate', 'sales', '--json'], { cwd: demo });
    expect(before.code, show(before)).toBe(1);
    type T = { trait: string; state: string; result?: { reason?: string } };
    const byTrait = Object.fromEntries(json(before).readiness.traits.map((t: T) => [t.trait, t]));
    expect(byTrait['source-freshness'].state).toBe('FAIL');
    expect(byTrait['source-freshness'].result.reason).toMatch(/config key "path" is still the placeholder/);
    expect(byTrait['upstream-dependency'].result.reason).toMatch(/config key "markers" still holds the placeholder/);
    expect(byTrait['resource-availability'].state).toBe('PASS');
    expect(before.stdout).not.toMatch(/undefined|ERR_INVALID_ARG_TYPE/);

    // After replacing the placeholders with real paths: READY.
    writeFileSync(
      file,
      text
        .replace(doc.traits['source-freshness'].config.path, 'data/sales_events.csv')
        .replace(doc.traits['upstream-dependency'].config.markers[0], 'data/upstream/_SUCCESS'),
    );
    const after = await cli(['evaluate', 'sales'], { cwd: demo });
    expect(after.code, show(after)).toBe(0);
    expect(after.stdout.trimEnd().split('\n').at(-1)).toBe('READY');
  });

  it('an evaluator without a config declaration is not wired (NO_EVALUATOR, said so), never wired blind', async (ctx) => {
    const demo = await initDemo(ctx);
    writeFiles(demo, { 'evaluators/check-upstream-dependency': '#!/bin/sh\necho \'{"status":"PASS"}\'\n' });
    const add = await cli(['add-pipeline', '--name', 'x', '--archetype', 'batch-ingestion'], { cwd: demo });
    expect(add.code, show(add)).toBe(0);
    expect(add.stdout).toMatch(/Not wired: check-upstream-dependency declare no config/);
    const doc = parseYaml(readFileSync(join(demo, 'pipelines', 'x.yaml'), 'utf8'));
    expect(doc.traits['upstream-dependency']).toBeUndefined();
    const ev = await cli(['evaluate', 'x', '--json'], { cwd: demo });
    expect(json(ev).readiness.blocking).toContainEqual(
      expect.objectContaining({ trait: 'upstream-dependency', reasonCode: 'NO_EVALUATOR' }),
    );
  });

  it('the scaffold evaluators given no config say which key is missing (no crash)', async (ctx) => {
    const demo = await initDemo(ctx);
    const cases: Array<[string, string, RegExp]> = [
      ['check-source-freshness', '{}', /^config key "path" is missing/],
      ['check-source-freshness', '{"path":"data/sales_events.csv"}', /^config key "maxLagSeconds" is missing/],
      ['check-source-freshness', '{"path":"data/sales_events.csv","maxLagSeconds":"x"}', /"maxLagSeconds" must be/],
      ['check-upstream-dependency', '{}', /^config key "markers" is missing/],
      ['check-upstream-dependency', '{"markers":[]}', /^config key "markers" is empty/],
      ['check-resource-availability', '{"minFreeMb":"lots"}', /^config key "minFreeMb" must be/],
    ];
    for (const [evaluator, config, re] of cases) {
      const r = await sh(`printf '%s' '${config}' | ./evaluators/${evaluator}`, { cwd: demo });
      expect(r.code, show(r)).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.status, `${evaluator} ${config}`).toBe('FAIL');
      expect(out.reason, `${evaluator} ${config}`).toMatch(re);
    }
    // With no config at all, resource-availability uses its documented default (50 MB).
    const r = await sh("printf '{}' | ./evaluators/check-resource-availability", { cwd: demo });
    expect(JSON.parse(r.stdout).value.minFreeMb).toBe(50);
  });
});

// ---------------------------------------------------------------------------------------------------------------
/** A project whose evaluators answer with long values and reasons (300+ characters). */
function longProject(ctx: TestContext): { root: string; value: string; reason: string } {
  const root = tmp(ctx);
  copyFixtureEvaluators(root);
  const value = `v${'x'.repeat(300)}-end-of-value`;
  const reason = `r${'y'.repeat(300)}-end-of-reason`;
  writeFiles(root, {
    'interlock.yaml': 'provider: sqlite\n',
    'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: wide\n  - type: why\n',
    'evaluators/wide': `#!/bin/sh\ncat >/dev/null\necho '{"status":"PASS","value":{"long":"${value}"}}'\n`,
    'evaluators/why': `#!/bin/sh\ncat >/dev/null\necho '{"status":"FAIL","reason":"${reason}"}'\n`,
    'pipelines/p.yaml': 'name: p\narchetype: gate\ntraits:\n  wide:\n    evaluator: wide\n  why:\n    evaluator: why\n',
  });
  return { root, value, reason };
}

describe.concurrent('values are never cut when piped; on a terminal, lines fit its width (item 14)', SLOW, () => {
  it('piped: evaluate, status, status <p> and history print every character, no "…"', async (ctx) => {
    const { root, value, reason } = longProject(ctx);
    const ev = await cli(['evaluate', 'p'], { cwd: root });
    expect(ev.code, show(ev)).toBe(1);
    for (const args of [['evaluate', 'p'], ['status'], ['status', 'p'], ['history', 'p']]) {
      const r = await cli(args, { cwd: root });
      expect(r.stdout, args.join(' ')).not.toContain('…');
      expect(r.stdout, args.join(' ')).toContain(reason);
      if (args[0] !== 'history' && args.length === 2) expect(r.stdout, args.join(' ')).toContain(value);
    }
  });

  it('on a 60-column terminal every value line fits in 60 columns, cut with "…" (colours kept balanced)', async (ctx) => {
    const { root, reason } = longProject(ctx);
    expect((await cli(['evaluate', 'p'], { cwd: root })).code).toBe(1);
    for (const args of ['evaluate p', 'status', 'status p', 'history p']) {
      const r = await onTerminal(args, root);
      const lines = stripAnsi(r.stdout).replace(/\r/g, '').trimEnd().split('\n');
      expect(lines.length, `${args}\n${show(r)}`).toBeGreaterThan(1);
      for (const l of lines) expect([...l].length, `${args}: ${l}`).toBeLessThanOrEqual(60);
      expect(r.stdout, args).toContain('…');
      expect(r.stdout, args).not.toContain(reason);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.concurrent('CLI conventions (item 15)', SLOW, () => {
  it('every subcommand --help lists the global options --json, --config and --no-color', async (ctx) => {
    const dir = tmp(ctx);
    const commands = [
      'init',
      'add-pipeline',
      'validate',
      'evaluate',
      'run',
      'complete',
      'cancel',
      'runs',
      'status',
      'history',
      'schedule',
      'windows',
      'serve',
      'help',
    ];
    const results = await Promise.all(commands.map((c) => cli([c, '--help'], { cwd: dir })));
    for (const [i, c] of commands.entries()) {
      const r = results[i];
      expect(r.code, `${c}\n${show(r)}`).toBe(0);
      expect(r.stdout, c).toMatch(new RegExp(`^Usage: interlock ${c}\\b`, 'm'));
      const global = r.stdout.split(/^Global Options:$/m)[1] ?? '';
      expect(global, `${c}: no "Global Options:" section\n${r.stdout}`).toMatch(/^ +--json\b/m);
      expect(global, c).toMatch(/^ +-c, --config <file>/m);
      expect(global, c).toMatch(/^ +--no-color\b/m);
    }
  });

  it('`help help` explains the help command (exit 0); `help <cmd>` = `<cmd> --help`; `help nope` exits 2', async (ctx) => {
    const dir = tmp(ctx);
    const hh = await cli(['help', 'help'], { cwd: dir });
    expect(hh.code, show(hh)).toBe(0);
    expect(hh.stdout).toMatch(/^Usage: interlock help \[options\] \[command\]/m);
    const [viaHelp, viaFlag] = await Promise.all([
      cli(['help', 'evaluate'], { cwd: dir }),
      cli(['evaluate', '--help'], { cwd: dir }),
    ]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    const top = await cli(['help'], { cwd: dir });
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: interlock \[options\] \[command\]/m);
    const nope = await cli(['help', 'nope'], { cwd: dir });
    expect(nope.code, show(nope)).toBe(2);
    expect(nope.stderr).toMatch(/^interlock: unknown command 'nope'/);
  });

  it('--version --json prints {"version"} (either order); --version alone stays plain', async (ctx) => {
    const dir = tmp(ctx);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    for (const args of [
      ['--version', '--json'],
      ['--json', '--version'],
      ['-V', '--json'],
    ]) {
      const r = await cli(args, { cwd: dir });
      expect(r.code, show(r)).toBe(0);
      expect(json(r), args.join(' ')).toEqual({ version: pkg.version });
    }
    expect((await cli(['--version'], { cwd: dir })).stdout).toBe(`${pkg.version}\n`);
  });

  it('one error prefix: every error on stderr starts "interlock: " (usage, config, unknown pipeline)', async (ctx) => {
    const demo = await initDemo(ctx);
    const empty = tmp(ctx);
    const cases: Array<{ args: string[]; cwd: string; re: RegExp }> = [
      { args: ['frobnicate'], cwd: empty, re: /unknown command 'frobnicate'/ },
      { args: ['status', '--bogus'], cwd: demo, re: /unknown option '--bogus'/ },
      { args: ['evaluate'], cwd: demo, re: /missing required argument 'pipeline'/ },
      {
        args: ['init', 'x', '--provider', 'mongo'],
        cwd: empty,
        re: /--provider <provider>' argument 'mongo' is invalid/,
      },
      { args: ['add-pipeline', '--name', 'x'], cwd: demo, re: /required option '--archetype <archetype>'/ },
      { args: ['status'], cwd: empty, re: /interlock\.yaml/ },
      { args: ['evaluate', 'nope'], cwd: demo, re: /unknown pipeline 'nope'/ },
      { args: ['history', 'example', '--limit', 'x'], cwd: demo, re: /--limit must be/ },
    ];
    const results = await Promise.all(cases.map((c) => cli(c.args, { cwd: c.cwd })));
    for (const [i, c] of cases.entries()) {
      const r = results[i];
      const what = `${c.args.join(' ')}\n${show(r)}`;
      expect(r.code, what).toBe(2);
      const first = r.stderr.split('\n')[0];
      expect(first, what).toMatch(/^interlock: /);
      expect(first, what).toMatch(c.re);
      expect(r.stderr, what).not.toMatch(/^error:/m);
    }
  });

  it('TERM=dumb turns colours off on a real terminal (which otherwise has them)', async (ctx) => {
    const demo = await initDemo(ctx);
    expect((await cli(['evaluate', 'example'], { cwd: demo })).code).toBe(0);
    const [xterm, dumb] = await Promise.all([
      onTerminal('status example', demo, { TERM: 'xterm-256color' }, 200),
      onTerminal('status example', demo, { TERM: 'dumb' }, 200),
    ]);
    expect(xterm.code, show(xterm)).toBe(0);
    expect(xterm.stdout).toMatch(ANSI);
    expect(dumb.code, show(dumb)).toBe(0);
    expect(dumb.stdout).toMatch(/example \(batch-ingestion/);
    expect(dumb.stdout).not.toMatch(ANSI);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('init --provider redis keys each project apart (item 16)', SLOW, () => {
  const redis = useRedis();

  it('writes keyPrefix "interlock:<dir name>:" (sanitised), prints the address; two projects on one Redis share no key', async (ctx) => {
    const parent = tmp(ctx);
    const results = await Promise.all([
      cli(['init', 'Sales Ingest!', '--provider', 'redis'], { cwd: parent }),
      cli(['init', 'billing', '--provider', 'redis'], { cwd: parent }),
    ]);
    for (const r of results) expect(r.code, show(r)).toBe(0);
    expect(results[0].stdout).toMatch(/Redis\/Valkey at localhost:6379, keys prefixed "interlock:sales-ingest:"/);
    expect(results[1].stdout).toMatch(/keys prefixed "interlock:billing:"/);
    const roots = [join(parent, 'Sales Ingest!'), join(parent, 'billing')];
    const prefixes = ['interlock:sales-ingest:', 'interlock:billing:'];
    for (const [i, root] of roots.entries()) {
      const cfgFile = join(root, 'interlock.yaml');
      const text = readFileSync(cfgFile, 'utf8');
      expect(parseYaml(text).redis).toEqual({ addr: 'localhost:6379', keyPrefix: prefixes[i] });
      expect((await cli(['validate'], { cwd: root })).code).toBe(0);
      // Point both at the test's own redis-server (never a Redis that may run on this machine).
      writeFileSync(cfgFile, text.replace('localhost:6379', redis.server.addr));
      const ev = await cli(['evaluate', 'example'], { cwd: root });
      expect(ev.code, show(ev)).toBe(0);
    }
    const client = new Redis({ host: '127.0.0.1', port: redis.server.port, lazyConnect: true });
    ctx.onTestFinished(() => void client.disconnect());
    await client.connect();
    const keys = await client.keys('*');
    expect(keys.length).toBeGreaterThan(2);
    for (const k of keys)
      expect(
        prefixes.some((p) => k.startsWith(p)),
        k,
      ).toBe(true);
    for (const p of prefixes)
      expect(
        keys.some((k) => k.startsWith(p)),
        p,
      ).toBe(true);
  });
});
