// Test-only hook: INTERLOCK_TEST_PAUSE_AT=<point> makes a use-case stop at a named point so a test can SIGKILL it
// there (crash-safety tests). Unset in normal use: then this is a no-op.

export type PausePoint = 'after-pending' | 'after-triggering' | 'after-trigger-call';

/** Announces the pause on stderr (`INTERLOCK_PAUSED <point> <runId>`) and never resolves. */
export async function pauseAt(point: PausePoint, runId: string): Promise<void> {
  if (process.env.INTERLOCK_TEST_PAUSE_AT !== point) return;
  process.stderr.write(`INTERLOCK_PAUSED ${point} ${runId}\n`);
  await new Promise<never>(() => {
    setInterval(() => {}, 60_000);
  });
}
