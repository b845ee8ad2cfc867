// `interlock add-pipeline`
import { relative } from 'node:path';
import { InterlockError } from '../../core/errors.js';
import { addPipeline } from '../../runtime/add-pipeline.js';
import type { GlobalOptions, Out } from '../output.js';

export async function addPipelineCmd(
  out: Out,
  g: GlobalOptions,
  o: {
    name: string;
    archetype: string;
    tier?: string;
    triggerType?: 'command' | 'http';
    triggerCommand?: string;
    triggerUrl?: string;
  },
): Promise<number> {
  let tier: number | undefined;
  if (o.tier !== undefined) {
    tier = Number(o.tier);
    if (!/^\d+$/.test(o.tier)) throw new InterlockError('USAGE', `--tier must be a whole number ≥ 0, got '${o.tier}'`);
  }
  const r = addPipeline({ cwd: process.cwd(), configPath: g.config, ...o, tier });
  if (out.json) {
    out.printJson(r);
    return 0;
  }
  out.line(`Wrote ${relative(process.cwd(), r.file)}`);
  if (r.placeholders.length) {
    out.line(
      out.c.yellow(
        `Fill in the placeholders: ${r.placeholders.join(', ')} — until then those traits FAIL, naming the key.`,
      ),
    );
  }
  if (r.missingEvaluators.length) {
    out.line(
      out.c.yellow(
        `No evaluator yet for: ${r.missingEvaluators.join(', ')} — the pipeline stays NOT_READY until each has one.`,
      ),
    );
  }
  if (r.undeclaredEvaluators.length) {
    out.line(
      out.c.yellow(
        `Not wired: ${r.undeclaredEvaluators.map((t) => `check-${t}`).join(', ')} declare no config (an \`interlock-config: {…}\` line); wire them under traits: yourself — until then NOT_READY.`,
      ),
    );
  }
  return 0;
}
