// Static checks as tests, so `npm test` fails on a type error or a lint finding anywhere (tests included).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { REPO } from './support/paths.js';

function run(bin: string, args: string[]) {
  return spawnSync(process.execPath, [join(REPO, 'node_modules', bin), ...args], { cwd: REPO, encoding: 'utf8' });
}

it('type-checks src, test, bench, chaos and soak (tsc --noEmit)', () => {
  const r = run('typescript/bin/tsc', ['--noEmit', '-p', 'tsconfig.test.json']);
  expect(r.status, r.stdout + r.stderr).toBe(0);
}, 120_000);

it('type-checks the dashboard against the DOM library (tsconfig.web.json)', () => {
  const r = run('typescript/bin/tsc', ['--noEmit', '-p', 'tsconfig.web.json']);
  expect(r.status, r.stdout + r.stderr).toBe(0);
  const listed = run('typescript/bin/tsc', ['--listFilesOnly', '-p', 'tsconfig.web.json']);
  expect(listed.stdout.split('\n').map((f) => relative(REPO, f.trim()))).toContain('src/web/main.ts');
}, 120_000);

it('passes biome check (lint + format) on src, test, bench, chaos, soak and scripts', () => {
  const r = run('@biomejs/biome/bin/biome', ['check', 'src', 'test', 'bench', 'chaos', 'soak', 'scripts']);
  expect(r.status, r.stdout + r.stderr).toBe(0);
}, 60_000);

it('the lint script, biome and the type-check cover bench, chaos and soak like src and test', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const biome = JSON.parse(readFileSync(join(REPO, 'biome.json'), 'utf8')) as { files: { includes: string[] } };
  const lint = pkg.scripts.lint?.split(/\s+/) ?? [];
  const listed = run('typescript/bin/tsc', ['--listFilesOnly', '-p', 'tsconfig.test.json']);
  expect(listed.status, listed.stderr).toBe(0);
  const typeChecked = listed.stdout.split('\n').map((f) => relative(REPO, f.trim()));
  for (const [folder, entry] of [
    ['src', 'src/cli/main.ts'],
    ['test', 'test/support/index.ts'],
    ['bench', 'bench/run.ts'],
    ['chaos', 'chaos/main.ts'],
    ['soak', 'soak/main.ts'],
  ]) {
    expect(lint, `npm run lint checks ${folder}/`).toContain(folder);
    expect(biome.files.includes, `biome.json includes ${folder}/`).toContain(`${folder}/**/*.ts`);
    expect(typeChecked, `tsconfig.test.json type-checks ${entry}`).toContain(entry);
  }
}, 60_000);

it('src holds no test switch: no INTERLOCK_TEST_* variable is read (test hooks are injected, see checkpoint-cli.mjs)', () => {
  const r = spawnSync('grep', ['-rlE', 'INTERLOCK_TEST_', join(REPO, 'src')], { encoding: 'utf8' });
  expect(r.stdout.trim()).toBe('');
});
