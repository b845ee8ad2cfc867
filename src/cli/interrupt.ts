// Ctrl-C / SIGTERM during `evaluate` or `run`: abort the evaluators and the trigger (their process groups are
// killed), let the use-case record the outcome, then exit 130 / 143. A second signal exits at once.

export interface Interrupt {
  signal: AbortSignal;
  /** The exit code to use if a signal arrived (128 + signal number), else undefined. */
  exitCode(): number | undefined;
  dispose(): void;
}

const CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export function onInterrupt(warn: (message: string) => void): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (sig: NodeJS.Signals) => {
    if (received) process.exit(CODES[received] ?? 1);
    received = sig;
    warn(`interlock: ${sig}: stopping evaluators and trigger, recording the outcome (again to exit at once)`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    exitCode: () => (received ? CODES[received] : undefined),
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
