// The watcher: the controller that runs by itself. It wakes up (event bus, store change feed, its timer heap, a
// sweep), asks the pure engine what is due for a pipeline (engine/due.ts), and carries that out through the store's
// compare-and-swap under its lease. It never decides anything the engine does not say; every window ends recorded.
import { hostname } from 'node:os';
import type { PipelineWatchConfig } from '../../config/index.js';
import type { PipelineSpec, RunState, TraitResult } from '../../core/types.js';
import {
  applyWindowEvent,
  attemptKey,
  type CompileResult,
  compileSchedule,
  DEFAULT_MAX_RUN_SECONDS,
  DEFAULT_RETRY,
  type DueAction,
  decideRetry,
  type FailureCategory,
  failureCategory,
  isOverdue,
  isTerminal,
  isWindowTerminal,
  lockState,
  rerunKey,
  type Schedule,
  type ScheduleSpec,
  type WindowDecision,
  type WindowEvent,
  type WindowRecord,
  whatIsDue,
} from '../../engine/index.js';
import type { Lease, LeaseFence } from '../../store/index.js';
import { DEFAULT_POLL_SECONDS, isNativeTrigger } from '../../trigger/index.js';
import type { Context } from '../context-type.js';
import { type EvaluateOptions, type Evaluation, evaluatePipeline } from '../evaluate.js';
import { refreshRuns } from '../platform-runs.js';
import { pruneHistory } from '../retention.js';
import { type RunWindow, runPipeline } from '../run.js';
import { touchActiveRun } from '../touch.js';
import { SlaDeadlines } from './deadlines.js';
import { DependencyWakes, wakeDependents } from './dependencies.js';
import { type DriftHost, driftPass, rerunNeeds } from './drift.js';
import { DEFAULT_LEASE_MS, Leadership } from './leadership.js';
import { WakeQueue } from './wake-queue.js';
import { RunWatchdog, stalePass } from './watchdog.js';

export interface WatcherOptions {
  /** This replica's name in the lease (default host:pid:random). */
  holder?: string;
  /** Lease time: a replica that dies hands over within this (default 15 s). */
  leaseMs?: number;
  /** Random numbers in [0, 1) for backoff jitter (tests pass a fixed one). */
  random?: () => number;
  /** At most this many pipelines are worked on at once (default 8). */
  concurrency?: number;
}

/** The window environment evaluators and triggers of a window get (INTERLOCK_WINDOW*). */
export interface WindowEnv {
  key: string;
  schedule: string;
  openAt: number;
  date: string;
}

/** What a window's evaluation passes on (the evaluate use-case's options, plus the watcher's). */
type WatcherEvaluateOptions = EvaluateOptions & { only?: string[]; window?: WindowEnv };

/** A pipeline's watch config, compiled once per loaded project. */
interface Watched {
  spec: PipelineSpec;
  watch: PipelineWatchConfig;
  schedules: Schedule[];
  /** Its schedules that a reload brought (not there when the watcher started): since when. */
  since: Map<string, number>;
}

/** The leader prunes history (retention) on the first sweep and every this many after it. */
export const PRUNE_EVERY_SWEEPS = 10;

/** Most engine rounds per pipeline per wake-up (each round applies what was due and looks again). */
const MAX_ROUNDS = 12;
/** A run that provably never fired does not use up an attempt, at most this many times per window. */
const MAX_FREE_RETRIES = 5;
/** A pass that failed (store outage, corrupt record, a bug) is tried again after this, doubling per failure up to
 * the sweep interval (the longest anything waits for reconciliation). */
const ERROR_RETRY_MS = 5000;

export interface WatcherStatus {
  leading: boolean;
  epoch?: number;
  holder: string;
  watching: number;
  /** Evaluator runs started by the watcher since start (the idle benchmark counts them). */
  evaluations: number;
  triggers: number;
}

export class Watcher {
  readonly holder: string;
  private readonly random: () => number;
  private readonly leadership: Leadership;
  private readonly queue: WakeQueue;
  private readonly unsubscribe: Array<() => void> = [];
  private compiledFor: unknown;
  /** Compiled schedules by spec without its name (see compileShared), from the last compile. */
  private compiledSchedules = new Map<string, CompileResult>();
  private watched = new Map<string, Watched>();
  private fence: LeaseFence | undefined;
  private watchingSince = 0;
  private running = new Map<string, Promise<void>>();
  private dirty = new Set<string>();
  /** Pipelines to look at, in order (a Set: 10,000 pokes at a sweep must not cost 10,000² comparisons). */
  private waiting = new Set<string>();
  private readonly concurrency: number;
  private sweepTimer: ReturnType<Context['clock']['setTimeout']> | undefined;
  private pollTimer: ReturnType<Context['clock']['setTimeout']> | undefined;
  /** The native-trigger poll in progress (one at a time). */
  private polling: Promise<void> | undefined;
  private stopped = false;
  private started = false;
  private gapsSeen = new Set<string>();
  /**
   * When this watcher first saw each (pipeline, schedule) in its config: -Infinity for those there at start (the
   * lease's watchingSince decides), the reload's instant for those a reload brought.
   */
  private scheduleSeen = new Map<string, number>();
  private stats = { evaluations: 0, triggers: 0 };
  private idleWaiters: Array<() => void> = [];
  /** Triggers still running after their pass moved on (a command trigger may run for hours: it holds no slot). */
  private background = new Set<Promise<void>>();
  /** Pipelines whose last pass failed: how often in a row, the message last said, and not to try again before. */
  private failing = new Map<string, { count: number; message: string; until: number }>();
  /** Instants a pass found worth waking for that the engine does not know of (a lock holder's deadline). */
  private hints = new Map<string, number>();
  /**
   * Pipelines with live windows in the store that are no longer watched (INVALID, removed, or without schedules
   * now): their windows still end — MISSED at their deadline, their runs followed and timed out — never triggered.
   */
  private orphans = new Set<string>();
  private sweeps = 0;
  private pruning = false;
  /** Who waits for whom (builtin:pipeline): an upstream's completion wakes its dependents at once. */
  private readonly deps = new DependencyWakes();
  /** SLA deadlines, WINDOW_MISSED and RECOVERED (deadlines.ts). */
  private readonly deadlines: SlaDeadlines;
  /** Timers at every active run's deadline and expected duration (any pipeline), while leading. */
  private readonly runDog: RunWatchdog;
  /** Required-trait PASS results seen, by pipeline and trait (a backend may drop them at their expiry). */
  private readonly staleSeen = new Map<string, TraitResult>();

  constructor(
    private readonly ctx: Context,
    opts: WatcherOptions = {},
  ) {
    this.holder = opts.holder ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.random = opts.random ?? Math.random;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    const sweepMs = ctx.project.watcher.watcher.sweepMs;
    this.deadlines = new SlaDeadlines(ctx);
    this.queue = new WakeQueue(ctx.clock, (ps) => this.poke(ps), sweepMs);
    this.leadership = new Leadership({
      store: ctx.store,
      clock: ctx.clock,
      log: ctx.log,
      holder: this.holder,
      leaseMs: opts.leaseMs ?? DEFAULT_LEASE_MS,
      onChange: (fence, previous) => this.onLeadership(fence, previous),
    });
    this.runDog = new RunWatchdog(
      ctx,
      () => this.leadership.fence !== undefined && !this.stopped,
      () => this.notifyIdle(),
    );
  }

  /** Subscribes to every wake-up source, takes the lease if it is free, and starts the first sweep. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.compile();
    const bus = this.ctx.events;
    this.unsubscribe.push(
      bus.subscribe('evaluation.decided', (e) => this.poke([e.evaluation.pipeline.name])),
      bus.subscribe('run.created', (e) => this.poke([e.run.pipeline])),
      bus.subscribe('run.transitioned', (e) => this.poke([e.run.pipeline])),
      bus.subscribe('project.reloaded', (e) => {
        if (e.applied) this.reload();
      }),
      this.ctx.store.watchChanges((c) => this.poke([c.pipeline])),
      ...wakeDependents(
        this.deps,
        bus,
        this.ctx.store,
        (ps) => this.poke(ps),
        (err) => this.ctx.log.warn(`watcher: reading an upstream pipeline: ${(err as Error).message}`),
      ),
    );
    this.runDog.start();
    await this.leadership.start();
    this.armSweep();
    this.armPoll();
  }

  /** Re-reads ctx.project (after a config reload) and looks at every pipeline again. */
  reload(): void {
    this.compile();
    this.poke([...this.watched.keys()]);
    void this.adoptOrphans();
  }

  /** Finds pipelines whose live windows nobody watches any more, and looks after those windows until they end. */
  private async adoptOrphans(): Promise<void> {
    if (!this.leadership.fence || this.stopped) return;
    try {
      const heads = await this.ctx.store.windowHeads();
      const found = new Set(heads.filter((w) => !isWindowTerminal(w.state)).map((w) => w.pipeline));
      const project = this.ctx.project;
      const fresh = [...found].filter(
        (p) => !(project.watch.has(p) && project.pipelines.has(p)) && !this.orphans.has(p),
      );
      if (fresh.length === 0) return;
      for (const p of fresh) this.orphans.add(p);
      this.compiledFor = undefined;
      this.compile();
      this.ctx.log.info(
        `watcher: looking after the open windows of ${fresh.join(', ')} (no longer watched: never triggered)`,
      );
      this.poke(fresh);
    } catch (err) {
      this.ctx.log.warn(`watcher: could not look for unwatched open windows: ${(err as Error).message}`);
    }
  }

  /** Stops: no new work; waits for the pipelines being worked on; gives the lease up. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    this.ctx.clock.clearTimeout(this.sweepTimer);
    this.ctx.clock.clearTimeout(this.pollTimer);
    this.queue.clear();
    this.waiting.clear();
    this.dirty.clear();
    await Promise.allSettled([...this.running.values(), this.polling]);
    await Promise.allSettled([...this.background]);
    await this.runDog.stop();
    await this.leadership.stop();
  }

  status(): WatcherStatus {
    const f = this.leadership.fence;
    return {
      leading: f !== undefined,
      ...(f ? { epoch: f.epoch } : {}),
      holder: this.holder,
      watching: this.watched.size,
      ...this.stats,
    };
  }

  /** The next wake-up instant of a pipeline this replica holds, if any. */
  nextWakeAt(pipeline: string): number | undefined {
    return this.queue.get(pipeline);
  }

  /** Pipelines being worked on or waiting to be, and triggers still running. */
  get busy(): number {
    return this.running.size + this.waiting.size + this.background.size + this.runDog.busy;
  }

  /**
   * Resolves once nothing is being worked on, nothing is waiting and no trigger is running (tests: after advancing
   * the fake clock).
   */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    if (this.busy === 0) for (const r of this.idleWaiters.splice(0)) r();
  }

  /** Renews or takes the lease now (tests drive it with the fake clock). */
  tickLease(): Promise<void> {
    return this.leadership.tick();
  }

  /** Marks pipelines to be looked at as soon as possible. */
  poke(pipelines: Iterable<string>): void {
    if (this.stopped) return;
    for (const p of pipelines) {
      if (!this.watched.has(p)) continue;
      if (this.running.has(p)) {
        this.dirty.add(p);
        continue;
      }
      this.waiting.add(p);
    }
    this.drain();
  }

  private compile(): void {
    const project = this.ctx.project;
    if (this.compiledFor === project) return;
    const next = new Map<string, Watched>();
    const first = this.compiledFor === undefined;
    const now = this.ctx.clock.now();
    const compiled = new Map<string, CompileResult>();
    for (const [name, watch] of project.watch) {
      const spec = project.pipelines.get(name);
      // An INVALID pipeline is not watched (fail closed): its windows wait; once fixed, deadlines and catch-up apply.
      if (!spec) continue;
      const schedules: Schedule[] = [];
      for (const s of watch.schedules) {
        const r = this.compileShared(s, compiled);
        if (r.ok) schedules.push(r.schedule);
        else this.ctx.log.warn(`watcher: ${name}: schedule ${s.name} ignored: ${r.error}`);
      }
      const since = new Map<string, number>();
      for (const s of schedules) {
        const id = JSON.stringify([name, s.spec.name]);
        let seen = this.scheduleSeen.get(id);
        if (seen === undefined) this.scheduleSeen.set(id, (seen = first ? Number.NEGATIVE_INFINITY : now));
        if (Number.isFinite(seen)) since.set(s.spec.name, seen);
      }
      next.set(name, { spec, watch, schedules, since });
    }
    // Unwatched pipelines with live windows: no schedules, no traits — the engine only runs those windows out.
    for (const name of this.orphans) {
      if (next.has(name)) {
        this.orphans.delete(name);
        continue;
      }
      const spec: PipelineSpec = {
        name,
        archetype: '',
        traits: [],
        readinessRule: { type: 'all-required-pass' },
        source: 'unwatched',
      };
      const watch: PipelineWatchConfig = { schedules: [], reevaluateMs: 60_000, retry: DEFAULT_RETRY, mode: 'live' };
      next.set(name, { spec, watch, schedules: [], since: new Map() });
    }
    for (const p of this.watched.keys()) if (!next.has(p)) this.queue.set(p, undefined);
    this.watched = next;
    this.deps.refresh(project.pipelines.values());
    this.compiledSchedules = compiled;
    this.compiledFor = project;
  }

  /**
   * compileSchedule, once per distinct schedule (all but its name) across the project and across reloads: croner
   * allocates ~80 KB per parsed pattern (a 10,000-entry year table), so 10k pipelines on one cron would hold ~760 MB
   * of identical tables. The parsed Cron is shared (it is only asked for runs around a given instant, which keeps no
   * state in it); each schedule keeps its own spec and Schedule object (its window keys, its memo).
   */
  private compileShared(s: ScheduleSpec, compiled: Map<string, CompileResult>): CompileResult {
    const { name: _name, ...rest } = s;
    const key = JSON.stringify(rest);
    let r = compiled.get(key) ?? this.compiledSchedules.get(key);
    if (!r) r = compileSchedule(s);
    compiled.set(key, r);
    if (!r.ok) return r;
    return { ok: true, schedule: r.schedule.cron ? { spec: s, cron: r.schedule.cron } : { spec: s } };
  }

  private onLeadership(fence: LeaseFence | undefined, previous: Lease | undefined): void {
    this.fence = fence;
    this.runDog.setLeading(fence !== undefined, 10 * this.ctx.project.watcher.watcher.sweepMs);
    if (!fence) {
      this.queue.clear();
      return;
    }
    const now = this.ctx.clock.now();
    // A handover (or our own lease re-taken after a stall or a clock step): windows that opened while the last
    // tenure ran out count as watched (it renewed until about expiresAt - lease time); after a longer break the
    // catch-up policy decides.
    const leaseMs = this.leadership.lease ? this.leadership.lease.expiresAt - now : DEFAULT_LEASE_MS;
    const lastRenewal = previous ? previous.expiresAt - leaseMs : undefined;
    this.watchingSince =
      lastRenewal !== undefined && lastRenewal > now - 2 * leaseMs ? Math.min(now, lastRenewal) : now;
    this.poke([...this.watched.keys()]);
    void this.adoptOrphans();
  }

  private armSweep(): void {
    if (this.stopped) return;
    const ms = this.ctx.project.watcher.watcher.sweepMs;
    this.sweepTimer = this.ctx.clock.setTimeout(() => {
      void this.leadership.tick();
      this.compile();
      // Reconcile: anything a lost notification missed is looked at again.
      this.poke([...this.watched.keys()]);
      // Now and then, also windows left open by pipelines nobody watches any more (another replica's config).
      if (++this.sweeps % 10 === 0) void this.adoptOrphans();
      if (this.sweeps % PRUNE_EVERY_SWEEPS === 1) void this.pruneHistory();
      this.armSweep();
    }, ms);
    (this.sweepTimer as unknown as { unref?: () => void }).unref?.();
  }

  /** Retention, by the leader only, a few small batches at a time (the next sweeps carry on). */
  private async pruneHistory(): Promise<void> {
    if (this.stopped || !this.leadership.fence || this.pruning) return;
    this.pruning = true;
    try {
      const r = await pruneHistory(this.ctx, { maxBatches: 5 });
      if (r.decisions + r.runs + r.windows > 0) {
        this.ctx.log.info(
          `watcher: retention pruned ${r.decisions} decisions, ${r.windows} windows, ${r.runs} runs (${r.runEvents} run events)${r.more ? '; more next time' : ''}`,
        );
      }
    } catch (err) {
      this.ctx.log.warn(`watcher: retention failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.pruning = false;
    }
  }

  /** YAML pipelines with a native trigger (Airflow), and the shortest `poll` among them (ms). */
  private nativePipelines(): { names: string[]; everyMs: number } {
    const names: string[] = [];
    let everyMs = Number.POSITIVE_INFINITY;
    for (const [name, spec] of this.ctx.project.pipelines) {
      // A Lambda invocation is synchronous: its runs are never RUNNING, there is nothing to poll.
      if (!isNativeTrigger(spec.trigger) || spec.trigger.type === 'lambda') continue;
      names.push(name);
      everyMs = Math.min(everyMs, (spec.trigger.poll ?? DEFAULT_POLL_SECONDS) * 1000);
    }
    return { names, everyMs };
  }

  /**
   * Completion without callbacks: while this watcher leads, the RUNNING runs of native-trigger pipelines are polled
   * (each when its own `poll` has passed) and ended as their platform says. Re-armed at the shortest `poll` (at
   * least 1 s), or at the sweep interval while there is none (a reload may add one).
   */
  private armPoll(): void {
    if (this.stopped) return;
    const { everyMs } = this.nativePipelines();
    const ms = Number.isFinite(everyMs) ? Math.max(1000, everyMs) : this.ctx.project.watcher.watcher.sweepMs;
    this.pollTimer = this.ctx.clock.setTimeout(() => {
      if (this.leadership.fence && !this.polling) {
        const { names } = this.nativePipelines();
        this.polling = refreshRuns(this.ctx, names)
          .then((results) => {
            for (const r of results) if (r.error) this.ctx.log.warn(`watcher: run ${r.run.runId}: ${r.error}`);
          })
          .catch((err: unknown) => this.ctx.log.warn(`watcher: polling native runs: ${(err as Error).message}`))
          .finally(() => {
            this.polling = undefined;
          });
      }
      this.armPoll();
    }, ms);
    (this.pollTimer as unknown as { unref?: () => void }).unref?.();
  }

  /** Resolves once the native-trigger poll in progress (if any) has finished. */
  async pollSettled(): Promise<void> {
    await this.polling;
  }

  private drain(): void {
    while (!this.stopped && this.running.size < this.concurrency && this.waiting.size > 0) {
      const p = this.waiting.values().next().value as string;
      this.waiting.delete(p);
      if (this.running.has(p)) {
        this.dirty.add(p);
        continue;
      }
      const work = this.work(p)
        .then((done) => {
          if (done && this.failing.delete(p)) this.ctx.log.info(`watcher: ${p}: working again`);
        })
        .catch((err: unknown) => {
          // A store outage, a corrupt record or a bug: fail closed (nothing fired by this pass), say so once, and look
          // again with backoff (5 s doubling up to the sweep interval), not every 5 s forever; the events its own
          // writes raise do not bring it forward (that would spin).
          const message = (err as Error).message;
          const prev = this.failing.get(p);
          const count = (prev?.count ?? 0) + 1;
          const max = Math.max(ERROR_RETRY_MS, this.ctx.project.watcher.watcher.sweepMs);
          const delay = Math.min(ERROR_RETRY_MS * 2 ** Math.min(count - 1, 20), max);
          const until = this.ctx.clock.now() + delay;
          this.failing.set(p, { count, message, until });
          if (prev?.message === message) this.ctx.log.debug(`watcher: ${p}: ${message} (again, ${count} times)`);
          else this.ctx.log.warn(`watcher: ${p}: ${message}; trying again with backoff`);
          this.queue.set(p, until);
        })
        .finally(() => {
          this.running.delete(p);
          if (this.dirty.delete(p)) this.waiting.add(p);
          this.drain();
          this.notifyIdle();
        });
      this.running.set(p, work);
    }
  }

  /**
   * One wake-up of one pipeline: rounds of "what is due → do it" until nothing more is due now. True when the pass
   * ran (false: skipped, e.g. backing off after a failed one).
   */
  private async work(p: string): Promise<boolean> {
    this.compile();
    const w = this.watched.get(p);
    const fence = this.leadership.fence;
    if (!w || !fence || this.stopped) return false;
    const failing = this.failing.get(p);
    if (failing && this.ctx.clock.now() < failing.until) {
      // Backing off: its retry is in the queue; a sweep or an event does not bring it forward.
      this.queue.set(p, failing.until);
      return false;
    }
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (this.stopped || this.leadership.fence?.epoch !== fence.epoch) return true;
      this.hints.delete(p);
      const records = await this.ctx.store.windowHeads(p);
      if (await this.followRuns(w, records, fence)) continue;
      const results = await this.ctx.store.getTraitResults(p);
      const now = this.ctx.clock.now();
      const urgent = this.deps.take(p);
      const due = whatIsDue({
        pipeline: p,
        schedules: w.schedules,
        ...(w.watch.exclusions ? { exclusions: w.watch.exclusions } : {}),
        mode: w.watch.mode,
        records,
        watchingSince: this.watchingSince,
        ...(w.since.size > 0 ? { scheduleSince: w.since } : {}),
        traits: w.spec.traits,
        rule: w.spec.readinessRule,
        results,
        reevaluateMs: w.watch.reevaluateMs,
        now,
        ...(urgent ? { urgent } : {}),
      });
      const sla = await this.deadlines.check(w, records, results, now);
      if (sla.sending) this.track(sla.sending);
      this.hint(p, sla.nextAt);
      const extra = await this.watchdogPass(w, records, results, fence);
      if (extra === 'fenced') return true;
      if (extra === 'progress') continue;
      this.setWake(p, due.nextWake?.at);
      if (due.actions.length === 0) return true;
      const byKey = new Map(records.map((r) => [r.key, r]));
      let progressed = false;
      for (const action of due.actions) {
        const r = await this.act(w, action, byKey, fence);
        if (r === 'fenced') return true;
        if (r === 'progress') progressed = true;
        if (r === 'reload') {
          progressed = true;
          break;
        }
      }
      this.setWake(p, due.nextWake?.at);
      if (!progressed) return true;
    }
    // Still busy after MAX_ROUNDS: carry on shortly rather than starve the others (and never spin on an action
    // that reports progress without changing anything).
    this.queue.set(p, this.ctx.clock.now() + 250);
    return true;
  }

  /**
   * The watchdog's part of a pass: TRAIT_STALE at a required trait's TTL instant while a window is open, and the
   * drift monitor of COMPLETED windows (monitor); their next instants become hints.
   */
  private async watchdogPass(
    w: Watched,
    records: readonly WindowRecord[],
    results: readonly TraitResult[],
    fence: LeaseFence,
  ): Promise<'progress' | 'none' | 'fenced'> {
    const p = w.spec.name;
    this.hint(p, await stalePass(this.ctx, w.spec, w.watch, records, results, this.staleSeen));
    if (!w.watch.monitor) return 'none';
    const host: DriftHost = {
      ctx: this.ctx,
      move: (rec, event, f) => this.move(rec, event, f),
      evaluate: (rec, only) => this.evaluate(w, rec, only),
      fireRerun: (rec, rerun) => this.fire(w, rec, { kind: 'trigger', key: rec.key, rerun }, fence),
    };
    const r = await driftPass(host, w.spec, w.watch, records, results, fence);
    this.hint(p, r.nextAt);
    return r.fenced ? 'fenced' : r.progress ? 'progress' : 'none';
  }

  /** The pipeline's next wake-up: the engine's, or an earlier instant this pass found (`hint`). */
  private setWake(p: string, at: number | undefined): void {
    const hint = this.hints.get(p);
    this.queue.set(p, hint !== undefined && (at === undefined || hint < at) ? hint : at);
  }

  /** Counts `task` (alerts being sent) as background work until it ends (idle() and stop() wait for it). */
  private track(task: Promise<void>): void {
    const t: Promise<void> = task.finally(() => {
      this.background.delete(t);
      this.notifyIdle();
    });
    this.background.add(t);
  }

  /** Wakes `p` at `at` at the latest (a lock holder's deadline, a run's own deadline). */
  private hint(p: string, at: number | undefined): void {
    if (at === undefined || !Number.isFinite(at)) return;
    const now = this.ctx.clock.now();
    const cur = this.hints.get(p);
    const t = Math.max(at, now + 50);
    if (cur === undefined || t < cur) this.hints.set(p, t);
  }

  /** Writes one window event through compare-and-swap under the fence. */
  private async move(
    current: WindowRecord,
    event: WindowEvent,
    fence: LeaseFence,
  ): Promise<WindowRecord | 'fenced' | 'lost' | 'noop'> {
    const r = applyWindowEvent(current, event, this.ctx.clock.now());
    if (r.kind === 'noop') return 'noop';
    if (r.kind === 'conflict') {
      this.ctx.log.debug(`watcher: ${current.key}: ${event.type}: ${r.reason}`);
      return 'noop';
    }
    const w = await this.ctx.store.casWindow(r.window, current.version, fence);
    if (w.ok) {
      // A re-decision that leaves the state as it was is routine: logged at debug only.
      const level = r.from === r.to ? 'debug' : 'info';
      this.ctx.log[level](`watcher: ${current.key}: ${r.from} → ${r.to}`, { window: current.key, to: r.to });
      await this.ctx.events.publish('window.transitioned', { from: r.from, window: r.window });
      return r.window;
    }
    return w.fenced ? 'fenced' : 'lost';
  }

  /**
   * Triggered windows follow their attempt's run: RUNNING, COMPLETED, or failed (→ retry per policy, or FAILED).
   * True when a window moved (look again).
   */
  private async followRuns(w: Watched, records: readonly WindowRecord[], fence: LeaseFence): Promise<boolean> {
    let moved = false;
    for (const rec of records) {
      if (rec.state !== 'TRIGGERING' && rec.state !== 'RUNNING') continue;
      const cur = rec.attempts[rec.attempts.length - 1];
      if (!cur) continue;
      const run = await this.ctx.store.getRun(cur.runId);
      let event: WindowEvent | undefined;
      if (run && !isTerminal(run.status)) {
        // A run left PENDING after its claim (a crash or a store error before TRIGGERING) has a deadline of minutes,
        // not maxRunSeconds: time it out at that deadline (its window then retries it), never wait a day.
        if (isOverdue(run, this.ctx.clock.now())) {
          await touchActiveRun(this.ctx, w.spec.name);
          // Look again only if the touch moved it (a run that is not the lock's holder is not touched: no spin).
          if ((await this.ctx.store.getRun(run.runId))?.version !== run.version) moved = true;
          continue;
        }
        this.hint(w.spec.name, run.deadlineAt);
      }
      if (!run) {
        // The attempt's run is gone from the store: its outcome cannot be known; never fire again on a guess.
        event = this.failed(w, rec, cur.attempt, 'UNKNOWN', 'its run is missing from the store');
      } else if (run.status === 'RUNNING' && rec.state === 'TRIGGERING') {
        event = { type: 'trigger-accepted', attempt: cur.attempt };
      } else if (run.status === 'COMPLETED') {
        event = { type: 'attempt-succeeded', attempt: cur.attempt };
      } else if (isTerminal(run.status)) {
        const { category, free, error } = runFailure(run);
        event = this.failed(w, rec, cur.attempt, category, error, free);
      }
      if (!event) continue;
      const r = await this.move(rec, event, fence);
      if (r === 'fenced') return false;
      if (r !== 'noop') moved = true;
    }
    return moved;
  }

  private failed(
    w: Watched,
    rec: WindowRecord,
    attempt: number,
    category: FailureCategory,
    error?: string,
    free = false,
  ): WindowEvent {
    const now = this.ctx.clock.now();
    const freeUsed = rec.attempts.filter((a) => a.error?.startsWith(NEVER_FIRED)).length;
    // A run that never reached its trigger (abandoned by a stopped watcher) does not use up an attempt.
    const policy =
      free && freeUsed < MAX_FREE_RETRIES
        ? {
            ...w.watch.retry,
            maxAttempts: Math.max(w.watch.retry.maxAttempts, attempt + 1),
            on: ['TRANSIENT' as const],
          }
        : w.watch.retry;
    return {
      type: 'attempt-failed',
      attempt,
      category,
      ...(error !== undefined ? { error } : {}),
      retry: decideRetry(policy, attempt, category, now, this.random()),
    };
  }

  private async act(
    w: Watched,
    action: DueAction,
    byKey: Map<string, WindowRecord>,
    fence: LeaseFence,
  ): Promise<'progress' | 'none' | 'fenced' | 'reload'> {
    const ctx = this.ctx;
    const p = w.spec.name;
    switch (action.kind) {
      case 'create': {
        const r = await ctx.store.createWindow(action.record, fence);
        if (r.ok) {
          ctx.log.info(`watcher: ${action.key}: recorded ${action.record.state}`, { window: action.key });
          byKey.set(action.key, action.record);
          await ctx.events.publish('window.transitioned', { window: action.record });
          return 'progress';
        }
        if (r.fenced) return 'fenced';
        return 'reload'; // recorded already (another replica, a restart): work from the stored one
      }
      case 'gap': {
        const id = `${p}:${action.gap.schedule}:${action.gap.toOpenAt}`;
        if (!this.gapsSeen.has(id)) {
          this.gapsSeen.add(id);
          ctx.log.warn(`watcher: ${p}: ${action.gap.reason}`);
        }
        return 'none';
      }
      case 'open':
      case 'miss':
      case 'retry': {
        const cur = byKey.get(action.key);
        if (!cur) return 'reload';
        const r = await this.move(cur, action.event, fence);
        if (r === 'fenced') return 'fenced';
        if (r === 'lost') return 'reload';
        if (r === 'noop') return 'none';
        byKey.set(action.key, r);
        return 'progress';
      }
      case 'evaluate': {
        const cur = byKey.get(action.key);
        if (!cur) return 'reload';
        const ev = await this.evaluate(w, cur, action.traits);
        this.stats.evaluations++;
        const r = await this.move(cur, this.decidedEvent(w, ev), fence);
        if (r === 'fenced') return 'fenced';
        // The new results are in the store either way: look again.
        return 'reload';
      }
      case 'shadow':
      case 'trigger': {
        const cur = byKey.get(action.key);
        if (!cur) return 'reload';
        return this.fire(w, cur, action, fence);
      }
      case 'run-overdue': {
        // Times the run out (stopping its command first); its window then follows it (followRuns).
        const touch = await touchActiveRun(ctx, p);
        const run = touch.active;
        if (run?.runId === action.runId && !isTerminal(run.status) && ctx.clock.now() < run.deadlineAt) {
          // Not over by its own deadline yet: a run whose watcher died after claiming the window but before the
          // run reached TRIGGERING is still PENDING, with the longer pending deadline. Look again at that deadline
          // and carry on with the other windows (rather than re-reading at once, forever, until it passes).
          this.hint(p, run.deadlineAt);
          return 'none';
        }
        return 'reload';
      }
    }
  }

  /** Look again when the run holding `p`'s lock is due to end (its deadline) or its hold on the lock runs out. */
  private waitFor(p: string, holder: RunState): void {
    const now = this.ctx.clock.now();
    const state = lockState(holder, now);
    if (state === 'active') this.hint(p, holder.deadlineAt);
    else if (state === 'held') this.hint(p, holder.lockHeldUntil);
    else this.hint(p, now + ERROR_RETRY_MS);
  }

  private windowEnv(rec: WindowRecord): WindowEnv {
    return { key: rec.key, schedule: rec.schedule, openAt: rec.openAt, date: rec.date };
  }

  /** Evaluates `only` these traits (the rest: their stored results) for a window, recorded as a watcher decision. */
  private evaluate(w: Watched, rec: WindowRecord, only: string[]): Promise<Evaluation> {
    const opts: WatcherEvaluateOptions = { source: 'watcher', only, window: this.windowEnv(rec) };
    return evaluatePipeline(this.ctx, w.spec, opts);
  }

  private decidedEvent(w: Watched, ev: Evaluation): WindowEvent {
    return {
      type: 'decided',
      decision: decisionOf(ev),
      reevaluateMs: w.watch.reevaluateMs,
      random: this.random(),
    };
  }

  /**
   * READY from unexpired results: re-decide from the store (no evaluator runs), then — live — create the attempt's
   * run under its run key (the store creates at most one, ever), claim the window for it under the lease, and fire;
   * or — shadow — record "would trigger" here.
   */
  private async fire(
    w: Watched,
    rec: WindowRecord,
    action: (DueAction & { kind: 'trigger' | 'shadow' }) | { kind: 'trigger'; key: string; rerun: number },
    fence: LeaseFence,
  ): Promise<'progress' | 'none' | 'fenced' | 'reload'> {
    const ctx = this.ctx;
    const p = w.spec.name;
    const attempt = rec.attempts.length + 1;
    // A rerun after drift (monitor onDrift: rerun) goes through the same order under its own run key.
    const rerun = 'rerun' in action ? action.rerun : undefined;
    const runKey = rerun !== undefined ? rerunKey(rec.key, rerun) : attemptKey(rec.key, attempt);
    const claimEvent = (runId: string, runDeadlineAt: number, decision: WindowDecision): WindowEvent =>
      rerun !== undefined
        ? { type: 'rerun-claim', rerun, maxReruns: w.watch.monitor?.maxReruns ?? 0, runId, decision, runDeadlineAt }
        : { type: 'claim', attempt, runId, decision, runDeadlineAt };
    if (action.kind === 'trigger') {
      // Another run holds the lock (a manual run, or an ended run whose command may still run): settle it if it is
      // over (timed out at its deadline, a stale lock released), else wait for it (its end or its deadline wakes
      // us) rather than burn an attempt or spin. This attempt's own run (a restart, another replica) is adopted.
      const active = await ctx.store.getActiveRun(p);
      if (active && active.runKey !== runKey) {
        const touch = await touchActiveRun(ctx, p);
        const holder = touch.stopped ?? touch.active;
        if (holder && holder.runKey !== runKey) {
          this.waitFor(p, holder);
          return 'none';
        }
      }
    }
    const only = rerun !== undefined ? rerunNeeds(w.spec, await ctx.store.getTraitResults(p), ctx.clock.now()) : [];
    const ev = await this.evaluate(w, rec, only);
    if (ev.readiness.outcome !== 'READY') {
      const monitor = w.watch.monitor;
      const refused: WindowEvent | undefined =
        rerun === undefined
          ? this.decidedEvent(w, ev)
          : monitor && {
              type: 'drift-checked',
              decision: decisionOf(ev),
              onDrift: monitor.onDrift,
              maxReruns: monitor.maxReruns,
              rerunRefused: true,
            };
      const r = refused ? await this.move(rec, refused, fence) : 'noop';
      return r === 'fenced' ? 'fenced' : 'reload';
    }
    const decision = decisionOf(ev);
    if (action.kind === 'shadow') {
      const r = await this.move(rec, { type: 'shadow', decision }, fence);
      return r === 'fenced' ? 'fenced' : 'reload';
    }
    const window: RunWindow = { ...this.windowEnv(rec), attempt, runKey };
    const maxRunMs = (w.spec.trigger?.maxRunSeconds ?? DEFAULT_MAX_RUN_SECONDS) * 1000;
    const claimed: { r: WindowRecord | 'fenced' | 'lost' | 'noop' } = { r: 'lost' };
    const claim = async (run: RunState): Promise<boolean> => {
      claimed.r = await this.move(rec, claimEvent(run.runId, ctx.clock.now() + maxRunMs, decision), fence);
      return typeof claimed.r === 'object';
    };
    // Once the run is TRIGGERING (the window claimed) the pass moves on: the trigger (a command may run for hours)
    // finishes in the background without holding one of the `concurrency` slots; its end wakes the pipeline.
    let reached: () => void = () => undefined;
    const triggering = new Promise<'triggering'>((resolve) => {
      reached = () => resolve('triggering');
    });
    const running = runPipeline(ctx, p, {
      source: 'watcher',
      window,
      decided: ev,
      beforeTrigger: claim,
      onTriggering: () => reached(),
    });
    const count = (r: Awaited<typeof running>) => {
      if (r.kind === 'triggered' || r.kind === 'trigger-failed' || r.kind === 'superseded-after-trigger') {
        this.stats.triggers++;
      }
    };
    const done = running.then((r) => ({ r }));
    done.catch(() => undefined); // handled below, or by the background task
    const first = await Promise.race([done, triggering]);
    if (first === 'triggering') {
      const task: Promise<void> = running
        .then(count)
        .catch((err: unknown) => ctx.log.warn(`watcher: ${rec.key}: attempt ${attempt}: ${(err as Error).message}`))
        .finally(() => {
          this.background.delete(task);
          this.poke([p]);
          this.notifyIdle();
        });
      this.background.add(task);
      return claimed.r === 'fenced' ? 'fenced' : 'reload';
    }
    const result = first.r;
    count(result);
    if (result.kind === 'already-running' && !result.claimed) {
      // Took the lock between our look and the create (or was just stopped): wait for it, do not spin.
      this.waitFor(p, result.active);
      return 'none';
    }
    if (result.kind === 'already-running' && result.claimed) {
      // This attempt's run exists already (a restart, another replica): adopt it — never create or fire another.
      const r = await this.move(rec, claimEvent(result.active.runId, result.active.deadlineAt, decision), fence);
      // Refused (past the deadline, a record that does not allow it): nothing changed; do not try again at once.
      if (r === 'fenced') return 'fenced';
      return typeof r === 'object' ? 'reload' : 'none';
    }
    if (claimed.r === 'fenced') return 'fenced';
    return 'reload';
  }
}

/** Marks the error of an attempt whose run never reached its trigger. */
const NEVER_FIRED = 'never fired:';

/** How a run that ended other than COMPLETED failed, for the retry decision. */
function runFailure(run: RunState): { category: FailureCategory; free: boolean; error: string } {
  const why = run.reason ?? run.status;
  if (run.status === 'CANCELLED') return { category: 'PERMANENT', free: false, error: `cancelled: ${why}` };
  if (run.trigger?.ok === true && run.status === 'FAILED') {
    // The trigger was accepted and the job itself reported failure (a completion callback): known, not UNKNOWN.
    return { category: 'PERMANENT', free: false, error: `the job failed: ${why}` };
  }
  if (run.trigger) {
    const o = run.trigger as typeof run.trigger & { category?: FailureCategory; requestSent?: boolean };
    const category = o.category ?? failureCategory(o) ?? 'UNKNOWN';
    return { category, free: false, error: o.error ?? why };
  }
  // Reached TRIGGERING without a recorded outcome (a crash while firing, a timeout): it may have fired.
  if (run.triggerType !== undefined) return { category: 'UNKNOWN', free: false, error: why };
  return { category: 'TRANSIENT', free: true, error: `${NEVER_FIRED} ${why}` };
}

function decisionOf(ev: Evaluation): WindowDecision {
  const r = ev.readiness;
  return {
    outcome: r.outcome,
    blocking: r.blocking,
    decisionId: ev.decision.id,
    decidedAt: r.decidedAt,
    ...(r.note !== undefined ? { note: r.note } : {}),
  };
}

/** Whether a window record is still live (for callers outside the watcher). */
export function isLiveWindow(w: WindowRecord): boolean {
  return !isWindowTerminal(w.state);
}
