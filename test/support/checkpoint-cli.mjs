// Test-only entry point: the BUILT CLI (dist/) with a crash-safety checkpoint hook installed, for the tests and
// chaos cases that SIGKILL `interlock run` at a named point. `node checkpoint-cli.mjs <point> <args…>` runs
// `interlock <args…>`; a run reaching <point> (after-pending, after-triggering, after-trigger-call) announces
// `INTERLOCK_PAUSED <point> <runId>` on stderr and stops there for good. The product itself has no such hook.
import { main } from '../../dist/cli/main.js';

const POINTS = ['after-pending', 'after-triggering', 'after-trigger-call'];
const [point, ...args] = process.argv.slice(2);
if (!POINTS.includes(point)) {
  process.stderr.write(`checkpoint-cli: the first argument must be one of ${POINTS.join(', ')}, got '${point}'\n`);
  process.exit(2);
}

const stopHere = (reached, runId) => {
  if (reached !== point) return undefined;
  process.stderr.write(`INTERLOCK_PAUSED ${reached} ${runId}\n`);
  // Never resolves; the interval keeps the process alive until the test kills it.
  return new Promise(() => setInterval(() => {}, 60_000));
};

await main([process.argv[0], 'interlock', ...args], { run: { atCheckpoint: stopHere } });
