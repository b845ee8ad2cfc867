// End-to-end: the npm package as a user gets it. `npm pack`, install the tarball globally into an empty prefix, then
// `interlock init demo && cd demo && interlock evaluate example` → READY from the installed bin (dist/, templates
// and schemas found inside the package). Slow-ish: npm installs the dependencies from its cache (or the registry).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, show, tempDirFor } from '../support/index.js';

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** npm's own variables (set when this runs under `npm test`) would leak the outer npm's config into the install. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

function run(cmd: string, args: string[], cwd: string, env = cleanEnv()): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TEN_MINUTES = 600_000;

describe('npm package', () => {
  it(
    'npm pack → npm i -g --prefix <empty> → interlock init demo && cd demo && interlock evaluate example → READY',
    async (ctx) => {
      const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
      expect(pkg.license).toBe('Apache-2.0');
      expect(pkg.private).toBeUndefined();
      expect(readFileSync(join(REPO, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);

      // The tests run on a fresh build (npm test builds first); --ignore-scripts so packing never rebuilds dist/
      // under the feet of other tests running at the same time.
      const packDir = tempDirFor(ctx, 'interlock-pack-');
      const pack = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], REPO);
      expect(pack.code, show(pack)).toBe(0);
      const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
      const files = info.files.map((f) => f.path);
      for (const f of [
        'bin/interlock',
        'dist/cli/main.js',
        'dist/cli/version.js',
        'dist/runtime/templates/interlock.yaml',
        'dist/runtime/templates/evaluators/check-source-freshness',
        'dist/store/sqlite/migrations/0001_init.sql',
        'dist/store/redis/lua/cas-run-5.lua',
        'schemas/interlock.schema.json',
        'LICENSE',
        'README.md',
        'package.json',
      ]) {
        expect(files, f).toContain(f);
      }
      // Only what the package needs: no sources, tests, benchmarks or dev tooling.
      expect(files.filter((f) => /^(src|test|bench|chaos|soak|scripts)\/|\.test\.js$|^node_modules\//.test(f))).toEqual(
        [],
      );
      const tarball = join(packDir, info.filename);
      expect(existsSync(tarball)).toBe(true);

      // A global install into an empty prefix, as a user would; the local npm cache first (the registry is the
      // fallback). better-sqlite3's install script is allowed explicitly (newer npm asks for it). Its native module
      // is what this checkout already built, handed over through prebuild-install's local-prebuilds directory (the
      // same tarball layout as its GitHub releases): compiling it again takes minutes on a busy machine and says
      // nothing about our package. Were the name not to match, prebuild-install would fall back to a download or a
      // compile, only slower.
      const prebuilds = tempDirFor(ctx, 'interlock-prebuilds-');
      const sqlite = JSON.parse(readFileSync(join(REPO, 'node_modules/better-sqlite3/package.json'), 'utf8'));
      const abi = process.versions.modules;
      const tgz = `better-sqlite3-v${sqlite.version}-node-v${abi}-${process.platform}-${process.arch}.tar.gz`;
      const tar = await run(
        'tar',
        ['-czf', join(prebuilds, tgz), 'build/Release/better_sqlite3.node'],
        join(REPO, 'node_modules/better-sqlite3'),
      );
      expect(tar.code, show(tar)).toBe(0);
      const prefix = tempDirFor(ctx, 'interlock-prefix-');
      const install = await run(
        npm,
        [
          'i',
          '-g',
          '--prefix',
          prefix,
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          '--allow-scripts=better-sqlite3',
          tarball,
        ],
        packDir,
        cleanEnv({ npm_config_better_sqlite3_local_prebuilds: prebuilds }),
      );
      expect(install.code, show(install)).toBe(0);
      const bin = join(prefix, 'bin', 'interlock');
      expect(existsSync(bin), readdirSync(prefix).join(', ')).toBe(true);

      // PATH: the installed bin first, then node's own directory (for `#!/usr/bin/env node`); never the repo's bin.
      const env = cleanEnv({ PATH: `${join(prefix, 'bin')}:${join(process.execPath, '..')}:/usr/bin:/bin` });
      const work = tempDirFor(ctx, 'interlock-installed-');
      const session = await run(
        'sh',
        ['-c', 'command -v interlock && interlock init demo && cd demo && interlock evaluate example'],
        work,
        env,
      );
      expect(session.code, show(session)).toBe(0);
      const lines = session.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(bin);
      expect(lines.at(-1)).toBe('READY');
      expect(session.stdout).toMatch(/PASS +source-freshness/);

      const version = await run('interlock', ['--version'], work, env);
      expect(version.stdout.trim()).toBe(pkg.version);
    },
    TEN_MINUTES,
  );
});
