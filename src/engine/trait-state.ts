// Classifies a stored trait result at an instant: PASS, FAIL or STALE (expired or missing).
import type { TraitResult, TraitState } from '../core/types.js';

/**
 * When a stored result stops counting: the earlier of the expiry stored with it and its evaluatedAt plus the ttl
 * configured now (`ttlSeconds`, undefined = none). A ttl shortened after the evaluation therefore applies to the
 * cached result at once; a ttl lengthened later never extends it. undefined = never expires. A result whose
 * evaluatedAt is not a usable time cannot prove its age: it expires at once (-Infinity).
 */
export function effectiveExpiry(result: TraitResult, ttlSeconds?: number): number | undefined {
  const stored = result.expiresAt;
  if (ttlSeconds === undefined) return stored;
  if (!Number.isFinite(result.evaluatedAt) || !Number.isFinite(ttlSeconds)) return Number.NEGATIVE_INFINITY;
  const configured = result.evaluatedAt + ttlSeconds * 1000;
  return stored === undefined ? configured : Math.min(stored, configured);
}

/** A result is valid while now < expiry; at the boundary it is already STALE. */
export function isExpired(result: TraitResult, now: number, ttlSeconds?: number): boolean {
  // A store that dropped the result itself (Redis TTL) says so: it is expired whatever this host's clock reads.
  if (result.expired === true) return true;
  const expiry = effectiveExpiry(result, ttlSeconds);
  return expiry !== undefined && !(now < expiry);
}

/** The state of `result` at `now`, under the trait's ttl as configured now (`ttlSeconds`). */
export function traitState(result: TraitResult | undefined, now: number, ttlSeconds?: number): TraitState {
  if (!result || isExpired(result, now, ttlSeconds)) return 'STALE';
  // Only an exact 'PASS' passes; anything else (including corrupt values) is a FAIL.
  return result.status === 'PASS' ? 'PASS' : 'FAIL';
}
