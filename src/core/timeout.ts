// withTimeout: the one race of a promise against a deadline on a Clock (health checks, drains, connection waits).
import type { Clock, TimerHandle } from './clock.js';

/**
 * Settles as `work` does, or, when `ms` passes first, as `onTimeout()` does (its value resolves, its throw rejects).
 * The timer is cleared either way, so a settled race holds no handle. `work` itself is not stopped: pass it a signal
 * when it can be.
 */
export function withTimeout<T, U = T>(
  work: Promise<T>,
  ms: number,
  clock: Clock,
  onTimeout: () => U | Promise<U>,
): Promise<T | U> {
  let timer: TimerHandle | undefined;
  const timedOut = new Promise<U>((resolve, reject) => {
    timer = clock.setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err);
      }
    }, ms);
  });
  return Promise.race([work, timedOut]).finally(() => clock.clearTimeout(timer));
}
