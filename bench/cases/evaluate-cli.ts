// `interlock evaluate` of a 3-trait pipeline on SQLite (the whole CLI process) against a bare Node script that
// spawns the same three evaluators in parallel, feeds their stdin and parses their stdout (bench/floor/spawn3.mjs).
import { join } from 'node:path';
import { type BenchCase, type Figure, interleave, times } from '../lib/figure.js';
import { code, mustRun, NODE } from '../lib/proc.js';
import { makeBenchProject, TRAIT_CONFIG } from '../lib/project.js';
import { median, round } from '../lib/stats.js';

const TARGET = 1.3;

export const evaluateCliCase: BenchCase = {
  id: 'evaluate',
  title: 'interlock evaluate (3 trivial shell evaluators, SQLite) vs spawn3.mjs',
  async run(ctx): Promise<Figure[]> {
    const p = makeBenchProject(ctx.tmp('evaluate'), { pipelines: 1, traits: 3, prefix: 'three' });
    const name = p.names[0] as string;
    const cli = async () => {
      const r = await mustRun(NODE, [code.bin, 'evaluate', name], { cwd: p.root });
      if (!/^READY$/m.test(r.stdout)) throw new Error(`evaluate did not say READY:\n${r.stdout}`);
      return r.ms;
    };
    const floor = async () =>
      (
        await mustRun(NODE, [join(code.floor, 'spawn3.mjs'), JSON.stringify(TRAIT_CONFIG), ...p.evaluators], {
          cwd: p.root,
        })
      ).ms;
    // The first evaluate creates the store; warm both paths before measuring.
    await interleave(3, cli, floor);
    const pairs = ctx.quick ? 5 : 30;
    const s = await interleave(pairs, cli, floor);
    const a = median(s.a);
    const b = median(s.b);
    const ratio = a / b;
    ctx.log(`evaluate ${a.toFixed(1)} ms, spawn3 floor ${b.toFixed(1)} ms → ${times(ratio)}`);
    return [
      {
        id: 'evaluate',
        what: '`interlock evaluate`, 3 trivial shell evaluators, SQLite: wall time',
        measured: `${a.toFixed(1)} ms`,
        floor: `${b.toFixed(1)} ms (spawn3.mjs)`,
        ratio: round(ratio, 3),
        target: `≤ ${TARGET}×`,
        met: ratio <= TARGET,
        numbers: { candidateMs: round(a), floorMs: round(b), ratio: round(ratio, 3), pairs },
        details: { candidateMs: s.a.map((x) => round(x)), floorMs: s.b.map((x) => round(x)) },
      },
    ];
  },
};
