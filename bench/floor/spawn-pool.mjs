// Floor of the evaluations/s benchmark: a bare Node script running `rounds` × the given evaluators with at most
// `cap` running at once — spawn in its own process group, config JSON on stdin, parse the JSON on stdout — exactly
// the subprocess work `interlock serve` does for `rounds` pipelines, and nothing else. Prints
// {"evaluations":N,"ms":T,"cpuMs":C,"failed":F}: T runs from the first spawn to the last result (start-up excluded),
// C is this process's own CPU time over the same span (the evaluators' CPU is not in it).
// Usage (in the project root): node spawn-pool.mjs <cap> <rounds> '<config json>' <evaluator> [<evaluator>…]
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const [capArg, roundsArg, config, ...evaluators] = process.argv.slice(2);
const cap = Number(capArg);
const rounds = Number(roundsArg);
const tasks = [];
for (let r = 0; r < rounds; r++) for (const e of evaluators) tasks.push(resolve(e));

function run(file) {
  return new Promise((done) => {
    const child = spawn(file, [], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, INTERLOCK_PIPELINE: 'floor', INTERLOCK_TRAIT: 't', INTERLOCK_PROJECT_DIR: process.cwd() },
    });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.resume();
    child.on('error', () => done(false));
    child.on('close', () => {
      try {
        done(JSON.parse(Buffer.concat(out).toString('utf8')).status === 'PASS');
      } catch {
        done(false);
      }
    });
    child.stdin.end(config);
  });
}

let next = 0;
let failed = 0;
const start = performance.now();
const cpu0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: cap }, async () => {
    while (next < tasks.length) {
      if (!(await run(tasks[next++]))) failed++;
    }
  }),
);
const ms = performance.now() - start;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(`${JSON.stringify({ evaluations: tasks.length, ms, cpuMs, failed })}\n`);
process.exitCode = failed ? 1 : 0;
