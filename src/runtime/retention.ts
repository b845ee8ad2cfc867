// Use-case: prune history by the project's `retention` (decisions, runs, windows), in small batches; `interlock prune`
// and the watcher (now and then, when it leads) call it. The store decides what may go (store/retention.ts).

import { addCounts, emptyCounts, type PruneCounts, type RetentionPolicy } from '../store/retention.js';
import type { Context } from './context-type.js';

/** Records of each kind per pipeline per batch: small, so a prune never holds a store for long. */
export const PRUNE_BATCH = 200;

export interface PruneOptions {
  /** Count what would go; delete nothing. */
  dryRun?: boolean;
  /** Only these pipelines (default: every pipeline the project defines or the store has records of). */
  pipelines?: string[];
  /** Records of each kind per pipeline per batch (default PRUNE_BATCH). */
  batch?: number;
  /** Stop after this many batches (default: until a batch deletes nothing). */
  maxBatches?: number;
}

export interface PruneReport extends PruneCounts {
  dryRun: boolean;
  /** The retention in force, in ms. */
  policy: RetentionPolicy;
  /** Records older than these instants were candidates (epoch ms). */
  cutoffs: { decisions: number; runs: number; windows: number };
  pipelines: string[];
  batches: number;
  /** A batch limit stopped it before everything prunable was deleted. */
  more: boolean;
}

/** The retention of the loaded project, in ms. */
export function retentionPolicy(ctx: Context): RetentionPolicy {
  const r = ctx.project.config.retention;
  return { decisionsMs: r.decisions * 1000, runsMs: r.runs * 1000, windowsMs: r.windows * 1000 };
}

/** Every pipeline with history: YAML-defined (valid or not), registered, or with windows (an old config's). */
async function knownPipelines(ctx: Context): Promise<string[]> {
  const names = new Set<string>([...ctx.project.pipelines.keys(), ...ctx.project.invalid.keys()]);
  for (const p of await ctx.store.listPipelines()) names.add(p.name);
  for (const w of await ctx.store.windowHeads()) names.add(w.pipeline);
  return [...names].sort();
}

export async function pruneHistory(ctx: Context, opts: PruneOptions = {}): Promise<PruneReport> {
  const policy = retentionPolicy(ctx);
  const pipelines = opts.pipelines ?? (await knownPipelines(ctx));
  const now = ctx.clock.now();
  const dryRun = opts.dryRun === true;
  const report: PruneReport = {
    ...emptyCounts(),
    dryRun,
    policy,
    cutoffs: { decisions: now - policy.decisionsMs, runs: now - policy.runsMs, windows: now - policy.windowsMs },
    pipelines,
    batches: 0,
    more: false,
  };
  if (pipelines.length === 0) return report;
  if (dryRun) {
    // One pass that counts everything (nothing is deleted, so batches would count the same records again).
    const counts = await ctx.store.prune({ pipelines, policy, now, limit: Number.MAX_SAFE_INTEGER, dryRun: true });
    return { ...report, ...counts, batches: 1 };
  }
  const batch = opts.batch ?? PRUNE_BATCH;
  let total = emptyCounts();
  for (;;) {
    if (opts.maxBatches !== undefined && report.batches >= opts.maxBatches) {
      report.more = true;
      break;
    }
    const counts = await ctx.store.prune({ pipelines, policy, now, limit: batch });
    report.batches++;
    total = addCounts(total, counts);
    if (counts.decisions < batch && counts.windows < batch && counts.runs < batch) break;
  }
  return { ...report, ...total };
}
