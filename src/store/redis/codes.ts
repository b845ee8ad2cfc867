// Lua return codes, and the one table mapping the failing ones to InterlockErrors.
import { type ErrorCode, InterlockError } from '../../core/errors.js';

/** The first element of every write script's reply (see the headers of lua/*.lua). */
export const CODE = {
  OK: 1,
  REFUSED: 0,
  NOT_FOUND: -1,
  STALE: -2,
  EXISTS: -3,
  CORRUPT: -4,
  DELETING: -5,
  /** create-run: the run key was claimed already (an answer: `{ ok: false, claimed }`). */
  CLAIMED: -6,
  /** Window writes: the fencing lease has another epoch (an answer: `{ ok: false, fenced: true }`). */
  FENCED: -7,
} as const;

export type ScriptCode = (typeof CODE)[keyof typeof CODE];

/**
 * Codes that are errors, not answers. REFUSED (the lock is held), NOT_FOUND, STALE (a lost CAS), CLAIMED (a run key
 * taken) and FENCED (a stale lease) are answers the port returns as `{ ok: false, … }`; these are thrown.
 */
const ERRORS: Partial<Record<ScriptCode, { code: ErrorCode; message: (subject: string) => string }>> = {
  [CODE.EXISTS]: { code: 'ALREADY_EXISTS', message: (s) => `${s} already exists` },
  [CODE.CORRUPT]: { code: 'STORE_CORRUPT', message: (s) => `${s} has no readable record in redis` },
  [CODE.DELETING]: { code: 'CONFLICT', message: (s) => `${s}: the pipeline's registration is being deleted` },
};

/** The reply of a write script: its code and the optional payload. */
export interface ScriptReply {
  code: ScriptCode;
  payload?: string;
  /** A third element, when the script sends one (create-run: whether the refused run id is stored). */
  extra?: unknown;
}

/** Reads a script reply `{ code, payload? }`; anything else is a store/script mismatch. */
export function readReply(script: string, raw: unknown): ScriptReply {
  if (Array.isArray(raw) && typeof raw[0] === 'number' && Object.values(CODE).includes(raw[0] as ScriptCode)) {
    const reply: ScriptReply = { code: raw[0] as ScriptCode };
    if (raw[1] !== undefined && raw[1] !== null) reply.payload = String(raw[1]);
    if (raw[2] !== undefined && raw[2] !== null) reply.extra = raw[2];
    return reply;
  }
  throw new InterlockError('INTERNAL', `redis script ${script} returned an unexpected reply`, { reply: raw });
}

/** Throws the InterlockError for an error code; returns for answers. `subject` names the thing, e.g. "run r1". */
export function throwIfError(reply: ScriptReply, subject: string, context: Record<string, unknown> = {}): void {
  const e = ERRORS[reply.code];
  if (e) throw new InterlockError(e.code, e.message(subject), { ...context, scriptCode: reply.code });
}
