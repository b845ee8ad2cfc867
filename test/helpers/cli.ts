// Test helpers: run the BUILT CLI as a subprocess, and make throwaway projects in temp dirs.
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(REPO, 'bin', 'interlock');
export const FIXTURE_EVALUATORS = join(REPO, 'test', 'fixtures', 'evaluators');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/interlock ...args` in `cwd`; resolves when it exits. */
export function cli(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string } = { cwd: REPO },
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** A fresh temp dir, removed by the returned cleanup. */
export function tempDir(prefix = 'interlock-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes files (relative path → content) under `root`; executable when the path is under evaluators/. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
    if (rel.startsWith('evaluators/')) chmodSync(p, 0o755);
  }
}

/** Copies the fixture evaluator scripts into `<root>/evaluators/` (modes kept). */
export function copyFixtureEvaluators(root: string): void {
  cpSync(FIXTURE_EVALUATORS, join(root, 'evaluators'), { recursive: true });
}

/**
 * A minimal project: one archetype `gate` whose required traits are `traits`, and one pipeline `p`
 * whose trait i uses evaluator `evaluators[i]` (fixture names). Returns the project root.
 */
/** Environment variables the fixture evaluators read (pid files, barriers, counters), passed via defaultEnv. */
export const FIXTURE_ENV = ['FIXTURE_PID_FILE', 'FIXTURE_CONC_DIR', 'FIXTURE_EXTRA', 'BARRIER_DIR', 'BARRIER_N'];

export function minimalProject(
  root: string,
  traits: Array<{ type: string; evaluator?: string; timeout?: number; ttl?: number; config?: Record<string, unknown> }>,
  opts: { pipeline?: string; extraConfig?: string } = {},
): string {
  copyFixtureEvaluators(root);
  const name = opts.pipeline ?? 'p';
  // The fixture evaluators' test hooks reach them the documented way: listed in the archetype's defaultEnv.
  const arch = [
    'name: gate',
    'requiredTraits:',
    ...traits.map((t) => `  - type: ${t.type}\n    defaultEnv: [${FIXTURE_ENV.join(', ')}]`),
  ].join('\n');
  const pipe = [
    `name: ${name}`,
    'archetype: gate',
    'traits:',
    ...traits.map((t) =>
      [
        `  ${t.type}:`,
        t.evaluator ? `    evaluator: ${t.evaluator}` : '',
        t.timeout !== undefined ? `    timeout: ${t.timeout}` : '',
        t.ttl !== undefined ? `    ttl: ${t.ttl}` : '',
        `    config: ${JSON.stringify(t.config ?? {})}`,
      ]
        .filter(Boolean)
        .join('\n'),
    ),
  ].join('\n');
  writeFiles(root, {
    'interlock.yaml': `provider: sqlite\n${opts.extraConfig ?? ''}`,
    'archetypes/gate.yaml': `${arch}\n`,
    [`pipelines/${name}.yaml`]: `${pipe}\n`,
  });
  return root;
}
