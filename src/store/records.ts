// Reading stored records back: anything that is not what a store writes (a hand edit, bit rot, another program) is
// STORE_CORRUPT — never a value the engine could read as a fresh PASS or a run it could move.
import { InterlockError } from '../core/errors.js';

type Field = [name: string, ok: (v: unknown) => boolean, expected: string, optional?: boolean];

const text = (v: unknown) => typeof v === 'string';
const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
/** An epoch-ms instant a store could have written: finite, not before 1970, not past the year 275760. */
const instant = (v: unknown) => finite(v) && (v as number) >= 0 && (v as number) <= 8.64e15;
const array = (v: unknown) => Array.isArray(v);

/** Fields a decision or a transition reads, per record kind (others are only shown, never decided on). */
const FIELDS: Record<string, Field[]> = {
  'trait result': [
    ['pipeline', text, 'a string'],
    ['trait', text, 'a string'],
    ['status', text, 'a string'],
    // The age of a result is decided from evaluatedAt (with the ttl configured now): it must be a real instant.
    ['evaluatedAt', instant, 'an epoch-ms time'],
    // A non-numeric expiry would never compare as past: the result would stay valid forever.
    ['expiresAt', finite, 'a number', true],
  ],
  run: [
    ['runId', text, 'a string'],
    ['pipeline', text, 'a string'],
    ['status', text, 'a string'],
    ['version', finite, 'a number'],
    ['deadlineAt', finite, 'a number'],
  ],
  // A schedule window: the watcher moves it, claims runs for it and sleeps until its instants.
  window: [
    ['key', text, 'a string'],
    ['pipeline', text, 'a string'],
    ['schedule', text, 'a string'],
    ['state', text, 'a string'],
    ['version', finite, 'a number'],
    ['openAt', finite, 'a number'],
    ['afterAt', finite, 'a number'],
    ['deadlineAt', finite, 'a number'],
    ['attempts', array, 'an array'],
  ],
};

/**
 * Parses a stored record of `kind` ('trait result', 'run', 'readiness', …). STORE_CORRUPT when it is not JSON, not
 * a JSON object, or a field decisions depend on has the wrong type.
 */
export function parseRecord<T>(json: string, kind: string): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new InterlockError('STORE_CORRUPT', `stored ${kind} is not valid JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InterlockError('STORE_CORRUPT', `stored ${kind} is not a JSON object`);
  }
  const record = value as Record<string, unknown>;
  for (const [name, ok, expected, optional] of FIELDS[kind] ?? []) {
    const v = record[name];
    if (optional && v === undefined) continue;
    if (!ok(v)) {
      throw new InterlockError('STORE_CORRUPT', `stored ${kind} has an invalid '${name}' (expected ${expected})`);
    }
  }
  if (kind === 'trait result') {
    const { evaluatedAt, expiresAt } = record as { evaluatedAt: number; expiresAt?: number };
    if (expiresAt !== undefined && expiresAt < evaluatedAt) {
      throw new InterlockError('STORE_CORRUPT', `stored ${kind} expires before it was evaluated`);
    }
  }
  return value as T;
}
