import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decision, readiness, result, storeConformance } from '../../../test/store-conformance.js';
import { InterlockError } from '../../core/errors.js';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'interlock-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let last = '';

storeConformance('sqlite', {
  open: async () => {
    last = join(dir, `s${n++}`, 'state.db');
    return new SqliteStore({ path: last });
  },
  reopen: async () => new SqliteStore({ path: last }),
});

describe('sqlite specifics', () => {
  it('data survives close and reopen (a real file)', async () => {
    const path = join(dir, 'persist', 'state.db');
    const a = new SqliteStore({ path });
    await a.saveEvaluation({ results: [result('p', 'a')], readiness: readiness('p'), decision: decision('p', 'd1') });
    await a.close();
    const b = new SqliteStore({ path });
    expect((await b.listDecisions('p')).map((d) => d.id)).toEqual(['d1']);
    await b.close();
  });

  it('a file that is not a database is STORE_UNAVAILABLE, not a crash', () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, 'this is not sqlite at all, just text '.repeat(200));
    expect(() => new SqliteStore({ path })).toThrowError(InterlockError);
    try {
      new SqliteStore({ path });
    } catch (e) {
      expect((e as InterlockError).code).toBe('STORE_UNAVAILABLE');
      expect((e as Error).message).toContain(path);
    }
  });

  it('a failed saveEvaluation writes nothing (atomic)', async () => {
    const path = join(dir, 'atomic', 'state.db');
    const s = new SqliteStore({ path });
    await s.saveEvaluation({ results: [result('p', 'a')], readiness: readiness('p'), decision: decision('p', 'dup') });
    // Same decision id again violates UNIQUE after the trait row was written: the whole write must roll back.
    await expect(
      s.saveEvaluation({
        results: [result('p', 'a', { status: 'FAIL', evaluatedAt: 1 })],
        readiness: readiness('p', 5, 'NOT_READY'),
        decision: decision('p', 'dup'),
      }),
    ).rejects.toThrowError(InterlockError);
    expect((await s.getTraitResult('p', 'a'))?.status).toBe('PASS');
    expect((await s.getReadiness('p'))?.outcome).toBe('READY');
    await s.close();
  });

  it('corrupt stored JSON is STORE_CORRUPT', async () => {
    const path = join(dir, 'corrupt', 'state.db');
    const s = new SqliteStore({ path });
    await s.close();
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(path);
    raw
      .prepare("INSERT INTO readiness (pipeline, outcome, readiness, decided_at) VALUES ('p', 'READY', '{not json', 1)")
      .run();
    raw.close();
    const s2 = new SqliteStore({ path });
    await expect(s2.getReadiness('p')).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    await s2.close();
  });
});
