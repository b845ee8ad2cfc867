// End-to-end: Ctrl-C / SIGTERM during `evaluate` and `run` kills the evaluator and trigger process groups, records
// the outcome, and exits 130 / 143.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { json, show } from '../support/cli-output.js';
import { copyFixtureEvaluators, writeFiles } from '../support/files.js';
import { BIN } from '../support/paths.js';
import { sleep } from '../support/poll.js';
import { isAlive } from '../support/processes.js';
import { cli } from '../support/run-cli.js';
import { useTempDirs } from '../support/test-cleanups.js';

const tmp = useTempDirs('interlock-intr-');

function project(evaluator: string, trigger = ''): string {
  const root = tmp();
  copyFixtureEvaluators(root);
  writeFiles(root, {
    'interlock.yaml': 'provider: sqlite\n',
    'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: a\n',
    'pipelines/p.yaml': `name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: ${evaluator}\n    timeout: 20\n    env: [FIXTURE_PID_FILE]\n${trigger}`,
  });
  return root;
}

/** Starts the CLI, waits until `pidFile` holds a pid, sends `sig`, returns the exit code, elapsed ms and the pid. */
async function interrupt(root: string, args: string[], pidFile: string, sig: NodeJS.Signals) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', FIXTURE_PID_FILE: pidFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  for (let i = 0; i < 200 && !(existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim()); i++) await sleep(25);
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const t0 = Date.now();
  child.kill(sig);
  const code = await exited;
  return { code, ms: Date.now() - t0, pid, stderr };
}

it('SIGTERM during evaluate: the evaluator group dies, exit 143, the decision is recorded NOT_READY', async () => {
  const root = project('slow');
  const r = await interrupt(root, ['evaluate', 'p'], join(root, 'eval.pid'), 'SIGTERM');
  expect(r.code, r.stderr).toBe(143);
  expect(r.ms).toBeLessThan(3000);
  await sleep(200);
  expect(isAlive(r.pid)).toBe(false);
  const h = json(await cli(['history', 'p', '--json'], { cwd: root }));
  expect(h[0]).toMatchObject({ type: 'decision', outcome: 'NOT_READY' });
});

it('SIGINT during a run trigger: the trigger group dies, the run ends FAILED (recorded), exit 130, lock free', async () => {
  const root = project('pass', 'trigger:\n  type: command\n  command: "echo $$ > trigger.pid; exec sleep 30"\n');
  const r = await interrupt(root, ['run', 'p'], join(root, 'trigger.pid'), 'SIGINT');
  expect(r.code, r.stderr).toBe(130);
  await sleep(200);
  expect(isAlive(r.pid)).toBe(false);
  const runs = json(await cli(['runs', 'p', '--json'], { cwd: root }));
  expect(runs[0].status).toBe('FAILED');
  expect(runs[0].reason).toContain('SIGINT');
  const again = await cli(['status', 'p', '--json'], { cwd: root });
  expect(json(again).activeRun, show(again)).toBeNull();
});
