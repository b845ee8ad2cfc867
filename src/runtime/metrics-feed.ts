// Feeds the metrics from the Context: counters and histograms from the event bus, the state gauges from the store at
// scrape time, store operation timings from a wrapper around the store. Types only from observability/metrics (the
// caller loads prom-client, lazily).
import { isInvalid } from '../core/invalid.js';
import type { RunStatus } from '../core/types.js';
import { decideReadiness } from '../engine/index.js';
import type { Metrics, StateSnapshot } from '../observability/metrics.js';
import type { Store } from '../store/index.js';
import { allPipelineEntries } from './context.js';
import type { Context } from './context-type.js';

/**
 * Loads prom-client (lazily: only a server needs it) and wires the metrics to ctx: the store timed, the bus counted,
 * the state gauges read at scrape time. Replaces ctx.store with its timed wrapper.
 */
export async function openMetrics(ctx: Context, version: string): Promise<Metrics> {
  const { Metrics } = await import('../observability/metrics.js');
  const metrics = new Metrics({ version });
  ctx.store = instrumentStore(ctx.store, metrics);
  subscribeMetrics(ctx, metrics);
  metrics.setStateSource(metricsState(ctx));
  return metrics;
}

/** The result label of a trigger, by the state its run left TRIGGERING for. */
const TRIGGER_RESULT: Partial<Record<RunStatus, string>> = {
  RUNNING: 'accepted',
  COMPLETED: 'accepted',
  FAILED: 'failed',
  TIMED_OUT: 'timed_out',
  CANCELLED: 'cancelled',
};

const TERMINAL: ReadonlySet<RunStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'BLOCKED']);

/**
 * Subscribes `m` to ctx.events; returns the unsubscribe. Counts what this process saw happen (evaluations, triggers,
 * run ends, alert deliveries, window moves): a counter restarts with the process, as Prometheus expects.
 */
export function subscribeMetrics(ctx: Context, m: Metrics): () => void {
  // Pipeline → when a push made it READY, until the trigger of one of its windows (bounded by the pipelines).
  const readyByPush = new Map<string, number>();
  const offs = [
    ctx.events.subscribe('evaluation.decided', ({ evaluation }) => {
      const { pipeline, results, decision } = evaluation;
      m.evaluations.inc({ pipeline: pipeline.name, source: decision.source, outcome: decision.outcome });
      for (const r of results) {
        // A pushed result took no evaluator time.
        if (r.source === 'push') continue;
        m.evaluatorDuration.observe({ pipeline: pipeline.name, trait: r.trait, status: r.status }, r.durationMs / 1000);
      }
      if (decision.source === 'push') {
        if (decision.outcome === 'READY') readyByPush.set(pipeline.name, decision.decidedAt);
        else readyByPush.delete(pipeline.name);
      }
    }),
    ctx.events.subscribe('run.transitioned', ({ from, run }) => {
      if (from === 'TRIGGERING') {
        const result = TRIGGER_RESULT[run.status];
        if (result) m.triggers.inc({ pipeline: run.pipeline, type: run.triggerType ?? 'unknown', result });
      }
      if (TERMINAL.has(run.status)) {
        const end = run.finishedAt ?? run.updatedAt;
        m.runDuration.observe({ pipeline: run.pipeline, status: run.status }, Math.max(0, end - run.createdAt) / 1000);
      }
    }),
    ctx.events.subscribe('alert.delivered', ({ alert, sink, result }) => {
      m.alerts.inc({ kind: alert.kind, sink, result });
    }),
    ctx.events.subscribe('window.transitioned', ({ from, window }) => {
      if (from === window.state) return; // a re-decision that left the state as it was
      m.windows.inc({ pipeline: window.pipeline, state: window.state });
      if (window.state === 'TRIGGERING') {
        const pushedAt = readyByPush.get(window.pipeline);
        if (pushedAt !== undefined) {
          readyByPush.delete(window.pipeline);
          m.pushToTrigger.observe(Math.max(0, window.updatedAt - pushedAt) / 1000);
        }
      }
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}

/**
 * The state gauges' source: every pipeline's readiness recomputed at `now` from its stored results (as `status`
 * does, so TTLs count down between evaluations) and whether a run holds its lock. Two reads per pipeline, no writes.
 */
export function metricsState(ctx: Context): () => Promise<StateSnapshot> {
  return async () => {
    const now = ctx.clock.now();
    const entries = await allPipelineEntries(ctx);
    const pipelines = await Promise.all(
      entries.map(async (p) => {
        if (isInvalid(p)) return { pipeline: p.name, ready: false, activeRuns: 0, traits: [] };
        const [results, active] = await Promise.all([
          ctx.store.getTraitResults(p.name),
          ctx.store.getActiveRun(p.name),
        ]);
        const r = decideReadiness(p.name, p.traits, results, p.readinessRule, now);
        return {
          pipeline: p.name,
          ready: r.outcome === 'READY',
          activeRuns: active ? 1 : 0,
          traits: r.traits.map((t) => ({
            trait: t.trait,
            state: t.state,
            ...(t.ttlLeftMs !== undefined ? { ttlLeftMs: t.ttlLeftMs } : {}),
          })),
        };
      }),
    );
    return { pipelines };
  };
}

/**
 * The store with every operation timed into interlock_store_operation_duration_seconds{op} (op: the method name, a
 * fixed set). Methods run on the store itself (its private fields stay reachable); everything else passes through.
 */
export function instrumentStore(store: Store, m: Metrics, now: () => number = () => performance.now()): Store {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      // A subscription, not an operation: passed through untimed, still called on the store itself.
      if (prop === 'watchChanges') return value.bind(target);
      let fn = wrapped.get(prop);
      if (!fn) {
        fn = (...args: unknown[]) => {
          const t0 = now();
          const done = () => m.storeDuration.observe({ op: prop }, (now() - t0) / 1000);
          const out = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (out instanceof Promise) return out.finally(done);
          done();
          return out;
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
