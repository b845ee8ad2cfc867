import { describe, expect, it } from 'vitest';
import { InterlockError } from '../core/errors.js';
import { parseRecord } from './records.js';

const corrupt = (json: string, kind: string) => {
  try {
    parseRecord(json, kind);
  } catch (e) {
    expect(e).toBeInstanceOf(InterlockError);
    return (e as InterlockError).code === 'STORE_CORRUPT'
      ? (e as InterlockError).message
      : `code ${(e as InterlockError).code}`;
  }
  return 'accepted';
};

describe('parseRecord', () => {
  const result = { pipeline: 'p', trait: 'a', status: 'PASS', durationMs: 1, evaluatedAt: 1000 };

  it('returns a well-formed record as stored (extra fields kept)', () => {
    expect(parseRecord(JSON.stringify({ ...result, expiresAt: 2000, value: { x: 1 } }), 'trait result')).toEqual({
      ...result,
      expiresAt: 2000,
      value: { x: 1 },
    });
    expect(parseRecord('{"anything":1}', 'decision record')).toEqual({ anything: 1 });
  });

  it('STORE_CORRUPT for anything that is not a JSON object', () => {
    for (const bad of ['{"status":"PASS",', 'null', '[]', '42', '"PASS"', '']) {
      expect(corrupt(bad, 'trait result'), bad).toMatch(/^stored trait result is not (valid JSON|a JSON object)$/);
    }
  });

  it('STORE_CORRUPT when a field decisions depend on has the wrong type (a forged PASS that would never expire)', () => {
    expect(corrupt(JSON.stringify({ ...result, expiresAt: 'never' }), 'trait result')).toBe(
      "stored trait result has an invalid 'expiresAt' (expected a number)",
    );
    expect(corrupt(JSON.stringify({ ...result, evaluatedAt: 'x' }), 'trait result')).toContain("'evaluatedAt'");
    expect(corrupt(JSON.stringify({ status: 'PASS' }), 'trait result')).toContain("'pipeline'");
    // A missing or impossible evaluatedAt: the age of the result (ttl configured now) could not be decided.
    const { evaluatedAt: _e, ...noTime } = result;
    expect(corrupt(JSON.stringify(noTime), 'trait result')).toContain("'evaluatedAt'");
    expect(corrupt(JSON.stringify({ ...result, evaluatedAt: -5 }), 'trait result')).toContain("'evaluatedAt'");
    expect(corrupt(JSON.stringify({ ...result, evaluatedAt: 1e300 }), 'trait result')).toContain("'evaluatedAt'");
    expect(corrupt(JSON.stringify({ ...result, evaluatedAt: 5000, expiresAt: 4000 }), 'trait result')).toBe(
      'stored trait result expires before it was evaluated',
    );
    const run = { runId: 'r', pipeline: 'p', status: 'PENDING', version: 1, deadlineAt: 5 };
    expect(corrupt(JSON.stringify(run), 'run')).toBe('accepted');
    expect(corrupt(JSON.stringify({ ...run, version: '1' }), 'run')).toContain("'version'");
  });

  it('STORE_CORRUPT for a window the watcher could misread (wrong types, attempts not a list)', () => {
    const w = {
      key: 'p@daily@2026-01-01T05:00:00.000Z',
      pipeline: 'p',
      schedule: 'daily',
      state: 'OPEN',
      version: 2,
      openAt: 1000,
      afterAt: 1000,
      deadlineAt: 5000,
      attempts: [],
      mode: 'live',
    };
    expect(corrupt(JSON.stringify(w), 'window')).toBe('accepted');
    expect(corrupt(JSON.stringify({ ...w, deadlineAt: 'later' }), 'window')).toBe(
      "stored window has an invalid 'deadlineAt' (expected a number)",
    );
    for (const f of ['key', 'pipeline', 'schedule', 'state']) {
      expect(corrupt(JSON.stringify({ ...w, [f]: 7 }), 'window'), f).toContain(`'${f}'`);
    }
    for (const f of ['version', 'openAt', 'afterAt', 'deadlineAt']) {
      const { [f as keyof typeof w]: _drop, ...missing } = w;
      expect(corrupt(JSON.stringify(missing), 'window'), f).toContain(`'${f}'`);
    }
    expect(corrupt(JSON.stringify({ ...w, attempts: { 0: 'x' } }), 'window')).toBe(
      "stored window has an invalid 'attempts' (expected an array)",
    );
    expect(corrupt(JSON.stringify({ ...w, attempts: null }), 'window')).toContain("'attempts'");
  });
});
