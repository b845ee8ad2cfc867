// The watchdog, run by the watcher while it leads: a timer at every active run's deadline (TIMED_OUT by timer, for
// every pipeline — scheduled or not, whichever process started the run: it learns of runs from the bus and the store
// change feed) and at its expected duration (RUN_STUCK, once per run across replicas); and TRAIT_STALE at the TTL
// instant of a required trait of a pipeline with an open window (once per trait and expired result).

import { makeAlert } from '../../alert/index.js';
import type { PipelineWatchConfig } from '../../config/index.js';
import type { PipelineSpec, RunState, TraitResult } from '../../core/types.js';
import {
  isWindowTerminal,
  parseWindowKey,
  staleAlert,
  staleInstants,
  stuckAlert,
  type WindowRecord,
  watchRun,
} from '../../engine/index.js';
import { withAlerts } from '../alerting.js';
import type { Context } from '../context-type.js';
import { touchActiveRun } from '../touch.js';

/** A claim that never repeats (once per run, once per expired result). */
const ONCE = Number.MAX_SAFE_INTEGER;
/** A run found still active at its deadline (the store's clock disagrees, a lost race) is looked at again after. */
const RECHECK_MS = 500;

/** The expected duration of a run: its window's schedule's sla, else the pipeline's. */
export function expectedDurationOf(run: RunState, watch: PipelineWatchConfig | undefined): number | undefined {
  if (!watch) return undefined;
  const schedule = run.window ? parseWindowKey(run.window.key)?.schedule : undefined;
  const s = schedule !== undefined ? watch.schedules.find((x) => x.name === schedule) : undefined;
  return s?.sla?.expectedDurationMs ?? watch.sla?.expectedDurationMs;
}

function timezoneOf(run: RunState, watch: PipelineWatchConfig | undefined): string {
  const schedule = run.window ? parseWindowKey(run.window.key)?.schedule : undefined;
  const s = watch?.schedules.find((x) => x.name === schedule) ?? watch?.schedules[0];
  return s?.timezone ?? 'UTC';
}

/** Raises one alert draft through the bus (its subscribers send it) within an alert scope. */
async function raise(ctx: Context, draft: Parameters<typeof makeAlert>[1] & { kind: Parameters<typeof makeAlert>[0] }) {
  const now = ctx.clock.now();
  await withAlerts(ctx, () => ctx.events.publish('alert.raised', { alert: makeAlert(draft.kind, draft, now) }));
}

/** The run half: one timer per pipeline with an active run, at its next due instant. */
export class RunWatchdog {
  private timers = new Map<string, { at: number; timer: ReturnType<Context['clock']['setTimeout']> }>();
  private checking = new Map<string, Promise<void>>();
  private again = new Set<string>();
  private scanTimer: ReturnType<Context['clock']['setTimeout']> | undefined;
  private active = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly ctx: Context,
    /** The watcher still leads (the watchdog acts only then). */
    private readonly leading: () => boolean,
    /** Called when a look ends (the watcher's idle() counts looks in progress). */
    private readonly onSettled: () => void = () => undefined,
  ) {}

  /** Subscribes to the run events and the change feed (runs started by any process). */
  start(): void {
    const bus = this.ctx.events;
    this.unsubscribe.push(
      bus.subscribe('run.created', (e) => this.check(e.run.pipeline)),
      bus.subscribe('run.transitioned', (e) => this.check(e.run.pipeline)),
      this.ctx.store.watchChanges((c) => {
        if (c.kind === 'run') this.check(c.pipeline);
      }),
    );
  }

  /** The watcher took (or lost) the lease: scan every known pipeline's lock now, and again every `everyMs`. */
  setLeading(leading: boolean, everyMs: number): void {
    this.active = leading;
    if (!leading) {
      for (const t of this.timers.values()) this.ctx.clock.clearTimeout(t.timer);
      this.timers.clear();
      this.ctx.clock.clearTimeout(this.scanTimer);
      return;
    }
    void this.scan(everyMs);
  }

  async stop(): Promise<void> {
    this.active = false;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const t of this.timers.values()) this.ctx.clock.clearTimeout(t.timer);
    this.timers.clear();
    this.ctx.clock.clearTimeout(this.scanTimer);
    await Promise.allSettled([...this.checking.values()]);
  }

  /** The instant this watchdog will next look at `pipeline`'s active run (tests). */
  nextAt(pipeline: string): number | undefined {
    return this.timers.get(pipeline)?.at;
  }

  /** Every YAML and registered pipeline's lock, looked at once (a lost notification is found here). */
  private async scan(everyMs: number): Promise<void> {
    if (!this.active) return;
    try {
      const names = new Set(this.ctx.project.pipelines.keys());
      for (const p of await this.ctx.store.listPipelines()) names.add(p.name);
      for (const p of names) this.check(p);
    } catch (err) {
      this.ctx.log.warn(`watchdog: could not list pipelines: ${(err as Error).message}`);
    }
    this.ctx.clock.clearTimeout(this.scanTimer);
    this.scanTimer = this.ctx.clock.setTimeout(() => void this.scan(everyMs), everyMs);
    (this.scanTimer as unknown as { unref?: () => void }).unref?.();
  }

  /** Looks at `pipeline`'s active run now (one look at a time per pipeline; a look asked meanwhile follows). */
  check(pipeline: string): void {
    if (!this.active || !this.leading()) return;
    if (this.checking.has(pipeline)) {
      this.again.add(pipeline);
      return;
    }
    const task = this.look(pipeline)
      .catch((err: unknown) => {
        this.ctx.log.warn(`watchdog: ${pipeline}: ${(err as Error).message}`);
        this.arm(pipeline, this.ctx.clock.now() + 5000);
      })
      .finally(() => {
        this.checking.delete(pipeline);
        if (this.again.delete(pipeline)) this.check(pipeline);
        this.onSettled();
      });
    this.checking.set(pipeline, task);
  }

  /** Busy looking (tests wait for it). */
  get busy(): number {
    return this.checking.size;
  }

  private arm(pipeline: string, at: number | undefined): void {
    const cur = this.timers.get(pipeline);
    if (cur && cur.at === at) return;
    if (cur) this.ctx.clock.clearTimeout(cur.timer);
    this.timers.delete(pipeline);
    if (at === undefined || !this.active) return;
    const timer = this.ctx.clock.setTimeout(
      () => {
        this.timers.delete(pipeline);
        this.check(pipeline);
      },
      Math.max(0, at - this.ctx.clock.now()),
    );
    (timer as unknown as { unref?: () => void }).unref?.();
    this.timers.set(pipeline, { at, timer });
  }

  private async look(pipeline: string): Promise<void> {
    const ctx = this.ctx;
    let run = await ctx.store.getActiveRun(pipeline);
    if (!run) return this.arm(pipeline, undefined);
    const watch = ctx.project.watch.get(pipeline);
    const expected = expectedDurationOf(run, watch);
    let view = watchRun(run, expected, ctx.clock.now());
    if (view.overdue) {
      // TIMED_OUT now, by timer (stopping its command first); the move raises RUN_TIMED_OUT and frees the lock.
      await touchActiveRun(ctx, pipeline);
      run = await ctx.store.getActiveRun(pipeline);
      if (!run) return this.arm(pipeline, undefined);
      view = watchRun(run, expectedDurationOf(run, watch), ctx.clock.now());
      // Still there and overdue: refused on the store's clock or by a race; look again shortly, never spin.
      if (view.overdue) return this.arm(pipeline, ctx.clock.now() + RECHECK_MS);
    }
    if (view.stuck && expected !== undefined) {
      const now = ctx.clock.now();
      const claim = await ctx.store.claimAlert(
        { pipeline, kind: 'run', runId: run.runId, alert: 'RUN_STUCK' },
        'stuck',
        now,
        ONCE,
      );
      if (claim.fire) await raise(ctx, stuckAlert(run, expected, now, timezoneOf(run, watch)));
    }
    this.arm(pipeline, view.nextAt);
  }
}

/**
 * The STALE half, one pass of a watched pipeline (called from the watcher's pass, under its lease): a required
 * trait's PASS that expired while a window is open (not yet triggered) raises TRAIT_STALE once per (trait, expired
 * result); returns the next TTL instant to wake at. `seen` remembers results a backend drops at their expiry (Redis).
 */
export async function stalePass(
  ctx: Context,
  spec: PipelineSpec,
  watch: PipelineWatchConfig,
  records: readonly WindowRecord[],
  stored: readonly TraitResult[],
  seen: Map<string, TraitResult>,
): Promise<number | undefined> {
  const p = spec.name;
  const results: TraitResult[] = [];
  for (const t of spec.traits) {
    const id = `${p}\u0000${t.type}`;
    const r = stored.find((x) => x.trait === t.type);
    if (r) {
      if (r.expiresAt !== undefined && r.status === 'PASS') seen.set(id, r);
      else seen.delete(id);
      results.push(r);
    } else {
      const old = seen.get(id);
      if (old) results.push(old);
    }
  }
  const open = records
    .filter((w) => !isWindowTerminal(w.state) && w.state !== 'TRIGGERING' && w.state !== 'RUNNING')
    .sort((a, b) => a.openAt - b.openAt);
  const window = open[0];
  if (!window) return undefined;
  const now = ctx.clock.now();
  const { due, next } = staleInstants(spec.traits, results, now);
  const tz = watch.schedules.find((s) => s.name === window.schedule)?.timezone ?? 'UTC';
  for (const s of due) {
    // Expired before the window opened: not "went stale while open" (the window's own evaluation covers it).
    if (s.at < window.openAt) continue;
    const claim = await ctx.store.claimAlert(
      { pipeline: p, kind: 'window', window: window.key, alert: `TRAIT_STALE:${s.trait}` },
      String(s.evaluatedAt),
      now,
      ONCE,
    );
    if (claim.fire) await raise(ctx, staleAlert(p, window.key, s, tz));
    seen.delete(`${p}\u0000${s.trait}`);
  }
  return next;
}
