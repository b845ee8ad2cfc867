// Use-case: cached readiness of one or all pipelines, recomputed at `now` from stored results (so TTLs show live).
import type { DecisionRecord, PipelineSpec, Readiness } from '../core/types.js';
import { decideReadiness } from '../engine/index.js';
import type { Context } from './context.js';
import { allPipelines, getPipeline } from './context.js';

export interface PipelineStatus {
  pipeline: PipelineSpec;
  /** Readiness as of now, from the latest stored results; STALE traits block. */
  readiness: Readiness;
  /** When it was last evaluated; undefined if never. */
  lastEvaluatedAt?: number;
  /** What the last evaluation decided at the time. */
  lastOutcome?: Readiness['outcome'];
}

async function statusOf(ctx: Context, pipeline: PipelineSpec, now: number): Promise<PipelineStatus> {
  const [results, last] = await Promise.all([
    ctx.store.getTraitResults(pipeline.name),
    ctx.store.getReadiness(pipeline.name),
  ]);
  const readiness = decideReadiness(pipeline.name, pipeline.traits, results, pipeline.readinessRule, now);
  const s: PipelineStatus = { pipeline, readiness };
  if (last) {
    s.lastEvaluatedAt = last.decidedAt;
    s.lastOutcome = last.outcome;
  }
  return s;
}

/** Status of one pipeline (PIPELINE_NOT_FOUND if unknown) or of all, by name. */
export async function pipelineStatus(ctx: Context, name?: string): Promise<PipelineStatus[]> {
  const now = ctx.clock.now();
  const pipelines = name ? [await getPipeline(ctx, name)] : await allPipelines(ctx);
  return Promise.all(pipelines.map((p) => statusOf(ctx, p, now)));
}

export interface HistoryOptions {
  limit?: number;
  /** Only decisions strictly before this epoch ms. */
  before?: number;
}

/** Decision records of a pipeline, newest first. */
export async function pipelineHistory(
  ctx: Context,
  name: string,
  opts: HistoryOptions = {},
): Promise<DecisionRecord[]> {
  const p = await getPipeline(ctx, name);
  return ctx.store.listDecisions(p.name, opts);
}
