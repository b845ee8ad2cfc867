// Last-resort cleanups that run when a harness process exits however it exits (crash, EPIPE, signal): a tool that
// wants them calls `process.on('exit', runExitCleanups)` once (bench does). Each must be synchronous.

const atExit = new Set<() => void>();

/** Registers `fn` to run at exit unless unregistered (call the returned function once it is done normally). */
export function onExit(fn: () => void): () => void {
  atExit.add(fn);
  return () => {
    atExit.delete(fn);
  };
}

/** Runs every registered exit cleanup (servers get SIGTERM by pid, temp dirs are removed). Never throws. */
export function runExitCleanups(): void {
  for (const fn of [...atExit].reverse()) {
    try {
      fn();
    } catch {}
  }
  atExit.clear();
}
