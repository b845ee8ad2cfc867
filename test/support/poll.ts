// Waiting without a fake clock (for real processes and servers only): sleep, and poll a condition until it holds.

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `check` holds (or `ms` pass); returns whether it did. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await sleep(stepMs);
  }
}

/**
 * Polls `check` every 25 ms until it returns true; throws after `timeoutMs`, with the last error `check` threw.
 * `what` names the thing waited for in that error.
 */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await sleep(25);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms${last instanceof Error ? `: ${last.message}` : ''}`);
}
