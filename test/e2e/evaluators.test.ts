// End-to-end: `interlock evaluate` of the BUILT CLI against real fixture evaluators — every protocol outcome,
// in JSON and human output, plus what an evaluator sees (stdin config, environment, working directory).
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { writeFiles } from '../support/files.js';
import { minimalProject } from '../support/minimal-project.js';
import { FIXTURE_EVALUATORS } from '../support/paths.js';
import { isAlive, killQuietly, waitDead } from '../support/processes.js';
import { cli, timedCli } from '../support/run-cli.js';
import { tempDirFor } from '../support/test-cleanups.js';

const tmp = (ctx: TestContext): string => tempDirFor(ctx, 'interlock-e2e-eval-');

interface Case {
  /** Fixture name, also the trait name. */
  kind: string;
  evaluator?: string;
  timeout?: number;
  code: string;
  /** What the reason must say. */
  reason: RegExp[];
}

/** Every failing kind: what evaluating a one-trait pipeline with it must report. */
const FAILING: Case[] = [
  { kind: 'fail', code: 'EVALUATOR_FAIL', reason: [/^upstream partition 2024-01-01 missing$/] },
  { kind: 'slow', timeout: 0.5, code: 'EVALUATOR_TIMEOUT', reason: [/timed out after 0\.5s/] },
  { kind: 'grandchild', timeout: 0.5, code: 'EVALUATOR_TIMEOUT', reason: [/timed out after 0\.5s/] },
  {
    kind: 'crash',
    code: 'EVALUATOR_ERROR',
    reason: [/exit code 3/, /connecting to warehouse\.\.\./, /fatal: connection refused \(warehouse:5432\)/],
  },
  { kind: 'signal', code: 'EVALUATOR_ERROR', reason: [/SIGKILL/, /about to die/] },
  { kind: 'garbage', code: 'EVALUATOR_OUTPUT_INVALID', reason: [/not JSON/, /not json/] },
  { kind: 'two-objects', code: 'EVALUATOR_OUTPUT_INVALID', reason: [/more than one JSON value/] },
  { kind: 'lowercase-status', code: 'EVALUATOR_OUTPUT_INVALID', reason: [/"status"/, /"pass"/] },
  { kind: 'huge', code: 'EVALUATOR_OUTPUT_TOO_LARGE', reason: [/stdout limit/] },
  { kind: 'not-executable', code: 'EVALUATOR_NOT_EXECUTABLE', reason: [/not executable/] },
  {
    kind: 'missing',
    evaluator: './evaluators/does-not-exist',
    code: 'EVALUATOR_NOT_FOUND',
    reason: [/not found/, /does-not-exist/],
  },
  { kind: 'no-evaluator', evaluator: '', code: 'NO_EVALUATOR', reason: [/no evaluator configured/] },
];

function traitOf(c: Case) {
  const evaluator = c.evaluator === undefined ? `./evaluators/${c.kind}` : c.evaluator || undefined;
  return { type: c.kind, evaluator, timeout: c.timeout };
}

/** `  STATE  trait  <duration>  <detail>` — the line the human output prints for one trait. */
function traitLine(stdout: string, trait: string): string | undefined {
  return stdout.split('\n').find((l) => new RegExp(`^  (PASS|FAIL|STALE) +${trait} +\\S+`).test(l));
}

describe.concurrent('evaluate: one fixture evaluator per pipeline', () => {
  it('pass → READY, exit 0, value shown, decision recorded', async (ctx) => {
    const dir = minimalProject(tmp(ctx), [{ type: 'pass', evaluator: './evaluators/pass' }]);
    const r = await cli(['evaluate', 'p', '--json'], { cwd: dir });
    expect(r.code, show(r)).toBe(0);
    const j = json(r);
    expect(j.pipeline).toBe('p');
    expect(j.outcome).toBe('READY');
    expect(j.readiness.blocking).toEqual([]);
    expect(j.readiness.traits).toHaveLength(1);
    expect(j.readiness.traits[0]).toMatchObject({ trait: 'pass', state: 'PASS' });
    expect(j.readiness.traits[0].result).toMatchObject({
      status: 'PASS',
      exitCode: 0,
      value: { rows: 42, partition: '2024-01-01' },
    });
    expect(j.decisionId).toMatch(/^[0-9A-Z]{26}$/);

    const h = await cli(['evaluate', 'p'], { cwd: dir });
    expect(h.code, show(h)).toBe(0);
    const lines = h.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('p (gate, 1 trait)');
    expect(traitLine(h.stdout, 'pass')).toMatch(/^ {2}PASS {2}pass +\S+ +rows=42 partition=2024-01-01$/);
    expect(lines.at(-1)).toBe('READY');
    expect(h.stdout).not.toMatch(/NOT_READY|blocked by/);
    expect(h.stderr).toBe('');

    // Both evaluations were recorded, newest first.
    const hist = json(await cli(['history', 'p', '--json'], { cwd: dir }));
    expect(hist.map((d: { outcome: string }) => d.outcome)).toEqual(['READY', 'READY']);
    expect(hist[1].id).toBe(j.decisionId);
  });

  it('ignores-stdin (never reads its config) → PASS, READY', async (ctx) => {
    const dir = minimalProject(tmp(ctx), [
      { type: 'ignores-stdin', evaluator: './evaluators/ignores-stdin', config: { big: 'x'.repeat(200_000) } },
    ]);
    const r = await cli(['evaluate', 'p', '--json'], { cwd: dir });
    expect(r.code, show(r)).toBe(0);
    expect(json(r).outcome).toBe('READY');
    expect(json(r).readiness.traits[0].state).toBe('PASS');
  });

  for (const c of FAILING) {
    it(`${c.kind} → ${c.code}, NOT_READY, exit 1`, async (ctx) => {
      const dir = minimalProject(tmp(ctx), [traitOf(c)]);
      const pidFile = join(dir, 'pids');
      const env = { FIXTURE_PID_FILE: pidFile };
      try {
        const r = await cli(['evaluate', 'p', '--json'], { cwd: dir, env });
        expect(r.code, show(r)).toBe(1);
        const j = json(r);
        expect(j.outcome).toBe('NOT_READY');
        expect(j.readiness.blocking).toHaveLength(1);
        const b = j.readiness.blocking[0];
        expect(b).toMatchObject({ trait: c.kind, state: 'FAIL', reasonCode: c.code });
        for (const re of c.reason) expect(b.reason).toMatch(re);
        expect(j.readiness.traits[0].result.status).toBe('FAIL');
        expect(j.readiness.traits[0].result.reasonCode).toBe(c.code);

        // The human output of every kind is checked in the mixed pipeline below (one CLI start fewer per kind).
      } finally {
        // A broken kill path must not leave sleepers behind.
        try {
          for (const pid of readFileSync(pidFile, 'utf8').trim().split(/\s+/).map(Number)) killQuietly(pid);
        } catch {}
      }
    });
  }

  it('crash: exit code and signal are recorded on the result', async (ctx) => {
    const dir = minimalProject(tmp(ctx), [
      { type: 'crash', evaluator: './evaluators/crash' },
      { type: 'signal', evaluator: './evaluators/signal' },
    ]);
    const r = await cli(['evaluate', 'p', '--json'], { cwd: dir });
    expect(r.code, show(r)).toBe(1);
    const [crash, signal] = json(r).readiness.traits;
    expect(crash.result).toMatchObject({ exitCode: 3, signal: null, reasonCode: 'EVALUATOR_ERROR' });
    expect(signal.result).toMatchObject({ exitCode: null, signal: 'SIGKILL', reasonCode: 'EVALUATOR_ERROR' });
  });

  it('stderr-flood: EVALUATOR_ERROR keeps the END of stderr, bounded', async (ctx) => {
    const dir = minimalProject(tmp(ctx), [{ type: 'flood', evaluator: './evaluators/stderr-flood' }]);
    const r = await cli(['evaluate', 'p', '--json'], { cwd: dir });
    expect(r.code, show(r)).toBe(1);
    const b = json(r).readiness.blocking[0];
    expect(b.reasonCode).toBe('EVALUATOR_ERROR');
    expect(b.reason).toMatch(/exit code 1/);
    expect(b.reason).toMatch(/LAST-STDERR-LINE/);
    expect(b.reason).not.toMatch(/noise line 1 /);
    expect(b.reason.length).toBeLessThanOrEqual(4200);
  });

  it('evaluator path is a directory → EVALUATOR_NOT_EXECUTABLE, never READY', async (ctx) => {
    const dir = minimalProject(tmp(ctx), [
      { type: 'ok', evaluator: './evaluators/pass' },
      { type: 'dir', evaluator: './evaluators/a-directory' },
    ]);
    mkdirSync(join(dir, 'evaluators', 'a-directory'), { mode: 0o755 });
    const r = await cli(['evaluate', 'p', '--json'], { cwd: dir });
    expect(r.code, show(r)).toBe(1);
    expect(json(r).readiness.blocking).toEqual([
      expect.objectContaining({ trait: 'dir', reasonCode: 'EVALUATOR_NOT_EXECUTABLE' }),
    ]);
  });

  it('bad-interpreter (#! target missing) → EVALUATOR_ERROR, fails closed', async (ctx) => {
    const dir = minimalProject(tmp(ctx), [{ type: 'interp', evaluator: './evaluators/bad-interpreter' }]);
    const r = await cli(['evaluate', 'p', '--json'], { cwd: dir });
    expect(r.code, show(r)).toBe(1);
    const b = json(r).readiness.blocking[0];
    expect(b.trait).toBe('interp');
    expect(b.reasonCode).toMatch(/^EVALUATOR_(ERROR|NOT_EXECUTABLE)$/);
  });
});

// Sequential: these assert wall-clock bounds, so they do not share the CPU with concurrent tests of this file.
describe.sequential('evaluate: runaway process groups are killed', () => {
  it('grandchild holding stdout: returns within timeout + 1.5 s and the grandchild is dead', async (ctx) => {
    const dir = minimalProject(tmp(ctx), [{ type: 'grandchild', evaluator: './evaluators/grandchild', timeout: 0.5 }]);
    const pidFile = join(dir, 'pids');
    let pids: number[] = [];
    try {
      // timeout (0.5 s) + 1.5 s, node start included; on a loaded machine, allow what a bare start costs over 300 ms.
      const bare = await timedCli(['--version'], { cwd: dir });
      const bound = 2000 + Math.max(0, bare.ms - 300);
      const r = await timedCli(['evaluate', 'p', '--json'], { cwd: dir, env: { FIXTURE_PID_FILE: pidFile } });
      expect(r.code, show(r)).toBe(1);
      expect(r.ms).toBeLessThan(bound);
      expect(json(r).readiness.blocking[0].reasonCode).toBe('EVALUATOR_TIMEOUT');
      pids = readFileSync(pidFile, 'utf8').trim().split(/\s+/).map(Number);
      expect(pids).toHaveLength(2);
      const [leader, grandchild] = pids;
      expect(await waitDead(grandchild), `grandchild ${grandchild} still alive`).toBe(true);
      expect(await waitDead(leader), `leader ${leader} still alive`).toBe(true);
    } finally {
      for (const pid of pids) killQuietly(pid);
    }
  });

  it('slow: killed at the timeout, not after its 30 s sleep', async (ctx) => {
    const dir = minimalProject(tmp(ctx), [{ type: 'slow', evaluator: './evaluators/slow', timeout: 0.5 }]);
    const pidFile = join(dir, 'pid');
    let pid = 0;
    try {
      const r = await timedCli(['evaluate', 'p'], { cwd: dir, env: { FIXTURE_PID_FILE: pidFile } });
      expect(r.code, show(r)).toBe(1);
      expect(r.ms).toBeLessThan(2000);
      expect(r.stdout).toMatch(/blocked by slow: .*\[EVALUATOR_TIMEOUT\]/);
      pid = Number(readFileSync(pidFile, 'utf8').trim());
      expect(await waitDead(pid)).toBe(true);
    } finally {
      if (pid) killQuietly(pid);
    }
  });

  it('ignores-term (traps SIGTERM): still killed (SIGKILL after the grace), EVALUATOR_TIMEOUT', async (ctx) => {
    const dir = minimalProject(tmp(ctx), [{ type: 'stubborn', evaluator: './evaluators/ignores-term', timeout: 0.5 }]);
    const pidFile = join(dir, 'pid');
    let pid = 0;
    try {
      const r = await timedCli(['evaluate', 'p', '--json'], { cwd: dir, env: { FIXTURE_PID_FILE: pidFile } });
      expect(r.code, show(r)).toBe(1);
      expect(r.ms).toBeLessThan(2500);
      expect(json(r).readiness.blocking[0].reasonCode).toBe('EVALUATOR_TIMEOUT');
      pid = Number(readFileSync(pidFile, 'utf8').trim());
      expect(await waitDead(pid)).toBe(true);
    } finally {
      if (pid) killQuietly(pid);
    }
  });

  // Own timeout: waiting for the grandchild's 30 s (the bug this catches) must fail fast, not hang the suite.
  it('grandchild-exits (answers PASS, leaves a grandchild on stdout): PASS at once, grandchild killed', {
    timeout: 10_000,
  }, async (ctx) => {
    const dir = minimalProject(tmp(ctx), [{ type: 'gc', evaluator: './evaluators/grandchild-exits', timeout: 10 }]);
    const pidFile = join(dir, 'pids');
    let pids: number[] = [];
    try {
      const r = await timedCli(['evaluate', 'p', '--json'], { cwd: dir, env: { FIXTURE_PID_FILE: pidFile } });
      expect(r.code, show(r)).toBe(0);
      expect(r.ms).toBeLessThan(3000); // far below the 10 s timeout and the grandchild's 30 s
      const j = json(r);
      expect(j.outcome).toBe('READY');
      expect(j.readiness.traits[0].result.value).toEqual({ grandchild: true });
      pids = readFileSync(pidFile, 'utf8').trim().split(/\s+/).map(Number);
      expect(await waitDead(pids[1]), `grandchild ${pids[1]} still alive`).toBe(true);
    } finally {
      for (const pid of pids) killQuietly(pid);
    }
  });
});

// Sequential: these assert wall-clock bounds, so they do not share the CPU with concurrent tests of this file.
describe.sequential('evaluate: a pipeline mixing pass and every failing kind', () => {
  it('is NOT_READY and lists every failure (and not the passes), in trait order', async (ctx) => {
    const traits = [
      { type: 'pass', evaluator: './evaluators/pass' },
      ...FAILING.map(traitOf),
      { type: 'ignores-stdin', evaluator: './evaluators/ignores-stdin' },
    ];
    const dir = minimalProject(tmp(ctx), traits);
    const pidFile = join(dir, 'pids');
    try {
      const r = await timedCli(['evaluate', 'p', '--json'], { cwd: dir, env: { FIXTURE_PID_FILE: pidFile } });
      expect(r.code, show(r)).toBe(1);
      // Evaluators run in parallel: the two 0.5 s timeouts do not add up to much more than one.
      expect(r.ms).toBeLessThan(4000);
      const j = json(r);
      expect(j.outcome).toBe('NOT_READY');
      expect(j.readiness.traits.map((t: { trait: string }) => t.trait)).toEqual(traits.map((t) => t.type));
      expect(j.readiness.blocking.map((b: { trait: string; reasonCode: string }) => [b.trait, b.reasonCode])).toEqual(
        FAILING.map((c) => [c.kind, c.code]),
      );
      const states = Object.fromEntries(
        j.readiness.traits.map((t: { trait: string; state: string }) => [t.trait, t.state]),
      );
      expect(states.pass).toBe('PASS');
      expect(states['ignores-stdin']).toBe('PASS');

      const h = await cli(['evaluate', 'p'], { cwd: dir, env: { FIXTURE_PID_FILE: pidFile } });
      expect(h.code, show(h)).toBe(1);
      const lines = h.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(`p (gate, ${traits.length} traits)`);
      expect(lines.filter((l) => /^ {2}(PASS|FAIL|STALE) /.test(l))).toHaveLength(traits.length);
      expect(traitLine(h.stdout, 'pass')).toMatch(/^ {2}PASS /);
      for (const c of FAILING) {
        expect(traitLine(h.stdout, c.kind)).toMatch(new RegExp(`^  FAIL .*\\[${c.code}\\]$`));
        expect(h.stdout).toMatch(new RegExp(`^  blocked by ${c.kind}: .*\\[${c.code}\\]$`, 'm'));
      }
      expect(h.stdout).not.toMatch(/blocked by (pass|ignores-stdin):/);
      // The verdict comes after the trait lines, then one "blocked by" line per failure, in trait order.
      const verdict = lines.indexOf('NOT_READY');
      expect(verdict).toBe(1 + traits.length);
      expect(lines.slice(verdict + 1).map((l) => /^ {2}blocked by ([^:]+): /.exec(l)?.[1])).toEqual(
        FAILING.map((c) => c.kind),
      );
      expect(lines).toContain('NOT_READY');
      expect(lines).not.toContain('READY');
    } finally {
      try {
        for (const pid of readFileSync(pidFile, 'utf8').trim().split(/\s+/).map(Number)) killQuietly(pid);
      } catch {}
    }
  });
});

describe.concurrent('evaluate: readiness rules end to end', () => {
  it('a failing optional trait is shown but does not block; a failing required one does', async (ctx) => {
    const root = tmp(ctx);
    minimalProject(root, [{ type: 'req', evaluator: './evaluators/pass' }]);
    writeFiles(root, {
      'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: req\noptionalTraits:\n  - type: opt\n',
      'pipelines/p.yaml':
        'name: p\narchetype: gate\ntraits:\n  req: {evaluator: ./evaluators/pass}\n  opt: {evaluator: ./evaluators/crash}\n',
      'pipelines/q.yaml':
        'name: q\narchetype: gate\ntraits:\n  req: {evaluator: ./evaluators/crash}\n  opt: {evaluator: ./evaluators/pass}\n',
    });
    const p = await cli(['evaluate', 'p', '--json'], { cwd: root });
    expect(p.code, show(p)).toBe(0);
    const pj = json(p);
    expect(pj.outcome).toBe('READY');
    expect(pj.readiness.traits).toEqual([
      expect.objectContaining({ trait: 'req', required: true, state: 'PASS' }),
      expect.objectContaining({ trait: 'opt', required: false, state: 'FAIL' }),
    ]);
    const ph = await cli(['evaluate', 'p'], { cwd: root });
    expect(traitLine(ph.stdout, 'opt')).toMatch(/^ {2}FAIL .*\[EVALUATOR_ERROR\]$/);
    expect(ph.stdout.trimEnd().split('\n').at(-1)).toBe('READY');

    const q = await cli(['evaluate', 'q', '--json'], { cwd: root });
    expect(q.code, show(q)).toBe(1);
    expect(json(q).readiness.blocking.map((b: { trait: string }) => b.trait)).toEqual(['req']);
  });

  it('majority-pass: 2 of 3 is READY, 1 of 3 is NOT_READY with a note', async (ctx) => {
    const root = tmp(ctx);
    minimalProject(root, [{ type: 'a', evaluator: './evaluators/pass' }]);
    const arch =
      'name: gate\nrequiredTraits:\n  - type: a\n  - type: b\n  - type: c\nreadinessRule:\n  type: majority-pass\n';
    const pipe = (name: string, b: string) =>
      `name: ${name}\narchetype: gate\ntraits:\n  a: {evaluator: ./evaluators/pass}\n  b: {evaluator: ./evaluators/${b}}\n  c: {evaluator: ./evaluators/garbage}\n`;
    writeFiles(root, {
      'archetypes/gate.yaml': arch,
      'pipelines/p.yaml': pipe('p', 'pass'),
      'pipelines/q.yaml': pipe('q', 'fail'),
    });
    const p = await cli(['evaluate', 'p', '--json'], { cwd: root });
    expect(p.code, show(p)).toBe(0);
    expect(json(p).readiness.rule.type).toBe('majority-pass');
    expect(json(p).outcome).toBe('READY');
    const q = await cli(['evaluate', 'q'], { cwd: root });
    expect(q.code, show(q)).toBe(1);
    expect(q.stdout).toMatch(/^NOT_READY$/m);
    expect(q.stdout).toMatch(/1 of 3 .*majority/);
    expect(q.stdout).toMatch(/^ {2}blocked by b: .*\[EVALUATOR_FAIL\]$/m);
    expect(q.stdout).toMatch(/^ {2}blocked by c: .*\[EVALUATOR_OUTPUT_INVALID\]$/m);
  });
});

describe.concurrent('evaluate: what an evaluator sees', () => {
  /** archetype default config shallow-merged with the pipeline's; evaluator given by bare name. */
  function echoProject(root: string): string {
    writeFiles(root, {
      'interlock.yaml': 'provider: sqlite\n',
      'archetypes/gate.yaml': [
        'name: gate',
        'requiredTraits:',
        '  - type: echo',
        '    defaultEnv: [FIXTURE_EXTRA]',
        '    defaultConfig:',
        '      maxLagSeconds: 300',
        '      source: default-source',
        '      nested: {a: 1, b: 2}',
        '',
      ].join('\n'),
      'pipelines/p.yaml': [
        'name: p',
        'archetype: gate',
        'traits:',
        '  echo:',
        '    evaluator: echo-config',
        '    config:',
        '      source: sales_events',
        '      nested: {a: 9}',
        '      list: [1, "two"]',
        '',
      ].join('\n'),
    });
    writeFiles(root, { 'evaluators/echo-config': readFileSync(join(FIXTURE_EVALUATORS, 'echo-config'), 'utf8') });
    mkdirSync(join(root, 'data', 'deep', 'er'), { recursive: true });
    return root;
  }

  it('stdin is the merged config; INTERLOCK_* set; cwd is the project root even from a subdirectory', async (ctx) => {
    const root = echoProject(tmp(ctx));
    const real = realpathSync(root);
    const r = await cli(['evaluate', 'p', '--json'], {
      cwd: join(root, 'data', 'deep', 'er'),
      env: { FIXTURE_EXTRA: 'passed-through' },
    });
    expect(r.code, show(r)).toBe(0);
    const j = json(r);
    expect(j.outcome).toBe('READY');
    const value = j.readiness.traits[0].result.value;
    expect(value.config).toEqual({
      maxLagSeconds: 300,
      source: 'sales_events',
      nested: { a: 9 }, // shallow merge: the pipeline's object replaces the default's
      list: [1, 'two'],
    });
    expect(value.env).toEqual({ INTERLOCK_PIPELINE: 'p', INTERLOCK_TRAIT: 'echo', INTERLOCK_PROJECT_DIR: real });
    expect(realpathSync(value.cwd)).toBe(real);
    // Passed because the archetype lists it in defaultEnv; its value is masked in what is shown and stored.
    expect(value.fixtureExtra).toBe('***');

    // Human output from the subdirectory shows the echoed value on the trait's line.
    const h = await cli(['evaluate', 'p'], { cwd: join(root, 'data') });
    expect(h.code, show(h)).toBe(0);
    expect(traitLine(h.stdout, 'echo')).toMatch(/config=\{.*"source":"sales_events"/);
  });

  it('--config from outside the project: cwd is still the project root', async (ctx) => {
    const root = echoProject(tmp(ctx));
    const elsewhere = tmp(ctx);
    const r = await cli(['evaluate', 'p', '--json', '--config', join(root, 'interlock.yaml')], { cwd: elsewhere });
    expect(r.code, show(r)).toBe(0);
    expect(realpathSync(json(r).readiness.traits[0].result.value.cwd)).toBe(realpathSync(root));
  });
});

// Guard against a fixture that silently stops writing pid files (the kill tests would then prove nothing).
describe.concurrent('fixture sanity', () => {
  it('isAlive sees our own process and not a reaped one', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(2 ** 22 + 12345)).toBe(false);
  });
});
