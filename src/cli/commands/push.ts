// `interlock push <pipeline> <trait> --status PASS|FAIL [--value JSON] [--reason TEXT] [--ttl 10m]`
import { InterlockError } from '../../core/errors.js';
import { EVAL_STATUSES } from '../../core/lists.js';
import { openContext } from '../../runtime/context.js';
import { pushTraitResult, pushView } from '../../runtime/push.js';
import { formatDuration, formatValue, formatVerdict, stateLabel } from '../format.js';
import type { GlobalOptions, Out } from '../output.js';
import { contextOptions } from '../root.js';

export interface PushOptions {
  status: string;
  value?: string;
  reason?: string;
  ttl?: string;
}

/** `--value` as JSON; whether it is an acceptable object (and small enough) is pushTraitResult's to say. */
function parseValue(s: string | undefined): unknown {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s) as unknown;
  } catch (e) {
    throw new InterlockError('USAGE', `--value is not valid JSON: ${(e as Error).message}`);
  }
}

export async function push(out: Out, g: GlobalOptions, name: string, trait: string, o: PushOptions): Promise<number> {
  const status = o.status.toUpperCase();
  if (!(EVAL_STATUSES as readonly string[]).includes(status)) {
    throw new InterlockError('USAGE', `--status must be ${EVAL_STATUSES.join(' or ')}, got '${o.status}'`);
  }
  const value = parseValue(o.value);
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new InterlockError('USAGE', '--value must be a JSON object (e.g. {"rows":150000})');
  }
  // Plain digits are seconds, as in config; anything else is a duration string (10m, 1h30m).
  const ttl = o.ttl !== undefined && /^\d+$/.test(o.ttl) ? Number(o.ttl) : o.ttl;
  const ctx = await openContext(contextOptions(g));
  try {
    const pushed = await pushTraitResult(ctx, name, trait, {
      status,
      ...(value !== undefined ? { value } : {}),
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
      ...(ttl !== undefined ? { ttl } : {}),
    }).catch((err: unknown) => {
      // The use-case names the field; on the command line it is the option.
      if (err instanceof InterlockError && err.code === 'USAGE' && /^(status|value|reason|ttl): /.test(err.message)) {
        throw new InterlockError('USAGE', `--${err.message}`, err.context);
      }
      throw err;
    });
    const r = pushView(pushed);
    if (out.json) {
      out.printJson(r);
      return 0;
    }
    const ev = pushed.evaluation;
    const expiry =
      r.expiresAt === undefined ? 'never expires' : `expires in ${formatDuration(r.expiresAt - r.evaluatedAt)}`;
    const detail = r.status === 'PASS' ? formatValue(r.value) : `${r.reason ?? ''} [${r.reasonCode ?? ''}]`;
    out.fitLine(`pushed ${stateLabel(out.c, r.state)} ${name}/${trait} (${expiry}) ${out.c.dim(detail)}`.trimEnd());
    out.line(`${out.c.bold(name)} ${out.c.dim(`is now (decision ${ev.decision.id}):`)}`);
    for (const l of formatVerdict(out.c, ev.readiness)) out.fitLine(l);
    return 0;
  } finally {
    await ctx.close();
  }
}
