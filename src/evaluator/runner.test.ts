// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in configs are the subject under test.
// evaluateTrait and EvaluatorPool against the real fixture evaluators: every outcome becomes a TraitResult.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { expectAllDead } from '../../test/support/expect-dead.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import type { ResolvedTrait, TraitResult } from '../core/types.js';
import { type EvalContext, EvaluatorPool, evaluateTrait, MAX_REASON_CHARS } from './runner.js';
import { Semaphore } from './semaphore.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/evaluators/', import.meta.url));
const fx = (name: string): string => join(FIXTURES, name);
const tmp = mkdtempSync(join(tmpdir(), 'interlock-runner-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;

function trait(evaluator: string | undefined, over: Partial<ResolvedTrait> = {}): ResolvedTrait {
  const t: ResolvedTrait = { type: 'freshness', required: true, config: {}, timeoutSeconds: 5, ...over };
  if (evaluator !== undefined) t.evaluator = evaluator;
  return t;
}

function ctx(over: Partial<EvalContext> = {}): EvalContext {
  return { projectDir: tmp, pipeline: 'orders-daily', clock: new FakeClock(T0), env: process.env, ...over };
}

let pidFileSeq = 0;
const newPidFile = (): string => join(tmp, `pids-${++pidFileSeq}`);
const readPids = (file: string): number[] => readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);

describe('evaluateTrait: answers', () => {
  it('PASS with a value: no reasonCode, exit 0, stamped by the clock', async () => {
    const r = await evaluateTrait(trait(fx('pass')), ctx());
    expect(r).toMatchObject({
      pipeline: 'orders-daily',
      trait: 'freshness',
      status: 'PASS',
      value: { rows: 42, partition: '2024-01-01' },
      exitCode: 0,
      signal: null,
      evaluatedAt: T0,
    });
    expect(r.reasonCode).toBeUndefined();
    expect(r.reason).toBeUndefined();
    expect(r.expiresAt).toBeUndefined();
    expect(Number.isInteger(r.durationMs)).toBe(true);
  });

  it('FAIL with the evaluator reason and EVALUATOR_FAIL', async () => {
    const r = await evaluateTrait(trait(fx('fail')), ctx());
    expect(r).toMatchObject({
      status: 'FAIL',
      reasonCode: 'EVALUATOR_FAIL',
      reason: 'upstream partition 2024-01-01 missing',
      value: { rows: 0 },
    });
  });

  it('sends the config on stdin and INTERLOCK_* env, runs in projectDir, passes the variables its env lists', async () => {
    const config = { table: 'orders', maxLagSeconds: 60, nested: { a: [1, 2] } };
    const r = await evaluateTrait(
      trait(fx('echo-config'), { type: 'row-count', config, env: ['FIXTURE_EXTRA'] }),
      ctx({ env: { ...process.env, FIXTURE_EXTRA: 'from-base-env' } }),
    );
    expect(r.status).toBe('PASS');
    expect(r.value).toEqual({
      config,
      env: { INTERLOCK_PIPELINE: 'orders-daily', INTERLOCK_TRAIT: 'row-count', INTERLOCK_PROJECT_DIR: tmp },
      cwd: tmp,
      fixtureExtra: 'from-base-env',
    });
  });

  it.each([
    [60, 'PASS'],
    [45, 'PASS'],
    [44, 'FAIL'],
  ])('python freshness seed example: maxLagSeconds %i → %s', async (maxLagSeconds, status) => {
    const r = await evaluateTrait(trait(fx('python-freshness'), { config: { maxLagSeconds } }), ctx());
    expect(r.status).toBe(status);
    expect(r.value).toEqual({ lagSeconds: 45, maxLagSeconds });
    if (status === 'FAIL')
      expect(r).toMatchObject({ reasonCode: 'EVALUATOR_FAIL', reason: 'lag 45s exceeds maxLagSeconds 44s' });
  });

  it('PASS even when the evaluator never reads a large stdin', async () => {
    const r = await evaluateTrait(trait(fx('ignores-stdin'), { config: { pad: 'z'.repeat(2 * 1024 * 1024) } }), ctx());
    expect(r.status).toBe('PASS');
  });
});

describe('evaluateTrait: the minimal environment', () => {
  const base = {
    PATH: process.env.PATH,
    HOME: '/home/x',
    LANG: 'C.UTF-8',
    LC_ALL: 'C',
    TZ: 'UTC',
    TMPDIR: '/tmp',
    INTERLOCK_API_TOKEN: 'api-token-never-passed',
    INTERLOCK_CUSTOM: 'ctx',
    AWS_SECRET_ACCESS_KEY: 'aws-secret-not-listed',
    FIXTURE_SECRET: 'listed-secret-value',
    UNRELATED: 'x',
  };

  it('gets PATH, HOME, LANG, LC_*, TZ, TMPDIR and INTERLOCK_* (never the API token), nothing else unlisted', async () => {
    const r = await evaluateTrait(trait(fx('env-dump')), ctx({ env: base }));
    expect(r.status, r.reason).toBe('PASS');
    expect((r.value as { names: string[] }).names).toEqual(
      [
        'HOME',
        'INTERLOCK_CUSTOM',
        'INTERLOCK_PIPELINE',
        'INTERLOCK_PROJECT_DIR',
        'INTERLOCK_TRAIT',
        'LANG',
        'LC_ALL',
        'PATH',
        'TMPDIR',
        'TZ',
      ].sort(),
    );
  });

  it('plus exactly the listed variables; ${VAR} in config expands only for listed ones; an unset one FAILs', async () => {
    const t = trait(fx('env-dump'), {
      env: ['FIXTURE_SECRET', 'INTERLOCK_API_TOKEN'],
      config: { url: 'https://db/?key=${FIXTURE_SECRET}', other: '${UNRELATED}', list: ['${FIXTURE_SECRET}'] },
    });
    const r = await evaluateTrait(t, ctx({ env: base }));
    expect(r.status, r.reason).toBe('PASS');
    const v = r.value as { names: string[]; config: Record<string, unknown>; secret: string };
    expect(v.names).toContain('FIXTURE_SECRET');
    expect(v.names).not.toContain('INTERLOCK_API_TOKEN');
    expect(v.names).not.toContain('AWS_SECRET_ACCESS_KEY');
    expect(v.config).toEqual({
      url: 'https://db/?key=listed-secret-value',
      other: '${UNRELATED}',
      list: ['listed-secret-value'],
    });
    const unset = await evaluateTrait(t, ctx({ env: { PATH: process.env.PATH } }));
    expect(unset).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR' });
    expect(unset.reason).toContain('FIXTURE_SECRET');
  });
});

describe('evaluateTrait: failures are results', () => {
  it('NO_EVALUATOR when none is configured', async () => {
    const r = await evaluateTrait(trait(undefined, { type: 'schema' }), ctx());
    expect(r).toMatchObject({
      status: 'FAIL',
      reasonCode: 'NO_EVALUATOR',
      reason: 'no evaluator configured for required trait schema',
      durationMs: 0,
      evaluatedAt: T0,
    });
  });

  it('EVALUATOR_NOT_FOUND names the path', async () => {
    const missing = join(tmp, 'nope', 'check.sh');
    const r = await evaluateTrait(trait(missing), ctx());
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_NOT_FOUND' });
    expect(r.reason).toContain(missing);
  });

  it('resolves a relative evaluator against projectDir', async () => {
    const r = await evaluateTrait(trait('pass', { evaluatorRef: './pass' }), ctx({ projectDir: FIXTURES }));
    expect(r.status).toBe('PASS');
  });

  it.each([
    ['mode 0644', fx('not-executable')],
    ['a directory', FIXTURES],
  ])('EVALUATOR_NOT_EXECUTABLE for %s', async (_label, file) => {
    const r = await evaluateTrait(trait(file), ctx());
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_NOT_EXECUTABLE' });
  });

  it('EVALUATOR_ERROR for a #! interpreter that does not exist', async () => {
    const r = await evaluateTrait(trait(fx('bad-interpreter')), ctx());
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR' });
    expect(r.reason).toContain('ENOENT');
  });

  it('EVALUATOR_ERROR with exit code and stderr for a crash', async () => {
    const r = await evaluateTrait(trait(fx('crash')), ctx());
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR', exitCode: 3, signal: null });
    expect(r.reason).toContain('exit code 3');
    expect(r.reason).toContain('fatal: connection refused (warehouse:5432)');
  });

  it('EVALUATOR_ERROR naming the signal when killed', async () => {
    const r = await evaluateTrait(trait(fx('signal')), ctx());
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR', exitCode: null, signal: 'SIGKILL' });
    expect(r.reason).toContain('killed by SIGKILL');
    expect(r.reason).toContain('about to die');
  });

  it('keeps the reason bounded when stderr floods, keeping its end', async () => {
    const r = await evaluateTrait(trait(fx('stderr-flood')), ctx());
    expect(r).toMatchObject({ reasonCode: 'EVALUATOR_ERROR', exitCode: 1 });
    expect(r.reason?.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(r.reason).toContain('exit code 1');
    expect(r.reason).toContain('LAST-STDERR-LINE');
  });

  it.each([
    ['garbage', /not JSON.*not json/],
    ['two-objects', /more than one JSON value/],
    ['lowercase-status', /got "pass"/],
  ])('EVALUATOR_OUTPUT_INVALID for %s', async (name, reason) => {
    const r = await evaluateTrait(trait(fx(name)), ctx());
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_OUTPUT_INVALID', exitCode: 0 });
    expect(r.reason).toMatch(reason);
  });

  it('EVALUATOR_OUTPUT_TOO_LARGE for ~5 MiB of output under the default 1 MiB cap', async () => {
    const r = await evaluateTrait(trait(fx('huge')), ctx());
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_OUTPUT_TOO_LARGE' });
    expect(r.value).toBeUndefined();
  });

  it('the same huge output passes when the cap allows it', async () => {
    const r = await evaluateTrait(trait(fx('huge')), ctx({ maxStdoutBytes: 6 * 1024 * 1024 }));
    expect(r.status).toBe('PASS');
  });

  it('EVALUATOR_TIMEOUT for a hang, within 250 ms of the timeout', async () => {
    const r = await evaluateTrait(trait(fx('slow'), { timeoutSeconds: 0.3 }), ctx());
    expect(r).toMatchObject({
      status: 'FAIL',
      reasonCode: 'EVALUATOR_TIMEOUT',
      reason: 'timed out after 0.3s; process group killed',
    });
    expect(r.durationMs).toBeLessThanOrEqual(300 + 250);
  });

  it('an aborted signal (server shutdown) kills the evaluator: FAIL with the abort reason, never PASS', async () => {
    const pidFile = newPidFile();
    const controller = new AbortController();
    const t0 = performance.now();
    const pending = evaluateTrait(
      trait(fx('slow'), { timeoutSeconds: 30, env: ['FIXTURE_PID_FILE'] }),
      ctx({ signal: controller.signal, env: { ...process.env, FIXTURE_PID_FILE: pidFile } }),
    );
    await new Promise((r) => setTimeout(r, 200));
    controller.abort(new Error('aborted by shutdown'));
    const r = await pending;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR' });
    expect(r.reason).toContain('aborted: aborted by shutdown');
    await expectAllDead(readPids(pidFile));
    // Already aborted: nothing is started at all.
    const again = await evaluateTrait(trait(fx('pass')), ctx({ signal: controller.signal }));
    expect(again).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR' });
  });

  it('EVALUATOR_TIMEOUT with a grandchild holding stdout: fast, and nothing survives', async () => {
    const pidFile = newPidFile();
    const t0 = performance.now();
    const r = await evaluateTrait(
      trait(fx('grandchild'), { timeoutSeconds: 0.3, env: ['FIXTURE_PID_FILE'] }),
      ctx({ env: { ...process.env, FIXTURE_PID_FILE: pidFile } }),
    );
    expect(performance.now() - t0).toBeLessThanOrEqual(300 + 250);
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_TIMEOUT' });
    expect(r.durationMs).toBeLessThanOrEqual(300 + 250);
    await expectAllDead(readPids(pidFile));
  });

  it('EVALUATOR_TIMEOUT for a leader that ignores SIGTERM; it is SIGKILLed', async () => {
    const pidFile = newPidFile();
    const r = await evaluateTrait(
      trait(fx('ignores-term'), { timeoutSeconds: 0.3, env: ['FIXTURE_PID_FILE'] }),
      ctx({ env: { ...process.env, FIXTURE_PID_FILE: pidFile } }),
    );
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_TIMEOUT', signal: 'SIGKILL' });
    expect(r.durationMs).toBeLessThanOrEqual(300 + 250);
    await expectAllDead(readPids(pidFile));
  });

  it('PASS from a leader that exits while its grandchild holds stdout; the grandchild is killed', async () => {
    const pidFile = newPidFile();
    const r = await evaluateTrait(
      trait(fx('grandchild-exits'), { timeoutSeconds: 5, env: ['FIXTURE_PID_FILE'] }),
      ctx({ env: { ...process.env, FIXTURE_PID_FILE: pidFile } }),
    );
    expect(r).toMatchObject({ status: 'PASS', value: { grandchild: true } });
    expect(r.durationMs).toBeLessThan(1000);
    await expectAllDead(readPids(pidFile));
  });

  it('INTERNAL (fail closed) when something unexpected throws', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const r = await evaluateTrait(trait(fx('pass'), { config: cyclic }), ctx());
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'INTERNAL', trait: 'freshness', evaluatedAt: T0 });
    expect(r.reason).toMatch(/internal error/);
  });

  it('INTERNAL even when the clock itself throws', async () => {
    const r = await evaluateTrait(
      trait(fx('pass')),
      ctx({
        clock: {
          now: () => {
            throw new Error('clock broke');
          },
        },
      }),
    );
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'INTERNAL' });
    expect(r.reason).toContain('clock broke');
  });
});

describe('evaluateTrait: confinement to evaluatorDirs (untrusted pipelines)', () => {
  it('re-checks the real path at spawn: a link swapped to /bin/sh FAILs EVALUATOR_FORBIDDEN and nothing runs', async () => {
    const dirs = join(tmp, 'confined');
    mkdirSync(dirs, { recursive: true });
    const link = join(dirs, 'check');
    symlinkSync(fx('pass'), link);
    const pwned = join(tmp, 'pwned-by-link');
    const t = trait(link, { config: { x: `$(id > ${pwned})` } });
    // A link pointing out of the dir is outside, whatever it was at registration time.
    const out = await evaluateTrait(t, ctx({ confineTo: [dirs] }));
    expect(out).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_FORBIDDEN' });
    expect(out.reason).toContain('outside evaluatorDirs');
    // Inside once the target is copied in; then swapped to a shell: refused at this spawn.
    rmSync(link);
    symlinkSync(fx('pass'), join(dirs, 'real-pass-link'));
    const inside = join(dirs, 'pass');
    copyFileSync(fx('pass'), inside);
    symlinkSync(inside, link);
    expect((await evaluateTrait(t, ctx({ confineTo: [dirs] }))).status).toBe('PASS');
    symlinkSync('/bin/sh', `${link}.new`);
    renameSync(`${link}.new`, link);
    const swapped = await evaluateTrait(t, ctx({ confineTo: [dirs] }));
    expect(swapped).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_FORBIDDEN' });
    expect(existsSync(pwned)).toBe(false);
    // Trusted (no confineTo): the link is followed, as for YAML pipelines.
    expect((await evaluateTrait(trait(join(dirs, 'real-pass-link')), ctx())).status).toBe('PASS');
  });
});

describe('evaluateTrait: time', () => {
  it('stamps evaluatedAt at the end of the evaluation and sets expiresAt from the TTL', async () => {
    const clock = new FakeClock(T0);
    const pending = evaluateTrait(trait(fx('pass'), { ttlSeconds: 600 }), ctx({ clock }));
    clock.advance(1234); // time passes while the evaluator runs
    const r = await pending;
    expect(r.evaluatedAt).toBe(T0 + 1234);
    expect(r.expiresAt).toBe(T0 + 1234 + 600_000);
  });

  it('sets expiresAt on runner failures too when a TTL is set', async () => {
    const r = await evaluateTrait(trait(fx('crash'), { ttlSeconds: 1 }), ctx());
    expect(r.expiresAt).toBe(T0 + 1000);
  });
});

describe('EvaluatorPool', () => {
  it('never runs more than the cap at once and keeps result order', async () => {
    const dir = join(tmp, 'conc-1');
    mkdirSync(dir);
    const pool = new EvaluatorPool(4);
    const traits = Array.from({ length: 40 }, (_, i) =>
      trait(fx('concurrency'), { type: `t${i}`, env: ['FIXTURE_CONC_DIR'] }),
    );
    const seen: TraitResult[] = [];
    let maxActive = 0;
    const results = await pool.evaluateAll(traits, ctx({ env: { ...process.env, FIXTURE_CONC_DIR: dir } }), (r) => {
      seen.push(r);
      maxActive = Math.max(maxActive, pool.active);
    });
    expect(results.map((r) => r.trait)).toEqual(traits.map((t) => t.type));
    expect(results.every((r) => r.status === 'PASS')).toBe(true);
    const observed = Math.max(...results.map((r) => Number(r.value?.seen)));
    expect(observed).toBeLessThanOrEqual(4);
    expect(observed).toBeGreaterThanOrEqual(2); // it does run in parallel
    expect(maxActive).toBeLessThanOrEqual(4);
    expect(seen).toHaveLength(40);
    expect(new Set(seen)).toEqual(new Set(results));
    expect(pool.active).toBe(0);
  });

  it('shares one cap across concurrent evaluateAll calls', async () => {
    const dir = join(tmp, 'conc-2');
    mkdirSync(dir);
    const pool = new EvaluatorPool(3);
    const c = ctx({ env: { ...process.env, FIXTURE_CONC_DIR: dir } });
    const batch = (p: string) =>
      Array.from({ length: 12 }, (_, i) => trait(fx('concurrency'), { type: `${p}${i}`, env: ['FIXTURE_CONC_DIR'] }));
    const [a, b] = await Promise.all([pool.evaluateAll(batch('a'), c), pool.evaluateAll(batch('b'), c)]);
    const observed = Math.max(...[...a, ...b].map((r) => Number(r.value?.seen)));
    expect(observed).toBeLessThanOrEqual(3);
    expect(a.map((r) => r.trait)).toEqual(batch('a').map((t) => t.type));
  });

  it('keeps order across mixed outcomes and durations, and survives a throwing onResult', async () => {
    const names = ['slow', 'pass', 'garbage', 'fail', 'crash', 'pass'];
    const traits = names.map((n, i) => trait(fx(n), { type: `${i}-${n}`, timeoutSeconds: n === 'slow' ? 0.3 : 5 }));
    const results = await new EvaluatorPool(2).evaluateAll(traits, ctx(), () => {
      throw new Error('callback bug');
    });
    expect(results.map((r) => [r.trait, r.reasonCode ?? r.status])).toEqual([
      ['0-slow', 'EVALUATOR_TIMEOUT'],
      ['1-pass', 'PASS'],
      ['2-garbage', 'EVALUATOR_OUTPUT_INVALID'],
      ['3-fail', 'EVALUATOR_FAIL'],
      ['4-crash', 'EVALUATOR_ERROR'],
      ['5-pass', 'PASS'],
    ]);
  });

  it('returns [] for no traits and defaults to a positive cap', async () => {
    const pool = new EvaluatorPool();
    expect(pool.concurrency).toBeGreaterThanOrEqual(4);
    expect(await pool.evaluateAll([], ctx())).toEqual([]);
  });
});

describe('Semaphore', () => {
  it('admits up to the permit count and wakes waiters in FIFO order', async () => {
    const sem = new Semaphore(2);
    await sem.acquire();
    await sem.acquire();
    expect(sem.inUse).toBe(2);
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => sem.acquire().then(() => order.push(n)));
    expect(sem.waiting).toBe(3);
    sem.release(); // a holder leaves: its permit goes straight to waiter 1
    sem.release(); // …and the other's to waiter 2
    await Promise.all(waiters.slice(0, 2));
    expect(order).toEqual([1, 2]);
    expect(sem.inUse).toBe(2);
    expect(sem.waiting).toBe(1);
    sem.release(); // waiter 1 leaves: waiter 3 gets in
    await waiters[2];
    expect(order).toEqual([1, 2, 3]);
    sem.release();
    sem.release();
    expect(sem.inUse).toBe(0);
    expect(() => sem.release()).toThrow(/more times than acquired/);
  });

  it('releases the permit when the work throws', async () => {
    const sem = new Semaphore(1);
    await expect(
      sem.use(async () => {
        throw new Error('x');
      }),
    ).rejects.toThrow('x');
    expect(sem.inUse).toBe(0);
  });

  it('rejects a non-positive permit count', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
