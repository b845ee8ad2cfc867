// End-to-end: several `interlock evaluate` processes on one SQLite file at once (WAL + busy timeout), including the
// race on a database that does not exist yet (migrations), and the global evaluator concurrency cap.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { writeFiles } from '../support/files.js';
import { minimalProject } from '../support/minimal-project.js';
import { type CliResult, cli } from '../support/run-cli.js';
import { tempDirFor } from '../support/test-cleanups.js';

const tmp = (ctx: TestContext): string => tempDirFor(ctx, 'interlock-e2e-conc-');
const N = 8;

/**
 * A barrier evaluator: each instance checks in, then waits (up to ~3 s) until `BARRIER_N` instances have, so that
 * every process finishes its evaluation — and writes to the store — at about the same instant.
 */
const BARRIER = `#!/usr/bin/env bash
cat >/dev/null
touch "$BARRIER_DIR/$INTERLOCK_TRAIT.$$"
for _ in $(seq 1 150); do
  [ "$(ls "$BARRIER_DIR" | wc -l)" -ge "$BARRIER_N" ] && break
  sleep 0.02
done
echo '{"status":"PASS","value":{"barrier":true}}'
`;

/** A project with one pipeline `p` of three passing (barrier) traits. */
function threeTraitProject(root: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = minimalProject(root, [
    { type: 'a', evaluator: './evaluators/barrier', ttl: 600 },
    { type: 'b', evaluator: './evaluators/barrier' },
    { type: 'c', evaluator: './evaluators/barrier', config: { k: 1 } },
  ]);
  writeFiles(dir, { 'evaluators/barrier': BARRIER });
  const barrier = join(dir, 'barrier');
  mkdirSync(barrier);
  return { dir, env: { BARRIER_DIR: barrier, BARRIER_N: String(3 * N) } };
}

async function evaluateConcurrently(p: { dir: string; env: NodeJS.ProcessEnv }): Promise<CliResult[]> {
  return Promise.all(Array.from({ length: N }, () => cli(['evaluate', 'p'], { cwd: p.dir, env: p.env })));
}

function expectAllReady(results: CliResult[]): void {
  for (const r of results) {
    expect(r.stderr, show(r)).not.toMatch(/locked|busy|SQLITE/i);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1), show(r)).toBe('READY');
  }
}

async function expectDecisions(dir: string, n: number): Promise<void> {
  const h = await cli(['history', 'p', '--json', '--limit', '100'], { cwd: dir });
  expect(h.code, show(h)).toBe(0);
  const recs = json(h);
  expect(recs).toHaveLength(n);
  expect(new Set(recs.map((d: { id: string }) => d.id)).size).toBe(n);
  for (const d of recs) {
    expect(d.outcome).toBe('READY');
    expect(d.traits).toHaveLength(3);
  }
  // Newest first.
  const times = recs.map((d: { decidedAt: number }) => d.decidedAt);
  expect([...times].sort((a, b) => b - a)).toEqual(times);
}

describe(`${N} concurrent evaluate processes on one SQLite file`, () => {
  it('existing database: all exit 0 READY, exactly 8 decisions recorded', async (ctx) => {
    const p = threeTraitProject(tmp(ctx));
    const dir = p.dir;
    // Create and migrate the database first (status records no decision).
    const st = await cli(['status'], { cwd: dir });
    expect(st.code, show(st)).toBe(0);
    expect(existsSync(join(dir, '.interlock', 'state.db'))).toBe(true);
    await expectDecisions(dir, 0);

    expectAllReady(await evaluateConcurrently(p));
    await expectDecisions(dir, N);
    const s = await cli(['status', 'p', '--json'], { cwd: dir });
    expect(s.code, show(s)).toBe(0);
    expect(json(s).outcome).toBe('READY');
  });

  it('fresh project, no database yet (migration race): all exit 0 READY, exactly 8 decisions', async (ctx) => {
    const p = threeTraitProject(tmp(ctx));
    const dir = p.dir;
    expect(existsSync(join(dir, '.interlock'))).toBe(false);
    expectAllReady(await evaluateConcurrently(p));
    await expectDecisions(dir, N);
  });
});

describe('evaluatorConcurrency caps evaluators running at once', () => {
  const traits = ['t1', 't2', 't3', 't4', 't5', 't6'].map((type) => ({ type, evaluator: './evaluators/concurrency' }));

  async function maxSeen(ctx: TestContext, cap: number): Promise<number> {
    const dir = minimalProject(tmp(ctx), traits, { extraConfig: `evaluatorConcurrency: ${cap}\n` });
    const conc = join(dir, 'conc');
    mkdirSync(conc);
    const r = await cli(['evaluate', 'p', '--json'], { cwd: dir, env: { FIXTURE_CONC_DIR: conc } });
    expect(r.code, show(r)).toBe(0);
    expect(readdirSync(conc)).toEqual([]);
    const seen = json(r).readiness.traits.map((t: { result: { value: { seen: number } } }) => t.result.value.seen);
    expect(seen).toHaveLength(6);
    return Math.max(...seen);
  }

  it('cap 1 → one at a time; cap 2 → never more than 2', async (ctx) => {
    expect(await maxSeen(ctx, 1)).toBe(1);
    expect(await maxSeen(ctx, 2)).toBeLessThanOrEqual(2);
  });

  it('a higher cap runs them in parallel', async (ctx) => {
    expect(await maxSeen(ctx, 16)).toBeGreaterThan(1);
  });
});
