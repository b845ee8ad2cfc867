import { describe, expect, it } from 'vitest';
import { formatDuration } from './format.js';

describe('formatDuration', () => {
  it('never shows a negative duration (a span across two skewed clocks)', () => {
    expect(formatDuration(-179_590)).toBe('0ms');
    expect(formatDuration(-1)).toBe('0ms');
    expect(formatDuration(Number.NaN)).toBe('0ms');
  });
  it('formats positive spans as before', () => {
    expect(formatDuration(350)).toBe('350ms');
    expect(formatDuration(1200)).toBe('1.2s');
    expect(formatDuration(245_000)).toBe('4m05s');
  });
});
