import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { withTimeout } from './timeout.js';

describe('withTimeout', () => {
  it('settles as the work does when it is first, and clears its timer', async () => {
    const clock = new FakeClock(0);
    await expect(withTimeout(Promise.resolve('ok'), 1000, clock, () => 'late')).resolves.toBe('ok');
    await expect(withTimeout(Promise.reject(new Error('boom')), 1000, clock, () => 'late')).rejects.toThrow('boom');
    expect(clock.pending).toBe(0);
  });

  it('when the time passes first, settles as onTimeout does: its value resolves, its throw rejects', async () => {
    const clock = new FakeClock(0);
    const never = new Promise<string>(() => {});
    const value = withTimeout(never, 2000, clock, () => false as const);
    const thrown = withTimeout(never, 2000, clock, () => {
      throw new Error('no answer within 2000 ms');
    });
    let settled = false;
    void value.then(() => {
      settled = true;
    });
    await clock.advanceAsync(1999);
    expect(settled).toBe(false);
    await clock.advanceAsync(1);
    await expect(value).resolves.toBe(false);
    await expect(thrown).rejects.toThrow('no answer within 2000 ms');
    expect(clock.pending).toBe(0);
  });

  it('work that settles after the deadline does not change the outcome', async () => {
    const clock = new FakeClock(0);
    let finish: (v: string) => void = () => {};
    const slow = new Promise<string>((r) => {
      finish = r;
    });
    const raced = withTimeout(slow, 10, clock, () => 'timed out');
    await clock.advanceAsync(10);
    finish('too late');
    await expect(raced).resolves.toBe('timed out');
  });
});
