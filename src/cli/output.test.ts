// Output rules: lines fitted to a terminal's width (never cut when piped), and when colours are on.
import { describe, expect, it } from 'vitest';
import { colorEnabled, fitLine, terminalColumns } from './output.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ESC is the point.
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('fitLine', () => {
  const long = `  FAIL  trait  12ms  ${'reason '.repeat(30)}[EVALUATOR_FAIL]`;

  it('without a width (not a terminal) returns the line whole, however long', () => {
    expect(fitLine(long, undefined)).toBe(long);
  });

  it('cuts to exactly the width, the last column "…"; a line that fits is unchanged', () => {
    const cut = fitLine(long, 40);
    expect([...cut]).toHaveLength(40);
    expect(cut.endsWith('…')).toBe(true);
    expect(long.startsWith(cut.slice(0, -1))).toBe(true);
    expect(fitLine('short', 40)).toBe('short');
    expect(fitLine('x'.repeat(40), 40)).toBe('x'.repeat(40));
  });

  it('colour codes take no width, are kept, and a reset follows the cut', () => {
    const coloured = `\x1b[31mFAIL \x1b[39m${'y'.repeat(50)} \x1b[2m[CODE]\x1b[22m`;
    const cut = fitLine(coloured, 20);
    expect([...strip(cut)]).toHaveLength(20);
    expect(cut.startsWith('\x1b[31mFAIL \x1b[39m')).toBe(true);
    expect(cut.endsWith('…\x1b[0m')).toBe(true);
    expect(fitLine(`\x1b[32m${'z'.repeat(10)}\x1b[39m`, 10)).toBe(`\x1b[32m${'z'.repeat(10)}\x1b[39m`);
  });

  it('counts characters, not UTF-16 units (no broken surrogate pairs)', () => {
    const cut = fitLine('🚀'.repeat(30), 10);
    expect([...cut]).toEqual([...'🚀'.repeat(9), '…']);
  });
});

describe('terminalColumns', () => {
  it('is the width of a terminal, undefined for a pipe or a terminal that reports none', () => {
    expect(terminalColumns({ isTTY: true, columns: 120 })).toBe(120);
    expect(terminalColumns({ isTTY: false, columns: 120 })).toBeUndefined();
    expect(terminalColumns({})).toBeUndefined();
    expect(terminalColumns({ isTTY: true, columns: 0 })).toBeUndefined();
  });
});

describe('colorEnabled', () => {
  it('TERM=dumb turns colours off; FORCE_COLOR=1 still forces them; NO_COLOR and --no-color always win', () => {
    expect(colorEnabled({}, { TERM: 'dumb', FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled({}, { TERM: 'dumb' })).toBe(false);
    expect(colorEnabled({}, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled({}, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ color: false }, { FORCE_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ json: true }, { FORCE_COLOR: '1' })).toBe(false);
  });
});
