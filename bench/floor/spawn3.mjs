// Floor of the `interlock evaluate` benchmark: the least a Node process can do to run a pipeline's evaluators —
// spawn them all in parallel (each in its own process group, as interlock does), write the trait config as JSON on
// stdin, read stdout and parse the one JSON object. Exit 0 when every evaluator answered PASS.
// Usage (in the project root): node spawn3.mjs '<config json>' <evaluator> [<evaluator>…]
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const [config, ...evaluators] = process.argv.slice(2);

function run(file, i) {
  return new Promise((done, fail) => {
    const child = spawn(resolve(file), [], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        INTERLOCK_PIPELINE: 'floor',
        INTERLOCK_TRAIT: `t${i + 1}`,
        INTERLOCK_PROJECT_DIR: process.cwd(),
      },
    });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.resume();
    child.on('error', fail);
    child.on('close', () => done(JSON.parse(Buffer.concat(out).toString('utf8'))));
    child.stdin.end(config);
  });
}

const results = await Promise.all(evaluators.map(run));
process.exitCode = results.every((r) => r.status === 'PASS') ? 0 : 1;
