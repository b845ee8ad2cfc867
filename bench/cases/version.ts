// `interlock --version` against `node -e 0`: the cost of the CLI's start-up over Node's own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../test/support/paths.js';
import { type BenchCase, type Figure, interleave, times } from '../lib/figure.js';
import { code, mustRun, NODE } from '../lib/proc.js';
import { median, round } from '../lib/stats.js';

const TARGET = 1.5;

export const versionCase: BenchCase = {
  id: 'version',
  title: 'interlock --version vs node -e 0',
  async run(ctx): Promise<Figure[]> {
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    const cwd = ctx.tmp('version');
    const cli = async () => {
      const r = await mustRun(NODE, [code.bin, '--version'], { cwd });
      if (r.stdout.trim() !== version) throw new Error(`--version printed ${JSON.stringify(r.stdout)}`);
      return r.ms;
    };
    const bare = async () => (await mustRun(NODE, ['-e', '0'], { cwd })).ms;
    await interleave(3, cli, bare); // warm the page cache
    const pairs = ctx.quick ? 8 : 40;
    const s = await interleave(pairs, cli, bare);
    const a = median(s.a);
    const b = median(s.b);
    const ratio = a / b;
    ctx.log(`--version ${a.toFixed(1)} ms, node -e 0 ${b.toFixed(1)} ms → ${times(ratio)}`);
    return [
      {
        id: 'version',
        what: '`interlock --version` wall time',
        measured: `${a.toFixed(1)} ms`,
        floor: `${b.toFixed(1)} ms (\`node -e 0\`)`,
        ratio: round(ratio, 3),
        target: `≤ ${TARGET}×`,
        met: ratio <= TARGET,
        numbers: { candidateMs: round(a), floorMs: round(b), ratio: round(ratio, 3), pairs },
        details: { candidateMs: s.a.map((x) => round(x)), floorMs: s.b.map((x) => round(x)) },
      },
    ];
  },
};
