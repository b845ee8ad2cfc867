// The INVALID marker: telling a pipeline blocked by config errors (or failing its registration checks) from a usable one.
import type { InvalidPipeline } from './types.js';

/** True when `p` is a pipeline blocked by config errors or failing its registration checks (shown as INVALID). */
export function isInvalid<T extends object>(p: T | InvalidPipeline): p is InvalidPipeline {
  return (p as { status?: unknown }).status === 'INVALID';
}
