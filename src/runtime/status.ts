// Use-case: cached readiness of one or all pipelines, recomputed at `now` from stored results (so TTLs show live).
import { InterlockError } from '../core/errors.js';
import { isInvalid } from '../core/invalid.js';
import type {
  DecisionRecord,
  InvalidPipeline,
  PipelineSpec,
  Readiness,
  RunEvent,
  RunState,
  TraitResult,
  TraitState,
} from '../core/types.js';
import { decideReadiness, traitState } from '../engine/index.js';
import { allPipelineEntries, allPipelines, findPipeline, getPipeline } from './context.js';
import type { Context } from './context-type.js';
import { touchActiveRun } from './touch.js';
import { type ScheduledStatusView, scheduledStatus } from './windows.js';

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
  /** A pipeline with schedules: its windows and the watcher's next wake-up (absent: on demand only). */
  scheduled?: ScheduledStatusView;
}

async function statusOf(ctx: Context, pipeline: PipelineSpec, now: number): Promise<PipelineStatus> {
  const { active } = await touchActiveRun(ctx, pipeline.name);
  const [results, last, runs, scheduled] = await Promise.all([
    ctx.store.getTraitResults(pipeline.name),
    ctx.store.getReadiness(pipeline.name),
    ctx.store.listRuns(pipeline.name, { limit: 1 }),
    scheduledStatus(ctx, pipeline),
  ]);
  const readiness = decideReadiness(pipeline.name, pipeline.traits, results, pipeline.readinessRule, now);
  const s: PipelineStatus = { pipeline, readiness };
  if (active) s.activeRun = active;
  if (runs[0]) s.lastRun = runs[0];
  if (scheduled) s.scheduled = scheduled;
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

/**
 * `status` as the CLI shows it: every pipeline, INVALID ones included (with their problems), or one by name
 * (PIPELINE_NOT_FOUND if unknown). INVALID ones are only listed: nothing is read or evaluated for them.
 */
export async function statusOverview(ctx: Context, name?: string): Promise<Array<PipelineStatus | InvalidPipeline>> {
  const now = ctx.clock.now();
  const entries = name ? [await findPipeline(ctx, name)] : await allPipelineEntries(ctx);
  return Promise.all(entries.map((p) => (isInvalid(p) ? p : statusOf(ctx, p, now))));
}

/** The JSON shape of an INVALID pipeline in `status --json`: outcome INVALID and every problem. */
export function invalidStatusView(p: InvalidPipeline) {
  return { pipeline: p.name, source: p.source, outcome: 'INVALID' as const, problems: p.problems };
}

/** The JSON shape of a pipeline's status, as `status --json` prints it and `GET …/readiness` returns. */
export function statusView(s: PipelineStatus) {
  return {
    pipeline: s.pipeline.name,
    archetype: s.pipeline.archetype,
    source: s.pipeline.source,
    outcome: s.readiness.outcome,
    lastEvaluatedAt: s.lastEvaluatedAt ?? null,
    lastOutcome: s.lastOutcome ?? null,
    blocking: s.readiness.blocking,
    note: s.readiness.note,
    activeRun: s.activeRun ?? null,
    lastRun: s.lastRun ?? null,
    traits: s.readiness.traits.map((t) => ({
      trait: t.trait,
      required: t.required,
      state: t.state,
      ttlLeftMs: t.ttlLeftMs ?? null,
      result: t.result ?? null,
    })),
    scheduled: s.scheduled ?? null,
  };
}

/** A stored trait result with its state at the time it was read (an expired result is STALE). */
export type TraitResultView = TraitResult & { state: TraitState; required: boolean };

/** The latest stored result of each of the pipeline's traits that has one, in the pipeline's trait order. */
export async function traitResults(ctx: Context, name: string): Promise<TraitResultView[]> {
  const p = await getPipeline(ctx, name);
  const now = ctx.clock.now();
  const stored = new Map((await ctx.store.getTraitResults(p.name)).map((r) => [r.trait, r]));
  const out: TraitResultView[] = [];
  for (const t of p.traits) {
    const r = stored.get(t.type);
    if (r) out.push({ ...r, state: traitState(r, now, t.ttlSeconds), required: t.required });
  }
  return out;
}

/** One trait's latest result; TRAIT_NOT_FOUND when the pipeline has no such trait or it has no result yet. */
export async function traitResult(ctx: Context, name: string, trait: string): Promise<TraitResultView> {
  const p = await getPipeline(ctx, name);
  const t = p.traits.find((x) => x.type === trait);
  if (!t) {
    const known = p.traits.map((x) => x.type).join(', ') || 'none';
    throw new InterlockError('TRAIT_NOT_FOUND', `pipeline '${p.name}' has no trait '${trait}' (traits: ${known})`, {
      pipeline: p.name,
      trait,
    });
  }
  const r = await ctx.store.getTraitResult(p.name, trait);
  if (!r) {
    throw new InterlockError('TRAIT_NOT_FOUND', `no result for trait '${trait}' of '${p.name}' yet (evaluate it)`, {
      pipeline: p.name,
      trait,
    });
  }
  return { ...r, state: traitState(r, ctx.clock.now(), t.ttlSeconds), required: t.required };
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

/**
 * The decision in force at `at` (`history --at`): the newest decision record made at or before that time, or
 * undefined when the pipeline had none yet.
 */
export async function decisionAt(ctx: Context, name: string, at: number): Promise<DecisionRecord | undefined> {
  const p = await getPipeline(ctx, name);
  const [d] = await ctx.store.listDecisions(p.name, { limit: 1, before: at + 1 });
  return d;
}
