// Clock: the one way time enters Interlock (the time of day and timers), so tests can drive a fake one.

/** A pending timer of a Clock; only its own clock can clear it. */
export interface TimerHandle {
  readonly __timer: unique symbol;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once, `ms` from now (a negative or NaN delay is 0). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer of this clock; a fired or cleared one is ignored. */
  clearTimeout(timer: TimerHandle | undefined): void;
}

/** The host's clock and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (t) => clearTimeout(t as unknown as NodeJS.Timeout | undefined),
};

/** `base`'s timers with its time shifted by `offsetMs()` (a store whose clock is another host's). */
export function offsetClock(base: Clock, offsetMs: () => number): Clock {
  return {
    now: () => base.now() + offsetMs(),
    setTimeout: (fn, ms) => base.setTimeout(fn, ms),
    clearTimeout: (t) => base.clearTimeout(t),
  };
}

/** Resolves after `ms` on `clock`; rejects with the signal's reason once `signal` is aborted (at once if it is). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * An instant as ISO 8601 (UTC, ms), or undefined when it is not a representable time. Converts the instant it is
 * given; never reads a clock (the engine may use it).
 */
export function isoTime(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  return new Date(ms).toISOString();
}
