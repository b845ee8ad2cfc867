// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders in configs are the subject under test.
// builtin:file through the evaluator runner: real files in a temp dir, mtimes set with utimes against a fixed clock.
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { tempDirFor } from '../../../test/support/test-cleanups.js';
import type { ResolvedTrait } from '../../core/types.js';
import { type EvalContext, evaluateTrait } from '../runner.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

function fileTrait(config: Record<string, unknown>, over: Partial<ResolvedTrait> = {}): ResolvedTrait {
  return {
    type: 'landed',
    required: true,
    builtin: 'file',
    evaluatorRef: 'builtin:file',
    config,
    timeoutSeconds: 5,
    ...over,
  };
}

function ctx(projectDir: string, over: Partial<EvalContext> = {}): EvalContext {
  return { projectDir, pipeline: 'p', clock: new FakeClock(T0), env: {}, ...over };
}

/** Writes `bytes` bytes at `rel` with its mtime `ageS` seconds before T0. */
function file(root: string, rel: string, bytes: number, ageS: number): void {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, 'x'.repeat(bytes));
  const t = (T0 - ageS * 1000) / 1000;
  utimesSync(p, t, t);
}

describe('builtin:file', () => {
  it('PASSes for a fresh, big enough file and reports what it measured', async (t) => {
    const root = tempDirFor(t);
    file(root, 'data/_SUCCESS', 10, 600);
    const r = await evaluateTrait(fileTrait({ path: 'data/_SUCCESS', maxAge: '1h', minBytes: 5 }), ctx(root));
    expect(r.status).toBe('PASS');
    expect(r.value).toMatchObject({
      path: 'data/_SUCCESS',
      exists: true,
      bytes: 10,
      ageSeconds: 600,
      maxAgeSeconds: 3600,
    });
    expect(r.reasonCode).toBeUndefined();
  });

  it('FAILs CHECK_FAILED when the file is missing, too old or too small', async (t) => {
    const root = tempDirFor(t);
    file(root, 'old', 10, 7200);
    file(root, 'small', 2, 1);
    const missing = await evaluateTrait(fileTrait({ path: 'nope' }), ctx(root));
    expect(missing).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { exists: false } });
    const old = await evaluateTrait(fileTrait({ path: 'old', maxAge: '1h' }), ctx(root));
    expect(old).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { ageSeconds: 7200 } });
    expect(old.reason).toMatch(/more than maxAge 3600s/);
    const small = await evaluateTrait(fileTrait({ path: 'small', minBytes: 3 }), ctx(root));
    expect(small).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { bytes: 2 } });
  });

  it('exists: false PASSes only when the file is absent', async (t) => {
    const root = tempDirFor(t);
    file(root, 'lock', 1, 1);
    expect((await evaluateTrait(fileTrait({ path: 'free', exists: false }), ctx(root))).status).toBe('PASS');
    const held = await evaluateTrait(fileTrait({ path: 'lock', exists: false }), ctx(root));
    expect(held).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED' });
  });

  it('expands ${INTERLOCK_WINDOW_DATE} from the window, and FAILs outside a window without looking', async (t) => {
    const root = tempDirFor(t);
    file(root, 'in/2026-06-01/_SUCCESS', 1, 1);
    const trait = fileTrait({ path: 'in/${INTERLOCK_WINDOW_DATE}/_SUCCESS' });
    const window = { key: 'p@daily@2026-06-01T00:00:00.000Z', schedule: 'daily', openAt: T0, date: '2026-06-01' };
    const inWindow = await evaluateTrait(trait, ctx(root, { window }));
    expect(inWindow).toMatchObject({ status: 'PASS', value: { path: 'in/2026-06-01/_SUCCESS' } });
    // The parent's own INTERLOCK_WINDOW_DATE never stands in for a window's.
    const manual = await evaluateTrait(trait, ctx(root, { env: { INTERLOCK_WINDOW_DATE: '2026-06-01' } }));
    expect(manual).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR' });
    expect(manual.reason).toMatch(/INTERLOCK_WINDOW_DATE .* set only in a schedule window/);
  });

  it('expands a listed ${VAR} and leaves an unlisted one as written (so it matches nothing)', async (t) => {
    const root = tempDirFor(t);
    file(root, 'drop/a.csv', 1, 1);
    const env = { DROP: 'drop' };
    const listed = await evaluateTrait(fileTrait({ path: '${DROP}/a.csv' }, { env: ['DROP'] }), ctx(root, { env }));
    expect(listed.status).toBe('PASS');
    const unlisted = await evaluateTrait(fileTrait({ path: '${DROP}/a.csv' }), ctx(root, { env }));
    expect(unlisted).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { path: '${DROP}/a.csv' } });
  });

  it('glob + minCount counts the matches that meet maxAge and minBytes', async (t) => {
    const root = tempDirFor(t);
    file(root, 'parts/2026/a.parquet', 100, 60);
    file(root, 'parts/2026/b.parquet', 100, 60);
    file(root, 'parts/2025/c.parquet', 100, 99_999);
    file(root, 'parts/2026/empty.parquet', 0, 60);
    file(root, 'parts/2026/notes.txt', 100, 60);
    const two = await evaluateTrait(
      fileTrait({ glob: 'parts/**/*.parquet', minCount: 2, maxAge: '1d', minBytes: 1 }),
      ctx(root),
    );
    expect(two.status).toBe('PASS');
    expect(two.value).toMatchObject({
      count: 2,
      minCount: 2,
      matches: ['parts/2026/a.parquet', 'parts/2026/b.parquet'],
    });
    const three = await evaluateTrait(
      fileTrait({ glob: 'parts/**/*.parquet', minCount: 3, maxAge: '1d', minBytes: 1 }),
      ctx(root),
    );
    expect(three).toMatchObject({ status: 'FAIL', reasonCode: 'CHECK_FAILED', value: { count: 2 } });
    expect(three.reason).toMatch(/fewer than minCount 3/);
    const none = await evaluateTrait(fileTrait({ glob: 'parts/*/*.csv' }), ctx(root));
    expect(none).toMatchObject({ status: 'FAIL', value: { count: 0, minCount: 1 } });
  });

  it('an untrusted pipeline may not look outside the project, even through a symlink', async (t) => {
    const root = tempDirFor(t);
    const outside = tempDirFor(t);
    file(outside, 'secret', 1, 1);
    symlinkSync(outside, join(root, 'link'));
    const confineTo = [join(root, 'evaluators')];
    for (const config of [{ path: join(outside, 'secret') }, { path: 'link/secret' }, { glob: '../*' }]) {
      const r = await evaluateTrait(fileTrait(config), ctx(root, { confineTo }));
      expect(r, JSON.stringify(config)).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_FORBIDDEN' });
    }
    // Trusted (YAML) pipelines may name any path.
    expect((await evaluateTrait(fileTrait({ path: 'link/secret' }), ctx(root))).status).toBe('PASS');
  });

  it('a config that is invalid after expansion FAILs without throwing', async (t) => {
    const root = tempDirFor(t);
    const r = await evaluateTrait(fileTrait({ path: 'a', glob: 'b' }), ctx(root));
    expect(r).toMatchObject({ status: 'FAIL', reasonCode: 'EVALUATOR_ERROR' });
    expect(r.reason).toMatch(/builtin:file config is invalid: config: set exactly one of path and glob/);
  });
});
