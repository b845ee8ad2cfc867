// The evaluator output protocol: stdout must be exactly one JSON object {status, value?, reason?}. Pure.
import type { EvalStatus } from '../core/types.js';

/** A well-formed evaluator answer. Extra keys in the output are ignored. */
export interface ParsedEvaluatorOutput {
  ok: true;
  status: EvalStatus;
  value?: Record<string, unknown>;
  reason?: string;
}

/** Output that breaks the protocol: what is wrong, and a single-line excerpt of what was printed. */
export interface InvalidEvaluatorOutput {
  ok: false;
  problem: string;
  excerpt: string;
}

export type EvaluatorOutputParse = ParsedEvaluatorOutput | InvalidEvaluatorOutput;

/** How many characters of stdout an excerpt shows. */
export const EXCERPT_CHARS = 200;

/** A single-line, escaped excerpt of the first {@link EXCERPT_CHARS} characters, with "…" when cut. */
export function excerptOf(text: string): string {
  let cut = text.length > EXCERPT_CHARS ? text.slice(0, EXCERPT_CHARS) : text;
  // Do not split a surrogate pair at the cut.
  if (cut.length < text.length && /[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  const escaped = JSON.stringify(cut).slice(1, -1);
  return cut.length < text.length ? `${escaped}…` : escaped;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Index just past the first complete JSON object/array in `s` (which starts with '{' or '['),
 * or -1 if it never closes. Only brackets and strings matter here; JSON.parse checks the rest.
 */
function endOfFirstValue(s: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{' || c === '[') {
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** True when `s` holds a complete JSON value followed by more non-whitespace (e.g. "{}{}"). */
function hasTrailingValue(s: string): boolean {
  if (s[0] !== '{' && s[0] !== '[') return false;
  const end = endOfFirstValue(s);
  if (end < 0 || s.slice(end).trim() === '') return false;
  try {
    JSON.parse(s.slice(0, end));
    return true;
  } catch {
    return false;
  }
}

/** Parses an evaluator's stdout. Surrounding whitespace is fine; anything else off-protocol is invalid. */
export function parseEvaluatorOutput(stdout: string): EvaluatorOutputParse {
  const invalid = (problem: string): InvalidEvaluatorOutput => ({ ok: false, problem, excerpt: excerptOf(stdout) });
  const text = stdout.trim();
  if (text === '') return invalid('empty output (expected one JSON object)');

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    if (hasTrailingValue(text)) return invalid('more than one JSON value (expected exactly one object)');
    return invalid(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }

  if (!isPlainObject(parsed)) return invalid(`expected a JSON object, got ${kindOf(parsed)}`);

  const status = parsed.status;
  if (!Object.hasOwn(parsed, 'status')) return invalid('missing "status" (expected "PASS" or "FAIL")');
  if (status !== 'PASS' && status !== 'FAIL') {
    const shown = typeof status === 'string' ? JSON.stringify(status) : kindOf(status);
    return invalid(`"status" must be exactly "PASS" or "FAIL", got ${shown}`);
  }

  const out: ParsedEvaluatorOutput = { ok: true, status };
  if (Object.hasOwn(parsed, 'value')) {
    if (!isPlainObject(parsed.value)) return invalid(`"value" must be an object, got ${kindOf(parsed.value)}`);
    out.value = parsed.value;
  }
  if (Object.hasOwn(parsed, 'reason')) {
    if (typeof parsed.reason !== 'string') return invalid(`"reason" must be a string, got ${kindOf(parsed.reason)}`);
    out.reason = parsed.reason;
  }
  return out;
}
