// Schedule-window fixtures: a project with a scheduled pipeline `orders`, its watch config (set on a loaded
// project directly, until YAML is wired), window records in any state, and trait results to store beside them.
import type { PipelineWatchConfig } from '../../src/config/schedule-schema.js';
import type { BlockingTrait, TraitResult } from '../../src/core/types.js';
import { DEFAULT_RETRY } from '../../src/engine/retry.js';
import { mustCompileSchedule, type ScheduleSpec, windowTimes } from '../../src/engine/schedule.js';
import { newWindow, type WindowRecord, type WindowState } from '../../src/engine/window.js';
import { windowKey } from '../../src/engine/window-key.js';
import type { Store } from '../../src/store/types.js';
import { copyFixtureEvaluators, writeFiles } from './files.js';

/** `daily`: opens 05:00 Europe/Berlin, may trigger from 05:30, deadline 09:00 (June: UTC+2, so 03:00Z…07:00Z). */
export const DAILY: ScheduleSpec = {
  name: 'daily',
  cron: '0 5 * * *',
  timezone: 'Europe/Berlin',
  catchup: 'latest',
  after: { kind: 'time', hour: 5, minute: 30 },
  deadline: { kind: 'time', hour: 9, minute: 0 },
};

/** The watch config of `orders`: the daily schedule, reevaluate 60 s, no retry, live. */
export function ordersWatch(over: Partial<PipelineWatchConfig> = {}): PipelineWatchConfig {
  return { schedules: [DAILY], reevaluateMs: 60_000, retry: DEFAULT_RETRY, mode: 'live', ...over };
}

/**
 * A project: archetype `etl` (required traits upstream-dependency and row-count), pipeline `orders` (fixture
 * evaluators, a `true` command trigger) and `adhoc` (same, no schedule). The schedule itself is set by the test on
 * the loaded project (`ctx.project.watch.set('orders', ordersWatch())`).
 */
export function scheduledProject(root: string, config = 'provider: memory\n'): string {
  copyFixtureEvaluators(root);
  const traits = 'traits:\n  upstream-dependency:\n    evaluator: pass\n  row-count:\n    evaluator: pass\n';
  writeFiles(root, {
    'interlock.yaml': config,
    'archetypes/etl.yaml': 'name: etl\nrequiredTraits:\n  - type: upstream-dependency\n  - type: row-count\n',
    'pipelines/orders.yaml': `name: orders\narchetype: etl\n${traits}trigger:\n  type: command\n  command: "true"\n`,
    'pipelines/adhoc.yaml': `name: adhoc\narchetype: etl\n${traits}`,
  });
  return root;
}

const daily = mustCompileSchedule(DAILY);

/** The record of the `orders` daily window opening at `openAt` (UTC ISO), in `state`, with fields changed. */
export function ordersWindow(
  openIso: string,
  state: WindowState = 'PENDING',
  over: Partial<WindowRecord> = {},
  pipeline = 'orders',
): WindowRecord {
  const openAt = Date.parse(openIso);
  const w = newWindow({
    key: windowKey(pipeline, 'daily', openAt),
    pipeline,
    times: windowTimes(daily, openAt),
    mode: 'live',
    now: openAt,
  });
  return { ...w, state, ...over };
}

export const blockingFail = (trait: string, reason = 'not yet'): BlockingTrait => ({
  trait,
  state: 'FAIL',
  reasonCode: 'EVALUATOR_FAIL',
  reason,
});

export function traitResult(
  trait: string,
  status: 'PASS' | 'FAIL',
  evaluatedAt: number,
  expiresAt?: number,
  pipeline = 'orders',
): TraitResult {
  return {
    pipeline,
    trait,
    status,
    durationMs: 5,
    evaluatedAt,
    ...(status === 'FAIL' ? { reasonCode: 'EVALUATOR_FAIL' as const, reason: 'not yet' } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

/** Stores `results` as one evaluation of `pipeline` at `at` (what an evaluator or a push would have written). */
export async function storeResults(store: Store, results: TraitResult[], at: number, pipeline = 'orders') {
  const rule = { type: 'all-required-pass' as const };
  const outcome = results.every((r) => r.status === 'PASS') ? ('READY' as const) : ('NOT_READY' as const);
  await store.saveEvaluation({
    results,
    readiness: { pipeline, outcome, rule, traits: [], blocking: [], decidedAt: at },
    decision: { id: `d-${at}`, pipeline, source: 'test', rule, outcome, traits: [], blocking: [], decidedAt: at },
  });
}
