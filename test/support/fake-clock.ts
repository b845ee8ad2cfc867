// FakeClock: a Clock whose time moves only when a test says so; advancing fires the timers that fall due, in order.
import type { Clock, TimerHandle } from '../../src/core/clock.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A settable clock with timers. `advance(ms)` walks time forward, firing every timer due on the way in time order
 * (ties in the order they were set), each at its own instant, so a timer set by a firing timer fires too when it falls
 * within the step. Nothing real elapses: a test of a 24 h schedule runs in milliseconds.
 */
export class FakeClock implements Clock {
  private timers: Pending[] = [];
  private nextId = 1;

  constructor(private t = 1_700_000_000_000) {}

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.timers.push({ id, at: this.t + delay, fn });
    return { id } as unknown as TimerHandle;
  }

  clearTimeout(timer: TimerHandle | undefined): void {
    const id = (timer as unknown as { id?: number } | undefined)?.id;
    this.timers = this.timers.filter((p) => p.id !== id);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.timers.length;
  }

  /** Jumps to `t` without firing anything (a wall-clock step). */
  set(t: number): void {
    this.t = t;
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.next(end);
      if (!due) break;
      this.timers = this.timers.filter((p) => p !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }

  /**
   * advance(ms), then lets the promise callbacks the fired timers started run (a few microtask turns), so awaiting
   * code after a sleep has moved on before the test looks.
   */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const due = this.next(end);
      if (!due) break;
      this.timers = this.timers.filter((p) => p !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    await flush();
  }

  /** When the earliest pending timer is due, if any. */
  nextTimerAt(): number | undefined {
    return this.timers.reduce<number | undefined>((m, p) => (m === undefined || p.at < m ? p.at : m), undefined);
  }

  private next(end: number): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.timers) if (p.at <= end && (!best || p.at < best.at)) best = p;
    return best;
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
