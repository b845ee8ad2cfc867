// `interlock cancel <runId>`
import { cancelRun } from '../../runtime/cancel.js';
import { openContext } from '../../runtime/context.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';

export async function cancel(out: Out, g: GlobalOptions, runId: string, o: { reason?: string }): Promise<number> {
  const ctx = await openContext(contextOptions(g));
  try {
    const c = await cancelRun(ctx, runId, o.reason);
    if (out.json) out.printJson(c);
    else
      out.line(
        !c.changed
          ? `run ${runId} was already CANCELLED`
          : c.run.lockHeldUntil !== undefined
            ? `run ${runId} cancelled; ${c.run.reason ?? 'the pipeline stays locked while its command may run'}`
            : `run ${runId} cancelled (the pipeline's lock is free)`,
      );
    return 0;
  } finally {
    await ctx.close();
  }
}
