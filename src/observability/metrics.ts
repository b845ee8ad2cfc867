// Prometheus metrics of one process (prom-client): the registry, every interlock_* metric, and typed recorders the
// event-bus feed (runtime/metrics-feed.ts) calls. Loaded lazily (only `serve` imports it), so other commands start
// without prom-client.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { TRAIT_STATES } from '../core/lists.js';

/**
 * The state gauges as of a scrape: one entry per pipeline (INVALID ones too, with no traits and not ready). Read from
 * the store at scrape time, so they are right whichever process evaluated or ran the pipeline.
 */
export interface StateSnapshot {
  pipelines: Array<{
    pipeline: string;
    ready: boolean;
    /** 1 while a run holds the pipeline's lock, else 0. */
    activeRuns: number;
    traits: Array<{ trait: string; state: string; ttlLeftMs?: number }>;
  }>;
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const RUN_BUCKETS = [1, 5, 15, 30, 60, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400];
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** prom-client default metrics dropped: gauges with a counter's `_total` suffix. */
const GAUGES_NAMED_TOTAL = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface MetricsOptions {
  version: string;
  /** Node's process metrics (process_*, nodejs_*); default true. Off in unit tests that compare whole outputs. */
  defaultMetrics?: boolean;
}

/** The metrics of one process. Labels are only names from the project (pipelines, traits, sinks) and enums. */
export class Metrics {
  readonly registry = new Registry();
  readonly contentType: string;
  readonly evaluations: Counter<'pipeline' | 'source' | 'outcome'>;
  readonly evaluatorDuration: Histogram<'pipeline' | 'trait' | 'status'>;
  readonly traitState: Gauge<'pipeline' | 'trait' | 'state'>;
  readonly traitTtl: Gauge<'pipeline' | 'trait'>;
  readonly pipelineReady: Gauge<'pipeline'>;
  readonly triggers: Counter<'pipeline' | 'type' | 'result'>;
  readonly runsActive: Gauge<'pipeline'>;
  readonly runDuration: Histogram<'pipeline' | 'status'>;
  readonly alerts: Counter<'kind' | 'sink' | 'result'>;
  readonly windows: Counter<'pipeline' | 'state'>;
  readonly pushToTrigger: Histogram<string>;
  readonly storeDuration: Histogram<'op'>;
  readonly buildInfo: Gauge<'version'>;
  /** Where the state gauges come from at scrape time (none: they stay empty). */
  private state: (() => Promise<StateSnapshot>) | undefined;

  constructor(o: MetricsOptions) {
    const registers = [this.registry];
    this.contentType = this.registry.contentType;
    this.evaluations = new Counter({
      name: 'interlock_evaluations_total',
      help: 'Readiness decisions recorded, by pipeline, source (cli, api, push, watch…) and outcome.',
      labelNames: ['pipeline', 'source', 'outcome'],
      registers,
    });
    this.evaluatorDuration = new Histogram({
      name: 'interlock_evaluator_duration_seconds',
      help: 'Time one evaluator took, by pipeline, trait and result status.',
      labelNames: ['pipeline', 'trait', 'status'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.traitState = new Gauge({
      name: 'interlock_trait_state',
      help: 'Current state of each trait (1 for the state it is in, 0 for the others), read from the store at scrape time.',
      labelNames: ['pipeline', 'trait', 'state'],
      registers,
    });
    this.traitTtl = new Gauge({
      name: 'interlock_trait_ttl_remaining_seconds',
      help: 'Validity left of each trait result with a TTL (0 once expired), at scrape time.',
      labelNames: ['pipeline', 'trait'],
      registers,
    });
    this.pipelineReady = new Gauge({
      name: 'interlock_pipeline_ready',
      help: '1 when the pipeline is READY from its stored results at scrape time, else 0 (INVALID pipelines: 0).',
      labelNames: ['pipeline'],
      registers,
    });
    this.triggers = new Counter({
      name: 'interlock_triggers_total',
      help: 'Triggers fired, by pipeline, trigger type and result (accepted, failed, timed_out, cancelled).',
      labelNames: ['pipeline', 'type', 'result'],
      registers,
    });
    this.runsActive = new Gauge({
      name: 'interlock_runs_active',
      help: "Runs holding the pipeline's lock (0 or 1), at scrape time.",
      labelNames: ['pipeline'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'interlock_run_duration_seconds',
      help: 'Time from run creation to its terminal state, by pipeline and final status.',
      labelNames: ['pipeline', 'status'],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.alerts = new Counter({
      name: 'interlock_alerts_total',
      help: 'Alert deliveries, by alert kind, sink and result (sent, failed, undelivered).',
      labelNames: ['kind', 'sink', 'result'],
      registers,
    });
    this.windows = new Counter({
      name: 'interlock_windows_total',
      help: 'Schedule windows entering a state (created or transitioned), by pipeline and state.',
      labelNames: ['pipeline', 'state'],
      registers,
    });
    this.pushToTrigger = new Histogram({
      name: 'interlock_push_to_trigger_seconds',
      help: "Time from a pushed trait result to the trigger of the pipeline's window it made ready.",
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.storeDuration = new Histogram({
      name: 'interlock_store_operation_duration_seconds',
      help: 'Time of each store operation, by operation.',
      labelNames: ['op'],
      buckets: STORE_BUCKETS,
      registers,
    });
    this.buildInfo = new Gauge({
      name: 'interlock_build_info',
      help: 'Always 1; the version of this Interlock.',
      labelNames: ['version'],
      registers,
    });
    this.buildInfo.set({ version: o.version }, 1);
    if (o.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters (promtool: non-counter metrics should not have "_total" suffix); each is the sum
      // of the by-type gauge beside it (nodejs_active_handles{type} …), so nothing is lost.
      for (const name of GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(name);
    }
  }

  /** Sets where the state gauges (trait state and TTL, pipeline_ready, runs_active) are read from at scrape time. */
  setStateSource(source: () => Promise<StateSnapshot>): void {
    this.state = source;
  }

  /**
   * The Prometheus text exposition. The state gauges are rebuilt from the source first, so a pipeline or trait that
   * is gone has no series left. A source that fails leaves them empty (and rejects: the scrape fails, visibly).
   */
  async render(): Promise<string> {
    if (this.state) this.applyState(await this.state());
    return this.registry.metrics();
  }

  private applyState(s: StateSnapshot): void {
    this.traitState.reset();
    this.traitTtl.reset();
    this.pipelineReady.reset();
    this.runsActive.reset();
    for (const p of s.pipelines) {
      this.pipelineReady.set({ pipeline: p.pipeline }, p.ready ? 1 : 0);
      this.runsActive.set({ pipeline: p.pipeline }, p.activeRuns);
      for (const t of p.traits) {
        for (const state of TRAIT_STATES) {
          this.traitState.set({ pipeline: p.pipeline, trait: t.trait, state }, t.state === state ? 1 : 0);
        }
        if (t.ttlLeftMs !== undefined) {
          this.traitTtl.set({ pipeline: p.pipeline, trait: t.trait }, Math.max(0, t.ttlLeftMs) / 1000);
        }
      }
    }
  }
}
