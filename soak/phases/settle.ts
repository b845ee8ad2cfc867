// After the load: wait (up to 10 s) for in-flight evaluators to end and keep-alive sockets to close, then take what
// the serve process still holds.
import { sleep } from '../../test/support/poll.js';
import { holdings, rssMb } from '../lib/samples.js';
import type { Baseline } from './prepare.js';

export interface Settled {
  fds: { total: number; byKind: Record<string, number> };
  children: number;
  rssMb: number;
}

/** Polls until no child is left and the fds are back to the idle baseline, or 10 s pass. */
export async function settle(pid: number, idle: Baseline): Promise<Settled> {
  const settleStart = Date.now();
  let end = holdings(pid);
  while (Date.now() - settleStart < 10_000) {
    await sleep(500);
    end = holdings(pid);
    if (end.children === 0 && end.fds.total <= idle.fds.total) break;
  }
  return { ...end, rssMb: rssMb(pid) };
}
