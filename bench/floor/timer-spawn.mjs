// Floor of the window-open benchmark: a bare Node timer that, at each instant `offset + k × period` (ms since the
// epoch), spawns the same evaluator once per pipeline with INTERLOCK_WINDOW(_START) set for that instant and its config
// on stdin, the way a window's evaluation starts it — no store, no schedule, no decision.
// Usage: node timer-spawn.mjs <evaluator> <pipelines> <periodMs> <offsetMs> <count>   → prints "listening on http://-"
import { spawn } from 'node:child_process';

const [evaluator, n, period, offset, count] = process.argv.slice(2);
const P = Number(period);
const O = Number(offset);
let left = Number(count);

function next() {
  const now = Date.now();
  const at = (Math.floor((now - O) / P) + 1) * P + O;
  setTimeout(() => {
    const start = new Date(at).toISOString();
    for (let i = 0; i < Number(n); i++) {
      const env = { ...process.env, INTERLOCK_WINDOW_START: start, INTERLOCK_WINDOW: `floor-${i}@${start}` };
      const child = spawn(evaluator, [], { env, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
      child.stdout.resume();
      child.stdin.end('{"threshold":1}');
    }
    if (--left > 0) next();
    else setTimeout(() => process.exit(0), 2000);
  }, at - now);
}
process.stdout.write('listening on http://127.0.0.1:0\n');
next();
process.on('SIGTERM', () => process.exit(0));
