// Classifies a stored trait result at an instant: PASS, FAIL or STALE (expired or missing).
import type { TraitResult, TraitState } from '../core/types.js';

/** A result is valid while now < expiresAt; at the boundary it is already STALE. */
export function isExpired(result: TraitResult, now: number): boolean {
  return result.expiresAt !== undefined && now >= result.expiresAt;
}

export function traitState(result: TraitResult | undefined, now: number): TraitState {
  if (!result || isExpired(result, now)) return 'STALE';
  // Only an exact 'PASS' passes; anything else (including corrupt values) is a FAIL.
  return result.status === 'PASS' ? 'PASS' : 'FAIL';
}
