// The watcher's timer heap: for each pipeline the next instant worth waking for, and one clock timer for the
// earliest of them all (no polling of every pipeline).
import type { Clock, TimerHandle } from '../../core/clock.js';

/** Longest single timer: Node's setTimeout limit, and a bound on how far a clock jump can delay a wake-up. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A min-heap of (at, pipeline) with lazy deletion: a pipeline's entry counts only if it is still its latest. */
export class WakeQueue {
  private heap: Array<{ at: number; pipeline: string }> = [];
  private latest = new Map<string, number>();
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (pipelines: string[]) => void,
    /** A timer never waits longer than this (the sweep interval): time re-read after a clock jump. */
    private readonly maxWaitMs: number,
  ) {}

  /** The instant `pipeline` wants to be looked at next (replaces an earlier one); undefined: no wish. */
  set(pipeline: string, at: number | undefined): void {
    if (at === undefined || !Number.isFinite(at)) {
      this.latest.delete(pipeline);
      return;
    }
    if (this.latest.get(pipeline) === at) return;
    this.latest.set(pipeline, at);
    this.push({ at, pipeline });
    if (at < this.timerAt) this.arm();
  }

  /** The wish of `pipeline`, if any. */
  get(pipeline: string): number | undefined {
    return this.latest.get(pipeline);
  }

  get size(): number {
    return this.latest.size;
  }

  clear(): void {
    this.heap = [];
    this.latest.clear();
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.dropStale();
    const top = this.heap[0];
    if (!top) return;
    const now = this.clock.now();
    const wait = Math.min(Math.max(0, top.at - now), this.maxWaitMs, MAX_TIMER_MS);
    this.timerAt = now + wait;
    this.timer = this.clock.setTimeout(() => this.fire(), wait);
    (this.timer as unknown as { unref?: () => void }).unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const due: string[] = [];
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.at > now) break;
      this.pop();
      this.latest.delete(top.pipeline);
      due.push(top.pipeline);
    }
    this.arm();
    if (due.length > 0) this.onDue(due);
  }

  private dropStale(): void {
    for (;;) {
      const top = this.heap[0];
      if (!top || this.latest.get(top.pipeline) === top.at) return;
      this.pop();
    }
  }

  private push(e: { at: number; pipeline: string }): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as { at: number }).at <= e.at) break;
      h[i] = h[parent] as { at: number; pipeline: string };
      i = parent;
    }
    h[i] = e;
    // Lazy deletion leaves stale entries: compact when they dominate.
    if (h.length > 64 && h.length > 4 * this.latest.size) this.rebuild();
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      const at = (k: number) => (k === i ? last.at : (h[k] as { at: number }).at);
      if (l < h.length && (h[l] as { at: number }).at < at(m)) m = l;
      if (r < h.length && (h[r] as { at: number }).at < at(m)) m = r;
      if (m === i) break;
      h[i] = h[m] as { at: number; pipeline: string };
      i = m;
    }
    h[i] = last;
  }

  private rebuild(): void {
    const entries = [...this.latest.entries()].map(([pipeline, at]) => ({ at, pipeline }));
    this.heap = [];
    for (const e of entries.sort((a, b) => a.at - b.at)) this.heap.push(e); // a sorted array is a valid heap
  }
}
