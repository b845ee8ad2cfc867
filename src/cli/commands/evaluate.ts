// `interlock evaluate <pipeline>`
import type { TraitResult } from '../../core/types.js';
import { openContext } from '../../runtime/context.js';
import { evaluateWithAlerts, evaluationView } from '../../runtime/evaluate.js';
import { formatDuration, formatResultLines, formatReusedLines, formatVerdict } from '../format.js';
import { onInterrupt } from '../interrupt.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';

/** Live per-trait progress on a terminal, shown only once evaluation has taken more than a second. */
function progress(out: Out, traits: string[]): { onResult: (r: TraitResult) => void; stop: () => void } {
  if (!out.interactive) return { onResult: () => {}, stop: () => {} };
  const started = Date.now();
  const done = new Map<string, TraitResult>();
  let shown = false;
  const draw = () => {
    const waiting = traits.filter((t) => !done.has(t));
    const line = `evaluating: ${done.size}/${traits.length} done, ${formatDuration(Date.now() - started)}; waiting on ${waiting.join(', ')}`;
    process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
    shown = true;
  };
  const timer = setInterval(() => {
    if (Date.now() - started >= 1000) draw();
  }, 200);
  return {
    onResult: (r) => {
      done.set(r.trait, r);
      if (shown) draw();
    },
    stop: () => {
      clearInterval(timer);
      if (shown) process.stderr.write('\r\x1b[2K');
    },
  };
}

export async function evaluate(out: Out, g: GlobalOptions, name: string): Promise<number> {
  const ctx = await openContext(contextOptions(g));
  try {
    let p: ReturnType<typeof progress> | undefined;
    const intr = onInterrupt(out.err);
    const ev = await evaluateWithAlerts(ctx, name, {
      source: 'cli',
      onStart: (spec) => {
        p = progress(
          out,
          spec.traits.map((t) => t.type),
        );
      },
      onResult: (r) => p?.onResult(r),
      signal: intr.signal,
    }).finally(() => {
      p?.stop();
      intr.dispose();
    });
    if (out.json) {
      out.printJson(evaluationView(ev));
    } else {
      const n = ev.readiness.traits.length;
      out.line(`${out.c.bold(name)} ${out.c.dim(`(${ev.pipeline.archetype}, ${n} trait${n === 1 ? '' : 's'})`)}`);
      for (const l of formatResultLines(out.c, ev.results)) out.fitLine(l);
      for (const l of formatReusedLines(out.c, ev, ctx.clock.now())) out.fitLine(l);
      for (const l of formatVerdict(out.c, ev.readiness)) out.fitLine(l);
    }
    return intr.exitCode() ?? (ev.readiness.outcome === 'READY' ? 0 : 1);
  } finally {
    await ctx.close();
  }
}
