// Which run states are terminal: shared by the engine (transitions) and every store (lock release).
import type { RunStatus } from './types.js';

export const TERMINAL_STATUSES: readonly RunStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'BLOCKED'];

export function isTerminal(s: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(s);
}
