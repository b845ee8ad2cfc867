// Durations as config writes them: a number of seconds, or a string of units (90s, 15m, 2h, 1d, 1h30m). Pure.

/** Seconds per unit, largest first: the order units must be written in. */
const UNITS = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
] as const;

/**
 * A duration string: one or more `<integer><unit>` parts, units d, h, m, s, each at most once, largest first.
 * As a JSON Schema `pattern` (ECMA-262); the lookahead forbids the empty string.
 */
export const DURATION_PATTERN = /^(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** The accepted forms, for messages and docs. */
export const DURATION_FORMS = 'a number of seconds (90) or a string like 90s, 15m, 2h, 1d or 1h30m';

/**
 * Seconds a duration stands for: a finite number is taken as seconds as it is; a string must match
 * DURATION_PATTERN. Returns undefined for anything else (negative numbers included; callers check the range).
 */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = DURATION_PATTERN.exec(v);
  if (!m) return undefined;
  let seconds = 0;
  UNITS.forEach(([, factor], i) => {
    const part = m[i + 1];
    if (part !== undefined) seconds += Number(part) * factor;
  });
  return Number.isFinite(seconds) ? seconds : undefined;
}
