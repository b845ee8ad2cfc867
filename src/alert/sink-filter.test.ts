// Per-sink filters: `kinds` and `minLevel` decide which alerts a sink gets.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertKind } from '../core/types.js';
import { makeAlert } from './alert.js';
import { AlertDispatcher } from './dispatcher.js';
import { createSinks, passesFilter } from './sink.js';

const a = (kind: AlertKind, level?: 'info' | 'warning' | 'error' | 'critical') =>
  makeAlert(kind, { pipeline: 'p', message: 'm', ...(level ? { level } : {}) }, 0);

describe('sink filters', () => {
  it('minLevel drops lower levels; kinds keeps only the listed kinds; both must pass', () => {
    expect(passesFilter(a('PIPELINE_READY'), { minLevel: 'warning' })).toBe(false);
    expect(passesFilter(a('PIPELINE_BLOCKED'), { minLevel: 'warning' })).toBe(true);
    expect(passesFilter(a('RUN_FAILED', 'critical'), { minLevel: 'error' })).toBe(true);
    expect(passesFilter(a('RUN_FAILED'), { kinds: ['TRIGGER_FAILED'] })).toBe(false);
    expect(passesFilter(a('RUN_FAILED'), { kinds: ['RUN_FAILED'], minLevel: 'critical' })).toBe(false);
    expect(passesFilter(a('RUN_FAILED'), {})).toBe(true);
  });

  it('a filtered file sink writes only what passes; an unfiltered one gets everything', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'il-filter-'));
    try {
      const only = path.join(dir, 'only.jsonl');
      const all = path.join(dir, 'all.jsonl');
      const d = new AlertDispatcher(
        createSinks([
          { type: 'file', path: only, kinds: ['RUN_FAILED', 'PIPELINE_READY'], minLevel: 'warning' },
          { type: 'file', path: all },
        ]),
      );
      await d.dispatch([a('PIPELINE_READY'), a('RUN_FAILED'), a('PIPELINE_BLOCKED')]);
      const kinds = (f: string) =>
        fs
          .readFileSync(f, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).kind);
      expect(kinds(only)).toEqual(['RUN_FAILED']);
      expect(kinds(all)).toEqual(['PIPELINE_READY', 'RUN_FAILED', 'PIPELINE_BLOCKED']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
