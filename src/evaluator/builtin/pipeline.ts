// builtin:pipeline — another Interlock pipeline of this project has completed: its window of this window's schedule
// date (`same-day`), or its newest window or run within maxAge (`latest`). Reads the upstream's windows and runs
// from the same store; anything it cannot read, or any run of the upstream still writing, FAILs (fail closed).
import type { PipelineDependencyConfig } from '../../core/builtin-config.js';
import { pipelineConfigSchema } from '../../core/builtin-config.js';
import {
  type Builtin,
  type BuiltinContext,
  type BuiltinOutcome,
  errMessage,
  failed,
  pass,
  type UpstreamRun,
  type UpstreamWindow,
} from './types.js';

const DAY = 86_400_000;
/** Runs looked at for `latest` and for an upstream run in progress. */
const RUN_SCAN = 50;
/** Windows looked at around one date (an hourly schedule has 24 a day). */
const WINDOW_SCAN = 200;
const ACTIVE_RUN = ['PENDING', 'TRIGGERING', 'RUNNING'];

const iso = (ms: number) => new Date(ms).toISOString();
const ago = (ms: number) => `${Math.round(ms / 1000)}s`;

/** "OPEN (last decision NOT_READY: blocked by orders-file)" / "MISSED (deadline passed …)". */
function describeState(w: UpstreamWindow): string {
  if (w.terminal) return `${w.state} (${w.terminal.reason})`;
  const d = w.lastDecision;
  if (!d) return w.state;
  const blocked = d.blocking.length ? `: blocked by ${d.blocking.map((b) => `${b.trait} ${b.state}`).join(', ')}` : '';
  return `${w.state} (last decision ${d.outcome}${blocked})`;
}

function windowValue(w: UpstreamWindow): Record<string, unknown> {
  const v: Record<string, unknown> = { windowKey: w.key, state: w.state, date: w.date };
  if (w.terminal) v.endedAt = iso(w.terminal.at);
  return v;
}

/** A run of the upstream started after `since` and not yet ended: its output is being written now. */
function writing(runs: readonly UpstreamRun[], since: number): UpstreamRun | undefined {
  return runs.find((r) => ACTIVE_RUN.includes(r.status) && r.createdAt >= since);
}

async function sameDay(c: PipelineDependencyConfig, ctx: BuiltinContext): Promise<BuiltinOutcome> {
  const base: Record<string, unknown> = { pipeline: c.pipeline, window: 'same-day' };
  if (c.schedule !== undefined) base.schedule = c.schedule;
  const date = ctx.window?.date;
  if (date === undefined)
    return failed(
      'CHECK_FAILED',
      `window: same-day compares schedule dates, and this evaluation is not a schedule window's (no INTERLOCK_WINDOW_DATE); ${c.pipeline} was not checked (use window: latest with maxAge to check outside windows)`,
      base,
    );
  base.date = date;
  const store = ctx.upstream as NonNullable<BuiltinContext['upstream']>;
  // Windows dated `date` open within a day (and a timezone's offset) of its UTC midnight.
  const before = Date.parse(`${date}T00:00:00Z`) + 2 * DAY;
  const windows = await store.listWindows(c.pipeline, {
    before,
    limit: WINDOW_SCAN,
    ...(c.schedule !== undefined ? { schedule: c.schedule } : {}),
  });
  const ofDate = windows.filter((w) => w.date === date);
  const which = c.schedule !== undefined ? ` of schedule ${c.schedule}` : '';
  const w = ofDate[0];
  if (!w) {
    const newest = windows[0];
    const seen = newest
      ? ` (its newest before then: ${newest.key}, ${newest.state})`
      : ` (it has no window before then)`;
    return failed('CHECK_FAILED', `${c.pipeline} has no window${which} dated ${date}${seen}`, base);
  }
  const value = { ...base, ...windowValue(w) };
  if (w.state !== 'COMPLETED')
    return failed(
      'CHECK_FAILED',
      `${c.pipeline} window ${date} is ${describeState(w)}, not COMPLETED (${w.key})`,
      value,
    );
  const endedAt = w.terminal?.at ?? w.openAt;
  if (c.maxAge !== undefined && ctx.now - endedAt > c.maxAge * 1000)
    return failed(
      'CHECK_FAILED',
      `${c.pipeline} window ${date} COMPLETED ${ago(ctx.now - endedAt)} ago (${iso(endedAt)}), more than maxAge ${c.maxAge}s`,
      { ...value, maxAgeSeconds: c.maxAge },
    );
  const runs = await store.listRuns(c.pipeline, { limit: RUN_SCAN });
  const busy = writing(runs, endedAt);
  if (busy)
    return failed(
      'CHECK_FAILED',
      `${c.pipeline} window ${date} COMPLETED, but its run ${busy.runId} started since is ${busy.status}: its output is being rewritten`,
      { ...value, runInProgress: busy.runId },
    );
  return pass(value, `${c.pipeline} window ${date} COMPLETED at ${iso(endedAt)}`);
}

async function latest(c: PipelineDependencyConfig, ctx: BuiltinContext): Promise<BuiltinOutcome> {
  const maxAge = c.maxAge ?? 0;
  const base: Record<string, unknown> = { pipeline: c.pipeline, window: 'latest', maxAgeSeconds: maxAge };
  if (c.schedule !== undefined) base.schedule = c.schedule;
  const store = ctx.upstream as NonNullable<BuiltinContext['upstream']>;
  const [windows, runs] = await Promise.all([
    store.listWindows(c.pipeline, {
      state: 'COMPLETED',
      limit: 1,
      ...(c.schedule !== undefined ? { schedule: c.schedule } : {}),
    }),
    store.listRuns(c.pipeline, { limit: RUN_SCAN }),
  ]);
  const w = windows[0];
  // Runs count too (an upstream run by hand or by a callback), unless only one schedule's windows are asked for.
  const run = c.schedule === undefined ? runs.find((r) => r.status === 'COMPLETED') : undefined;
  const wAt = w ? (w.terminal?.at ?? w.openAt) : undefined;
  const rAt = run ? (run.finishedAt ?? run.updatedAt) : undefined;
  let endedAt: number;
  let value: Record<string, unknown>;
  let what: string;
  if (wAt !== undefined && w && (rAt === undefined || wAt >= rAt)) {
    endedAt = wAt;
    value = { ...base, ...windowValue(w) };
    what = `window ${w.key}`;
  } else if (rAt !== undefined && run) {
    endedAt = rAt;
    value = { ...base, runId: run.runId, state: run.status, endedAt: iso(rAt) };
    if (run.window) value.windowKey = run.window.key;
    what = `run ${run.runId}`;
  } else {
    return failed('CHECK_FAILED', `${c.pipeline} has no COMPLETED window or run`, base);
  }
  const age = ctx.now - endedAt;
  value.ageSeconds = Math.round(age / 1000);
  if (age > maxAge * 1000)
    return failed(
      'CHECK_FAILED',
      `${c.pipeline} last completed ${ago(age)} ago (${what} at ${iso(endedAt)}), more than maxAge ${maxAge}s`,
      value,
    );
  const busy = writing(runs, endedAt);
  if (busy)
    return failed(
      'CHECK_FAILED',
      `${c.pipeline} completed at ${iso(endedAt)}, but its run ${busy.runId} started since is ${busy.status}: its output is being rewritten`,
      { ...value, runInProgress: busy.runId },
    );
  return pass(value, `${c.pipeline} completed ${ago(age)} ago (${what})`);
}

export const pipelineBuiltin: Builtin<PipelineDependencyConfig> = {
  schema: pipelineConfigSchema,
  async run(c, ctx) {
    if (!ctx.upstream) return failed('EVALUATOR_ERROR', 'builtin:pipeline has no store to read the upstream from');
    if (ctx.pipeline !== undefined && c.pipeline === ctx.pipeline)
      return failed('CHECK_FAILED', `${c.pipeline} cannot wait for itself`, { pipeline: c.pipeline });
    try {
      return c.window === 'latest' ? await latest(c, ctx) : await sameDay(c, ctx);
    } catch (err) {
      return failed('EVALUATOR_ERROR', `cannot read ${c.pipeline}'s windows and runs: ${errMessage(err)}`, {
        pipeline: c.pipeline,
      });
    }
  },
};
