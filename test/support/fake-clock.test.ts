import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/clock.js';
import { FakeClock } from './fake-clock.js';

const HOUR = 3_600_000;

describe('FakeClock', () => {
  it('advancing 24 h fires a 1 h interval 24 times, each at its own instant, without real time passing', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    const every = () => {
      fired.push(clock.now());
      clock.setTimeout(every, HOUR);
    };
    clock.setTimeout(every, HOUR);
    const t0 = performance.now();
    clock.advance(24 * HOUR);
    expect(performance.now() - t0).toBeLessThan(100);
    expect(fired).toEqual(Array.from({ length: 24 }, (_, i) => (i + 1) * HOUR));
    expect(clock.now()).toBe(24 * HOUR);
    expect(clock.pending).toBe(1); // the 25th, due at 25 h
  });

  it('fires due timers in time order (ties in the order set) and none early', () => {
    const clock = new FakeClock(1000);
    const order: string[] = [];
    clock.setTimeout(() => order.push('c@30'), 30);
    clock.setTimeout(() => order.push('a@10'), 10);
    clock.setTimeout(() => order.push('b@10'), 10);
    clock.setTimeout(() => order.push('zero'), -5);
    clock.advance(9);
    expect(order).toEqual(['zero']);
    clock.advance(21);
    expect(order).toEqual(['zero', 'a@10', 'b@10', 'c@30']);
  });

  it('clearTimeout cancels a pending timer; clearing a fired or unknown one is harmless', () => {
    const clock = new FakeClock(0);
    let fired = 0;
    const t = clock.setTimeout(() => fired++, 50);
    const kept = clock.setTimeout(() => fired++, 60);
    clock.clearTimeout(t);
    clock.clearTimeout(undefined);
    clock.advance(100);
    expect(fired).toBe(1);
    clock.clearTimeout(kept);
    expect(clock.pending).toBe(0);
  });

  it('sleep resolves when the clock reaches it, and rejects with the reason for an aborted signal', async () => {
    const clock = new FakeClock(0);
    let woke = false;
    const nap = sleep(clock, 5000).then(() => {
      woke = true;
    });
    await clock.advanceAsync(4999);
    expect(woke).toBe(false);
    await clock.advanceAsync(1);
    await nap;
    expect(woke).toBe(true);

    const already = new AbortController();
    already.abort(new Error('stopped before'));
    await expect(sleep(clock, 1000, already.signal)).rejects.toThrow('stopped before');
    expect(clock.pending).toBe(0);

    const later = new AbortController();
    const cut = sleep(clock, 1000, later.signal);
    later.abort(new Error('stopped during'));
    await expect(cut).rejects.toThrow('stopped during');
    expect(clock.pending).toBe(0); // its timer is gone
  });
});
