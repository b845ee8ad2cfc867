// The import rules of STYLE.md as data: walks src/**/*.ts (tests and templates aside) and fails on a forbidden import,
// an import of cli, an import cycle (type-only imports count too), server-only code outside api/, or a clock read in
// the engine.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** module → modules it may import (besides itself). Unlisted modules may import nothing of ours. */
const ALLOWED: Record<string, string[]> = {
  core: [],
  engine: ['core'],
  config: ['core', 'engine'],
  proc: ['core'],
  evaluator: ['core', 'proc'],
  // Stores keep window records (engine/window.ts's type) and ask the pure engine which states are terminal.
  store: ['core', 'engine'],
  alert: ['core'],
  trigger: ['core', 'proc'],
  observability: ['core'],
  runtime: ['core', 'engine', 'config', 'proc', 'evaluator', 'store', 'trigger', 'alert', 'observability'],
  // api documents the pipeline document config validates (its zod schema is the OpenAPI component) and reads the
  // server block's type; only those two leaf files (CONFIG_FOR_API), never loading.
  api: ['core', 'runtime', 'observability', 'config'],
  // The CLI is the composition root: `serve` starts the HTTP API (loaded lazily, only by that command).
  cli: ['core', 'runtime', 'observability', 'api'],
  // The dashboard runs in the browser: it talks to the server over HTTP only and imports nothing of ours.
  web: [],
};
/** The config files api may import: the zod schemas and the loaded project's types, nothing that does I/O. */
const CONFIG_FOR_API = ['config/schema.ts', 'config/project.ts'];
/** Packages a module must never import (engine is pure: no I/O, no node:*). */
const FORBIDDEN_PACKAGES: Record<string, RegExp> = {
  engine: /^(node:|fs$|path$|child_process$|better-sqlite3$|ioredis$)/,
  core: /^(node:(?!crypto$)|better-sqlite3$|ioredis$)/,
  // Plain TypeScript modules bundled by Vite: no framework, no package at all (nothing for a CDN to serve).
  web: /./,
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'templates' ? [] : walk(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const files = walk(SRC);
const moduleOf = (file: string) => relative(SRC, file).split('/')[0].replace(/\.ts$/, '');
const importsOf = (file: string) =>
  [
    ...readFileSync(file, 'utf8').matchAll(
      /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ].map((m) => m[1] ?? m[2]);

describe('architecture', () => {
  it('every module imports only what STYLE.md allows', () => {
    const violations: string[] = [];
    for (const f of files) {
      const mod = moduleOf(f);
      for (const spec of importsOf(f)) {
        if (spec.startsWith('.')) {
          const target = moduleOf(resolve(dirname(f), spec));
          if (target !== mod && !(ALLOWED[mod] ?? []).includes(target))
            violations.push(`${relative(SRC, f)} → ${target} (${spec})`);
          const file = relative(SRC, resolve(dirname(f), spec)).replace(/\.js$/, '.ts');
          if (mod === 'api' && target === 'config' && !CONFIG_FOR_API.includes(file))
            violations.push(
              `${relative(SRC, f)} → ${file}: api may import only ${CONFIG_FOR_API.join(', ')} of config`,
            );
          // Only the CLI composition root may import a concrete store.
          if (/store\/(sqlite|redis|memory|postgres)/.test(resolve(dirname(f), spec)) && mod !== 'store') {
            violations.push(`${relative(SRC, f)} imports a concrete store (${spec})`);
          }
        } else if (FORBIDDEN_PACKAGES[mod]?.test(spec)) {
          violations.push(`${relative(SRC, f)} imports ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('nothing imports cli', () => {
    const offenders = files.filter(
      (f) =>
        moduleOf(f) !== 'cli' &&
        importsOf(f).some((s) => s.startsWith('.') && moduleOf(resolve(dirname(f), s)) === 'cli'),
    );
    expect(offenders).toEqual([]);
  });

  it('there are no import cycles, type-only imports included (a shared type belongs in a leaf file)', () => {
    const graph = new Map<string, string[]>();
    for (const f of files) {
      graph.set(
        f,
        importsOf(f)
          .filter((s) => s.startsWith('.'))
          .map((s) => resolve(dirname(f), s).replace(/\.js$/, '.ts')),
      );
    }
    const state = new Map<string, 1 | 2>();
    const cycles: string[] = [];
    const visit = (n: string, stack: string[]) => {
      if (state.get(n) === 2) return;
      if (state.get(n) === 1) {
        cycles.push([...stack.slice(stack.indexOf(n)), n].map((p) => relative(SRC, p)).join(' → '));
        return;
      }
      state.set(n, 1);
      for (const m of graph.get(n) ?? []) visit(m, [...stack, n]);
      state.set(n, 2);
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('code only the HTTP server uses lives in api/ (runtime keeps the generic task tracking, tasks.ts)', () => {
    const serverOnly = files.filter((f) => moduleOf(f) === 'runtime' && /\/server[-.]/.test(relative(SRC, f)));
    expect(serverOnly).toEqual([]);
    expect(files.map((f) => relative(SRC, f))).toContain('runtime/tasks.ts');
  });

  it('only the AWS trigger files import the AWS SDK (by value), so nothing else pays for it at start-up', () => {
    const AWS_FILES = ['trigger/glue.ts', 'trigger/stepfunctions.ts', 'trigger/lambda.ts'];
    const valueImport =
      /(?:^|\n)\s*(?:import|export)(?!\s+type\b)[^'"]*?from\s+['"](@aws-sdk\/[^'"]+|@smithy\/[^'"]+)['"]|import\(\s*['"](@aws-sdk\/[^'"]+)['"]\s*\)/g;
    const bad = files
      .filter((f) => !AWS_FILES.includes(relative(SRC, f)))
      .filter((f) => [...readFileSync(f, 'utf8').matchAll(valueImport)].length > 0)
      .map((f) => relative(SRC, f));
    expect(bad).toEqual([]);
    // And those files are reached only through the registry's dynamic import().
    const importers = files.filter((f) =>
      importsOf(f).some(
        (i) => /\/(glue|stepfunctions|lambda)\.js$/.test(i ?? '') && !relative(SRC, f).endsWith('registry.ts'),
      ),
    );
    expect(importers.map((f) => relative(SRC, f))).toEqual([]);
    const registry = readFileSync(join(SRC, 'trigger/registry.ts'), 'utf8');
    for (const f of ['glue', 'stepfunctions', 'lambda']) expect(registry).toContain(`import('./${f}.js')`);
  });

  it('the engine reads no clock', () => {
    const bad = files.filter(
      (f) =>
        moduleOf(f) === 'engine' &&
        /Date\.now\(|new Date\(|performance\.now|setTimeout|process\./.test(readFileSync(f, 'utf8')),
    );
    expect(bad).toEqual([]);
  });
});
