// parseEvaluatorOutput: exactly one JSON object with status PASS|FAIL, optional object value and string reason.
import { describe, expect, it } from 'vitest';
import { EXCERPT_CHARS, excerptOf, parseEvaluatorOutput } from './protocol.js';

describe('parseEvaluatorOutput', () => {
  it('accepts PASS with value and reason, ignoring extra keys and surrounding whitespace', () => {
    expect(parseEvaluatorOutput('\n  {"status":"PASS","value":{"rows":3},"reason":"ok","extra":[1]}\n\n')).toEqual({
      ok: true,
      status: 'PASS',
      value: { rows: 3 },
      reason: 'ok',
    });
  });

  it('accepts a bare FAIL and omits absent fields', () => {
    const r = parseEvaluatorOutput('{"status":"FAIL"}');
    expect(r).toEqual({ ok: true, status: 'FAIL' });
    expect(Object.keys(r)).toEqual(['ok', 'status']);
  });

  it('accepts an empty value object and an empty reason', () => {
    expect(parseEvaluatorOutput('{"status":"FAIL","value":{},"reason":""}')).toEqual({
      ok: true,
      status: 'FAIL',
      value: {},
      reason: '',
    });
  });

  it.each([
    ['empty', '', /empty/],
    ['whitespace only', ' \n\t', /empty/],
    ['not JSON', 'not json', /not JSON/],
    ['truncated JSON', '{"status":"PASS"', /not JSON/],
    ['two objects back to back', '{}{}', /more than one JSON value/],
    ['two objects on two lines', '{"status":"PASS"}\n{"status":"PASS"}\n', /more than one JSON value/],
    ['an array', '[{"status":"PASS"}]', /got an array/],
    ['a string', '"PASS"', /got a string/],
    ['null', 'null', /got null/],
    ['a number', '42', /got a number/],
    ['a boolean', 'true', /got a boolean/],
    ['missing status', '{"value":{}}', /missing "status"/],
    ['lowercase status', '{"status":"pass"}', /exactly "PASS" or "FAIL", got "pass"/],
    ['status OK', '{"status":"OK"}', /got "OK"/],
    ['status with spaces', '{"status":" PASS"}', /got " PASS"/],
    ['status not a string', '{"status":true}', /got a boolean/],
    ['value an array', '{"status":"PASS","value":[1]}', /"value" must be an object, got an array/],
    ['value a string', '{"status":"PASS","value":"x"}', /"value" must be an object, got a string/],
    ['value null', '{"status":"PASS","value":null}', /"value" must be an object, got null/],
    ['reason a number', '{"status":"FAIL","reason":7}', /"reason" must be a string, got a number/],
    ['reason null', '{"status":"FAIL","reason":null}', /"reason" must be a string, got null/],
  ])('rejects %s', (_label, stdout, problem) => {
    const r = parseEvaluatorOutput(stdout);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });

  it('does not mistake braces inside strings for a second value', () => {
    expect(parseEvaluatorOutput('{"status":"FAIL","reason":"got }{ and \\" here"}')).toEqual({
      ok: true,
      status: 'FAIL',
      reason: 'got }{ and " here',
    });
  });

  it('does not take status from the prototype chain', () => {
    const r = parseEvaluatorOutput('{"__proto__":{"status":"PASS"}}');
    expect(r.ok).toBe(false);
  });

  it('gives a single-line excerpt of what was printed', () => {
    const r = parseEvaluatorOutput('line one\nline "two"\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.excerpt).toBe('line one\\nline \\"two\\"\\n');
  });
});

describe('excerptOf', () => {
  it('keeps short text whole', () => {
    expect(excerptOf('abc')).toBe('abc');
    expect(excerptOf('x'.repeat(EXCERPT_CHARS))).toBe('x'.repeat(EXCERPT_CHARS));
  });

  it('cuts at 200 characters and marks the cut', () => {
    const e = excerptOf('x'.repeat(5000));
    expect(e).toBe(`${'x'.repeat(EXCERPT_CHARS)}…`);
  });

  it('never splits a surrogate pair', () => {
    const e = excerptOf(`${'x'.repeat(EXCERPT_CHARS - 1)}😀tail`);
    expect(e).toBe(`${'x'.repeat(EXCERPT_CHARS - 1)}…`);
    expect(e).not.toMatch(/\\ud8/i);
  });

  it('escapes control characters onto one line', () => {
    expect(excerptOf('a\tb\r\nc\u0000')).toBe('a\\tb\\r\\nc\\u0000');
  });
});
