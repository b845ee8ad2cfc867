import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { SHUTDOWN_REASON, Tasks } from './tasks.js';

describe('Tasks', () => {
  it('drain aborts the shared signal with the shutdown reason and waits for the work to record its outcome', async () => {
    const tasks = new Tasks();
    const order: string[] = [];
    const work = tasks.track(
      (signal) =>
        new Promise<string>((resolve) => {
          signal.addEventListener('abort', () => {
            // The work still gets to write its final state after the abort.
            setTimeout(() => {
              order.push(`recorded: ${(signal.reason as Error).message}`);
              resolve('done');
            }, 30);
          });
        }),
    );
    expect(tasks.size).toBe(1);
    expect(await tasks.drain(1000)).toBe(true);
    order.push('drained');
    expect(order).toEqual([`recorded: ${SHUTDOWN_REASON}`, 'drained']);
    expect(await work).toBe('done');
    expect(tasks.size).toBe(0);
  });

  it('refuses new work once stopping (SHUTTING_DOWN), and a drain is bounded', async () => {
    const tasks = new Tasks();
    void tasks.track(() => new Promise(() => {})); // never settles
    const t0 = Date.now();
    expect(await tasks.drain(100)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(tasks.track(async () => 1)).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });

  it('a rejected task does not break the drain', async () => {
    const tasks = new Tasks();
    await expect(tasks.track(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await tasks.drain(100)).toBe(true);
  });

  it("the drain's bound runs on the injected clock: a 60 s budget ends when that clock passes it, not before", async () => {
    const clock = new FakeClock();
    const tasks = new Tasks(clock);
    void tasks.track(() => new Promise(() => {})); // never settles
    let result: boolean | undefined;
    const draining = tasks.drain(60_000).then((r) => {
      result = r;
    });
    await clock.advanceAsync(59_999);
    expect(result).toBeUndefined();
    await clock.advanceAsync(1);
    await draining;
    expect(result).toBe(false);
    expect(clock.pending).toBe(0);
  });
});
