// SQLite specifics of the watcher's storage: the change feed across processes, its pruning, own writes delivered
// once, corrupt window and lease rows, index use, the run-key claim across connections, and the 0003 migration.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { decision, readiness, result, spec } from '../../../test/store-conformance.js';
import { window } from '../../../test/store-conformance-watch.js';
import { REPO } from '../../../test/support/paths.js';
import { waitFor } from '../../../test/support/poll.js';
import { withDb } from '../../../test/support/sqlite-file.js';
import { useTempDirs } from '../../../test/support/test-cleanups.js';
import type { RunState } from '../../core/types.js';
import { newRun } from '../../engine/run-state.js';
import { applyWindowEvent } from '../../engine/window.js';
import type { StoreChange } from '../types.js';
import { FEED_KEEP_ROWS, FEED_POLL_MS, SqliteStore } from './sqlite-store.js';

const tempDir = useTempDirs('interlock-sqlite-watch-');
const T0 = 1_700_000_000_000;
const STORE_MODULE = join(REPO, 'src', 'store', 'sqlite', 'sqlite-store.ts');

const run = (pipeline: string, runId: string, runKey?: string): RunState => {
  const r = newRun({ runId, pipeline, source: 'watcher', now: T0, deadlineAt: T0 + 60_000 });
  return runKey === undefined ? r : { ...r, runKey };
};
const evaluation = (pipeline: string, id: string) => ({
  results: [result(pipeline, 'a')],
  readiness: readiness(pipeline),
  decision: decision(pipeline, id),
});

// A child `node` process: its own SqliteStore on the same file. It subscribes to its own feed and never unsubscribes
// nor closes (the feed's timer must not keep a process alive), writes one thing per pipeline named in argv with a
// pause between them, prints `wrote <pipeline> <epoch ms>` after each commit, and then simply ends.
const CHILD = `
const { SqliteStore } = await import(process.argv[1]);
const s = new SqliteStore({ path: process.argv[2] });
s.watchChanges(() => {});
const T0 = ${T0};
for (const p of process.argv.slice(3)) {
  await new Promise((r) => setTimeout(r, 300));
  if (p.endsWith('-w')) {
    await s.createWindow({ key: p + '@daily@x', pipeline: p, schedule: 'daily', openAt: T0, afterAt: T0,
      deadlineAt: T0 + 1, date: '2023-11-14', mode: 'live', state: 'PENDING', version: 1, createdAt: T0,
      updatedAt: T0, attempts: [], unchanged: 0 });
  } else if (p.endsWith('-r')) {
    await s.createRun({ runId: p, pipeline: p, status: 'PENDING', version: 1, source: 'child', createdAt: T0,
      updatedAt: T0, deadlineAt: T0 + 60000, runKey: p + '#1' });
  } else {
    const rd = { pipeline: p, outcome: 'READY', rule: { type: 'all-required-pass' }, traits: [], blocking: [], decidedAt: T0 };
    await s.saveEvaluation({ results: [], readiness: rd, decision: { ...rd, id: p, source: 'child' } });
  }
  process.stdout.write('wrote ' + p + ' ' + Date.now() + '\\n');
}
`;

function writerProcess(path: string, pipelines: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', CHILD, STORE_MODULE, path, ...pipelines],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const wrote = new Map<string, number>();
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
    for (const m of out.matchAll(/^wrote (\S+) (\d+)$/gm)) wrote.set(m[1] as string, Number(m[2]));
  });
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; err: string }>((r) =>
    child.once('exit', (code) => r({ code, err })),
  );
  return { child, wrote, exited };
}

describe('sqlite change feed', () => {
  it('writes of another process (a second SqliteStore in a child node) are seen within 1 s; its feed timer lets it exit', async () => {
    const path = join(tempDir(), 'state.db');
    const s = new SqliteStore({ path });
    const seen = new Map<string, { at: number; kind: string }>();
    const stop = s.watchChanges((c) => {
      if (!seen.has(c.pipeline)) seen.set(c.pipeline, { at: Date.now(), kind: c.kind });
    });
    try {
      const w = writerProcess(path, ['child-e', 'child-w', 'child-r']);
      const timer = setTimeout(() => w.child.kill('SIGKILL'), 20_000);
      // The child never unsubscribes nor closes: it ends only if the feed's timer is unref'd.
      const exit = await w.exited;
      clearTimeout(timer);
      expect(exit).toEqual({ code: 0, err: '' });
      await waitFor('the child writes on the feed', 2000, async () => seen.size >= 3);
      expect(Object.fromEntries([...seen].map(([p, v]) => [p, v.kind]))).toEqual({
        'child-e': 'evaluation',
        'child-w': 'window',
        'child-r': 'run',
      });
      for (const [p, at] of w.wrote) {
        const lag = (seen.get(p)?.at ?? Number.POSITIVE_INFINITY) - at;
        expect(lag, p).toBeLessThan(1000);
      }
      expect(w.wrote.size).toBe(3);
      // The child's writes are what this handle reads back.
      expect((await s.getRunByKey('child-r#1'))?.runId).toBe('child-r');
    } finally {
      stop();
      await s.close();
    }
  });

  it("this handle's own writes reach its listeners once, also when another connection's writes are read after them", async () => {
    const path = join(tempDir(), 'state.db');
    const s = new SqliteStore({ path });
    const other = new SqliteStore({ path });
    const seen: StoreChange[] = [];
    const stop = s.watchChanges((c) => seen.push(c));
    try {
      await s.saveEvaluation(evaluation('own', 'o1'));
      await s.createWindow(window('own', T0));
      // Own writes do not move data_version: they are delivered after the commit, not by the poll.
      await Promise.resolve();
      expect(seen).toEqual([
        { pipeline: 'own', kind: 'evaluation' },
        { pipeline: 'own', kind: 'window' },
      ]);
      await other.createRun(run('theirs', 'r1'));
      await waitFor('the other connection', 2000, async () => seen.some((c) => c.pipeline === 'theirs'));
      await new Promise((r) => setTimeout(r, 3 * FEED_POLL_MS));
      expect(seen).toEqual([
        { pipeline: 'own', kind: 'evaluation' },
        { pipeline: 'own', kind: 'window' },
        { pipeline: 'theirs', kind: 'run' },
      ]);
    } finally {
      stop();
      await other.close();
      await s.close();
    }
  });

  it('a listener that throws does not stop the others; close() stops the feed', async () => {
    const path = join(tempDir(), 'state.db');
    const s = new SqliteStore({ path });
    const other = new SqliteStore({ path });
    const seen: string[] = [];
    s.watchChanges(() => {
      throw new Error('listener bug');
    });
    s.watchChanges((c) => seen.push(c.pipeline));
    await other.putPipeline(spec('reg'));
    await waitFor('the registration', 2000, async () => seen.includes('reg'));
    await s.close();
    expect((s as unknown as { feedTimer: unknown }).feedTimer).toBeUndefined();
    await other.deletePipeline('reg');
    await new Promise((r) => setTimeout(r, 3 * FEED_POLL_MS));
    expect(seen).toEqual(['reg']);
    await other.close();
  });

  it('subscribing starts at the newest change: earlier writes are not replayed', async () => {
    const path = join(tempDir(), 'state.db');
    const s = new SqliteStore({ path });
    const other = new SqliteStore({ path });
    await other.saveEvaluation(evaluation('old', 'd1'));
    const seen: string[] = [];
    const stop = s.watchChanges((c) => seen.push(c.pipeline));
    await other.saveEvaluation(evaluation('new', 'd2'));
    await waitFor('the new write', 2000, async () => seen.includes('new'));
    expect(seen).toEqual(['new']);
    stop();
    await other.close();
    await s.close();
  });

  it('old change rows are pruned: the table stays near FEED_KEEP_ROWS however much is written', async () => {
    const path = join(tempDir(), 'state.db');
    const s = new SqliteStore({ path });
    const n = FEED_KEEP_ROWS + 2_000;
    for (let i = 0; i < n; i++) await s.putPipeline(spec(`p${i % 50}`));
    const { rows, max } = withDb(path, (db) => ({
      rows: db.prepare('SELECT count(*) FROM changes').pluck().get() as number,
      max: db.prepare('SELECT max(seq) FROM changes').pluck().get() as number,
    }));
    expect(max).toBe(n);
    expect(rows).toBeGreaterThanOrEqual(FEED_KEEP_ROWS);
    expect(rows).toBeLessThanOrEqual(FEED_KEEP_ROWS + 500);
    await s.close();
  });
});

describe('sqlite watcher storage', () => {
  it('a corrupt window or lease row is STORE_CORRUPT on every read and write that meets it', async () => {
    const path = join(tempDir(), 'state.db');
    const s = new SqliteStore({ path });
    const w = window('p', T0);
    await s.createWindow(w);
    await s.acquireLease('watcher', 'A', 1000, T0);
    withDb(path, (db) => {
      // A forged record: the deadline is text, attempts are not a list (the watcher must not act on it).
      db.prepare('UPDATE windows SET record = ? WHERE key = ?').run(
        JSON.stringify({ ...w, deadlineAt: 'never', attempts: 'x' }),
        w.key,
      );
      db.prepare("UPDATE leases SET epoch = 'one' WHERE name = 'watcher'").run();
    });
    const corrupt = { code: 'STORE_CORRUPT' };
    await expect(s.getWindow(w.key)).rejects.toMatchObject(corrupt);
    await expect(s.listWindows('p')).rejects.toMatchObject(corrupt);
    await expect(s.windowHeads()).rejects.toMatchObject(corrupt);
    await expect(s.windowHeads('p')).rejects.toMatchObject(corrupt);
    await expect(s.createWindow(w)).rejects.toMatchObject(corrupt);
    const next = applyWindowEvent(w, { type: 'after-reached' }, T0 + 1);
    if (next.kind !== 'apply') throw new Error('expected OPEN');
    await expect(s.casWindow(next.window, 1)).rejects.toMatchObject(corrupt);
    await expect(s.getLease('watcher')).rejects.toMatchObject(corrupt);
    await expect(s.acquireLease('watcher', 'B', 1000, T0 + 5000)).rejects.toMatchObject(corrupt);
    // Fenced writes read the lease too: refused as corrupt, not let through.
    await expect(s.createWindow(window('p', T0 + 1), { name: 'watcher', epoch: 1 })).rejects.toMatchObject(corrupt);
    await s.close();
  });

  it('run keys across two connections: of concurrent creates on different pipelines exactly one wins', async () => {
    const path = join(tempDir(), 'state.db');
    const handles = [0, 1, 2].map(() => new SqliteStore({ path }));
    const key = 'p@daily@2023-11-14T22:13:20.000Z#1';
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (handles[i % 3] as SqliteStore).createRun(run(`p${i}`, `r${i}`, key))),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const winner = await (handles[1] as SqliteStore).getRunByKey(key);
    for (const r of results) if (!r.ok) expect(r.claimed?.runId).toBe(winner?.runId);
    expect(withDb(path, (db) => db.prepare('SELECT count(*) FROM runs').pluck().get())).toBe(1);
    for (const h of handles) await h.close();
  });

  it('lists and heads windows on indexes: no full scan of the windows table', async () => {
    const path = join(tempDir(), 'state.db');
    const s = new SqliteStore({ path });
    await s.listWindows('p');
    await s.listWindows('p', { before: T0, limit: 3 });
    await s.listWindows('p', { state: 'OPEN' });
    await s.listWindows('p', { schedule: 'daily' });
    await s.listWindows('p', { before: T0, state: 'OPEN', schedule: 'daily', limit: 1 });
    const internals = s as unknown as {
      windowLists: Map<string, { source: string }>;
      stmts: Record<string, { source: string }>;
    };
    const sources = [
      ...[...internals.windowLists.values()].map((st) => st.source),
      ...['headsOf', 'headsAll', 'getRunByKey', 'changesSince', 'pruneChanges'].map(
        (k) => internals.stmts[k]?.source as string,
      ),
    ];
    expect(sources).toHaveLength(10);
    const plans = withDb(path, (db) =>
      sources.map((sql) => {
        const params = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
        const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>;
        return { sql, plan: rows.map((r) => r.detail) };
      }),
    );
    for (const { sql, plan } of plans) {
      // A SCAN of windows is allowed only over the partial index of live windows; runs and changes only by index.
      const bad = plan.filter(
        (d) => /^SCAN (windows|w|runs|changes)\b/.test(d) && !/USING INDEX windows_live\b/.test(d),
      );
      expect(bad, `${sql}\n${plan.join('\n')}`).toEqual([]);
    }
    await s.close();
  });

  it('a database from before 0003 keeps its data; run keys already in run records are claimed', async () => {
    const path = join(tempDir(), 'state.db');
    const old = new Database(path);
    for (const f of ['0001_init.sql', '0002_runs.sql']) {
      old.exec(readFileSync(join(REPO, 'src', 'store', 'sqlite', 'migrations', f), 'utf8'));
    }
    old.pragma('user_version = 2');
    const claimed = run('p', 'old1', 'p@daily@2023-11-14T22:13:20.000Z#1');
    const ended = { ...claimed, status: 'COMPLETED', version: 2 };
    old
      .prepare(
        'INSERT INTO runs (run_id, pipeline, status, version, created_at, updated_at, record) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(ended.runId, 'p', ended.status, 2, T0, T0, JSON.stringify(ended));
    old.close();
    const s = new SqliteStore({ path });
    expect(withDb(path, (db) => db.pragma('user_version', { simple: true }))).toBe(3);
    expect((await s.listRuns('p')).map((r) => r.runId)).toEqual(['old1']);
    expect((await s.getRunByKey(claimed.runKey as string))?.runId).toBe('old1');
    const again = await s.createRun(run('p', 'new1', claimed.runKey));
    expect(again.ok === false && again.claimed?.runId).toBe('old1');
    expect(await s.createRun(run('p', 'new2'))).toEqual({ ok: true });
    await s.close();
  });
});
