// Window keys: `<pipeline>@<schedule>@<open instant, UTC ISO 8601>`, derived only from names and the instant, so two
// replicas, a restart or a re-read config always name one occurrence the same way (the store's dedupe key).
import { isValidName } from '../core/names.js';
import { isoUtc, parseIsoUtc } from './local-time.js';

export interface WindowKeyParts {
  pipeline: string;
  schedule: string;
  /** Epoch ms the window opened. */
  openAt: number;
}

/** The key of the window of `schedule` of `pipeline` opening at `openAt`. Throws on a name that is not valid. */
export function windowKey(pipeline: string, schedule: string, openAt: number): string {
  if (!isValidName(pipeline)) throw new RangeError(`invalid pipeline name '${pipeline}'`);
  if (!isValidName(schedule)) throw new RangeError(`invalid schedule name '${schedule}'`);
  if (!Number.isFinite(openAt)) throw new RangeError('window open instant must be finite');
  return `${pipeline}@${schedule}@${isoUtc(openAt)}`;
}

/** The parts of a window key, or undefined for anything windowKey would not have written. */
export function parseWindowKey(key: string): WindowKeyParts | undefined {
  if (typeof key !== 'string') return undefined;
  const parts = key.split('@');
  if (parts.length !== 3) return undefined;
  const [pipeline, schedule, iso] = parts;
  if (!isValidName(pipeline) || !isValidName(schedule)) return undefined;
  const openAt = parseIsoUtc(iso);
  if (openAt === undefined) return undefined;
  return { pipeline, schedule, openAt };
}

/** The run key of attempt `attempt` (1-based) of a window: what the store claims atomically, once. */
export function attemptKey(windowKey: string, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError('attempt must be a positive integer');
  return `${windowKey}#${attempt}`;
}

/** The run key of rerun `n` (1-based) of a window after drift: `<window key>#rerun-<n>` (claimed once, ever). */
export function rerunKey(windowKey: string, n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('rerun must be a positive integer');
  return `${windowKey}#rerun-${n}`;
}

/**
 * The window key of a window run's key (`<window key>#<attempt>` or `<window key>#rerun-<n>`), or undefined for any
 * other run key.
 */
export function windowOfRunKey(runKey: string): string | undefined {
  const m = /^(.+)#(?:rerun-)?[1-9][0-9]*$/.exec(runKey);
  const key = m?.[1];
  return key !== undefined && parseWindowKey(key) ? key : undefined;
}
