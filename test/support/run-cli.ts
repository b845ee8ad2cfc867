// Running the BUILT CLI (`node bin/interlock …`) and shell scripts as subprocesses, to completion.
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { BIN, REPO } from './paths.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file args` in `cwd` with exactly `env` and collects its output; resolves when it exits (never rejects on a
 * non-zero exit). With `input`, stdin is a pipe that gets `input` and is closed; without, stdin is /dev/null.
 */
export function runCommand(
  file: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; input?: string },
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs `bin/interlock ...args` in `cwd` (no colours; stdin gets `input`, default empty); resolves when it exits. */
export function cli(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string } = { cwd: REPO },
): Promise<CliResult> {
  return runCommand(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    input: opts.input ?? '',
  });
}

/** Runs the CLI and also measures its wall time (spawn to close). */
export async function timedCli(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult & { ms: number }> {
  const t0 = performance.now();
  const r = await cli(args, opts);
  return { ...r, ms: performance.now() - t0 };
}

/**
 * Spawns the built CLI with stdout piped and closes the read side after the first chunk, like `| head -c N`.
 * Resolves with the exit code/signal, the stderr text and the size of the first chunk.
 */
export function cliClosingStdout(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; firstChunk: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let firstChunk = 0;
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', (d: Buffer) => {
      firstChunk = d.length;
      child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stderr, firstChunk }));
  });
}

/** Runs `sh -c script` in `cwd` (node's directory first on PATH, so `#!/usr/bin/env node` finds this node). */
export function sh(script: string, opts: { cwd: string; env?: NodeJS.ProcessEnv; shell?: string }): Promise<CliResult> {
  return runCommand(opts.shell ?? 'sh', ['-c', script], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, ...opts.env },
  });
}
