// `interlock complete <runId> --status success|failed`
import { InterlockError } from '../../core/errors.js';
import { completeRun } from '../../runtime/complete.js';
import { openContext } from '../../runtime/context.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';

/** `--metadata` as JSON; whether it is an acceptable object (and small enough) is completeRun's to say. */
function parseMetadata(s: string | undefined): Record<string, unknown> | undefined {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s) as Record<string, unknown>;
  } catch (e) {
    throw new InterlockError('USAGE', `--metadata is not valid JSON: ${(e as Error).message}`);
  }
}

export async function complete(
  out: Out,
  g: GlobalOptions,
  runId: string,
  o: { status: string; metadata?: string },
): Promise<number> {
  if (o.status !== 'success' && o.status !== 'failed') {
    throw new InterlockError('USAGE', `--status must be success or failed, got '${o.status}'`);
  }
  const metadata = parseMetadata(o.metadata);
  const ctx = await openContext(contextOptions(g));
  try {
    const c = await completeRun(ctx, runId, o.status, metadata);
    if (out.json) out.printJson(c);
    else
      out.line(
        c.changed
          ? `run ${runId} is now ${c.run.status}`
          : `run ${runId} was already ${c.run.status} (nothing changed)`,
      );
    return 0;
  } finally {
    await ctx.close();
  }
}
