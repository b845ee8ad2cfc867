// Static checks as tests, so `npm test` fails on a type error or a lint finding anywhere (tests included).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO } from './helpers/cli.js';

function run(bin: string, args: string[]) {
  return spawnSync(process.execPath, [join(REPO, 'node_modules', bin), ...args], { cwd: REPO, encoding: 'utf8' });
}

it('type-checks src, test and bench (tsc --noEmit)', () => {
  const r = run('typescript/bin/tsc', ['--noEmit', '-p', 'tsconfig.test.json']);
  expect(r.status, r.stdout + r.stderr).toBe(0);
}, 120_000);

it('passes biome check (lint + format)', () => {
  const r = run('@biomejs/biome/bin/biome', ['check', 'src', 'test', 'scripts']);
  expect(r.status, r.stdout + r.stderr).toBe(0);
}, 60_000);
