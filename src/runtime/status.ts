// Use-case: cached readiness of one or all pipelines, recomputed at `now` from stored results (so TTLs show live).
import type { DecisionRecord, PipelineSpec, Readiness, RunEvent, RunState } from '../core/types.js';
import { decideReadiness } from '../engine/index.js';
import { sendAlerts } from './alerting.js';
import type { Context } from './context.js';
import { allPipelines, getPipeline } from './context.js';
import { expireOverdueRun } from './touch.js';

export interface PipelineStatus {
  pipeline: PipelineSpec;
  /** Readiness as of now, from the latest stored results; STALE traits block. */
  readiness: Readiness;
  /** When it was last evaluated; undefined if never. */
  lastEvaluatedAt?: number;
  /** What the last evaluation decided at the time. */
  lastOutcome?: Readiness['outcome'];
  /** The run holding the pipeline's lock, if any (after timing out an overdue one). */
  activeRun?: RunState;
  /** The most recent run. */
  lastRun?: RunState;
}

async function statusOf(ctx: Context, pipeline: PipelineSpec, now: number): Promise<PipelineStatus> {
  await sendAlerts(ctx, await expireOverdueRun(ctx, pipeline.name));
  const [results, last, active, runs] = await Promise.all([
    ctx.store.getTraitResults(pipeline.name),
    ctx.store.getReadiness(pipeline.name),
    ctx.store.getActiveRun(pipeline.name),
    ctx.store.listRuns(pipeline.name, { limit: 1 }),
  ]);
  const readiness = decideReadiness(pipeline.name, pipeline.traits, results, pipeline.readinessRule, now);
  const s: PipelineStatus = { pipeline, readiness };
  if (active) s.activeRun = active;
  if (runs[0]) s.lastRun = runs[0];
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

/** A history line: a decision record or a run transition, tagged by `type`. */
export type HistoryEntry = ({ type: 'decision' } & DecisionRecord) | ({ type: 'run' } & RunEvent);
const entryTime = (e: HistoryEntry) => (e.type === 'decision' ? e.decidedAt : e.at);
/** Within one millisecond a run goes PENDING, then is decided, then moves on: order ties that way. */
const entryRank = (e: HistoryEntry) => (e.type === 'decision' ? 1 : e.to === 'PENDING' ? 0 : 2);

/** Decision records and run transitions of a pipeline, merged, newest first, at most `limit` entries. */
export async function pipelineHistory(ctx: Context, name: string, opts: HistoryOptions = {}): Promise<HistoryEntry[]> {
  const p = await getPipeline(ctx, name);
  const [decisions, events] = await Promise.all([
    ctx.store.listDecisions(p.name, opts),
    ctx.store.listRunEvents(p.name, opts),
  ]);
  const entries: HistoryEntry[] = [
    ...decisions.map((d) => ({ type: 'decision' as const, ...d })),
    ...events.map((e) => ({ type: 'run' as const, ...e })),
  ];
  // Stable sort keeps each list's own newest-first order within the same millisecond.
  entries.sort((a, b) => entryTime(b) - entryTime(a) || entryRank(b) - entryRank(a));
  return entries.slice(0, opts.limit ?? entries.length);
}

/** Decision records only, newest first (`history --at`: the decision in force at a time). */
export async function pipelineDecisions(
  ctx: Context,
  name: string,
  opts: HistoryOptions = {},
): Promise<DecisionRecord[]> {
  const p = await getPipeline(ctx, name);
  return ctx.store.listDecisions(p.name, opts);
}
