// Every run state, and which are terminal: shared by the engine (transitions), every store (lock release) and the API.
/** All run states; `RunStatus` is derived from this list. */
export const RUN_STATUSES = [
  'PENDING',
  'TRIGGERING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMED_OUT',
  'BLOCKED',
] as const;

/** Run lifecycle states. Terminal: COMPLETED, FAILED, CANCELLED, TIMED_OUT, BLOCKED. */
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_STATUSES: readonly RunStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'BLOCKED'];

export function isTerminal(s: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(s);
}
