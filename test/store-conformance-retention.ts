// The store conformance suite, retention part: what prune may delete and what it must keep. Called by
// storeConformance (test/store-conformance.ts) for every backend.
import { expect, it } from 'vitest';
import type { DecisionRecord, Readiness, RunState, RunStatus } from '../src/core/types.js';
import { newRun, transition } from '../src/engine/run-state.js';
import { newWindow, type WindowRecord } from '../src/engine/window.js';
import { windowKey } from '../src/engine/window-key.js';
import { DAY_MS, type PruneRequest, type RetentionPolicy } from '../src/store/retention.js';
import type { Store } from '../src/store/types.js';

const T0 = 1_700_000_000_000;
const POLICY: RetentionPolicy = { decisionsMs: 30 * DAY_MS, runsMs: 90 * DAY_MS, windowsMs: 90 * DAY_MS };
const LATER = T0 + 200 * DAY_MS;

function decision(pipeline: string, id: string, decidedAt: number): DecisionRecord {
  return {
    id,
    pipeline,
    source: 'test',
    rule: { type: 'all-required-pass' },
    outcome: 'READY',
    traits: [{ trait: 'a', required: true, status: 'PASS' }],
    blocking: [],
    decidedAt,
  };
}
const readiness = (pipeline: string, decidedAt: number): Readiness => ({
  pipeline,
  rule: { type: 'all-required-pass' },
  outcome: 'READY',
  traits: [],
  blocking: [],
  decidedAt,
});

/** Creates a run at `at` and moves it through `path` (one ms apart); the last status is what it ends in. */
async function runThrough(
  s: Store,
  pipeline: string,
  id: string,
  at: number,
  path: RunStatus[],
  extra: Partial<RunState> = {},
): Promise<RunState> {
  let run: RunState = {
    ...newRun({ runId: id, pipeline, source: 'watcher', now: at, deadlineAt: at + DAY_MS }),
    ...extra,
  };
  const created = await s.createRun(run);
  if (!created.ok) throw new Error(`createRun ${id} refused`);
  let t = at;
  for (const to of path) {
    t += 1;
    const r = transition(run, to, t);
    if (!r.ok) throw new Error(r.reason);
    const cas = await s.casRun(r.run, run.version);
    if (!cas.ok) throw new Error(`casRun ${id} → ${to} lost`);
    run = r.run;
  }
  return run;
}

function endedWindow(pipeline: string, openAt: number, attempts: Array<{ runId: string; attempt: number }> = []) {
  const key = windowKey(pipeline, 'daily', openAt);
  const w = newWindow({
    key,
    pipeline,
    times: { schedule: 'daily', openAt, afterAt: openAt, deadlineAt: openAt + 3_600_000, date: '2023-11-14' },
    mode: 'live',
    now: openAt + 3_600_000,
    terminal: { reason: 'missed', detail: { state: 'MISSED', cause: 'never-evaluated' } },
  });
  const rec: WindowRecord = {
    ...w,
    attempts: attempts.map((a) => ({ ...a, runKey: `${key}#${a.attempt}`, claimedAt: openAt })),
  };
  return rec;
}

const req = (pipelines: string[], extra: Partial<PruneRequest> = {}): PruneRequest => ({
  pipelines,
  policy: POLICY,
  now: LATER,
  limit: 100,
  ...extra,
});

export function retentionConformance(store: () => Store): void {
  const s = () => store();

  it('retention: old decisions go, oldest first and at most `limit` per call; the newest decision always stays', async () => {
    for (let i = 0; i < 5; i++) {
      await s().saveEvaluation({
        results: [],
        readiness: readiness('p', T0 + i),
        decision: decision('p', `d${i}`, T0 + i),
      });
    }
    // A recent decision of another pipeline is not old enough.
    await s().saveEvaluation({
      results: [],
      readiness: readiness('q', LATER - DAY_MS),
      decision: decision('q', 'q0', LATER - DAY_MS),
    });
    const dry = await s().prune(req(['p', 'q'], { dryRun: true }));
    expect(dry).toMatchObject({ decisions: 4, runs: 0, windows: 0 });
    expect(await s().listDecisions('p')).toHaveLength(5);
    expect((await s().prune(req(['p', 'q'], { limit: 2 }))).decisions).toBe(2);
    expect((await s().listDecisions('p')).map((d) => d.id)).toEqual(['d4', 'd3', 'd2']);
    expect((await s().prune(req(['p', 'q']))).decisions).toBe(2);
    expect((await s().listDecisions('p')).map((d) => d.id)).toEqual(['d4']);
    expect((await s().prune(req(['p', 'q']))).decisions).toBe(0);
    expect(await s().listDecisions('q')).toHaveLength(1);
    // The readiness (what status shows) is untouched.
    expect((await s().getReadiness('p'))?.decidedAt).toBe(T0 + 4);
  });

  it('retention: an ended run past runs retention goes with its events; recent, active and lock-holding runs stay', async () => {
    await runThrough(s(), 'p', 'old-done', T0, ['TRIGGERING', 'COMPLETED']);
    await runThrough(s(), 'r', 'old-held', T0, ['TRIGGERING', 'FAILED'], { lockHeldUntil: LATER + DAY_MS });
    await runThrough(s(), 'q', 'old-running', T0, ['TRIGGERING', 'RUNNING']);
    const recentAt = LATER - DAY_MS;
    await runThrough(s(), 'p', 'recent-done', recentAt, ['TRIGGERING', 'COMPLETED']);
    expect(await s().prune(req(['p', 'q', 'r'], { dryRun: true }))).toMatchObject({ runs: 1, runEvents: 3 });
    expect(await s().getRun('old-done')).toBeDefined();
    expect(await s().prune(req(['p', 'q', 'r']))).toMatchObject({ runs: 1, runEvents: 3, decisions: 0, windows: 0 });
    expect(await s().getRun('old-done')).toBeUndefined();
    expect((await s().listRuns('p')).map((r) => r.runId)).toEqual(['recent-done']);
    expect((await s().listRunEvents('p')).every((e) => e.runId === 'recent-done')).toBe(true);
    expect(await s().getRun('old-running')).toBeDefined();
    expect((await s().getActiveRun('q'))?.runId).toBe('old-running');
    expect(await s().getRun('old-held')).toBeDefined();
  });

  it('retention: an ended window goes (not the newest of its schedule, nor one with a live attempt), then its runs and their run keys', async () => {
    const day = DAY_MS;
    const w1 = endedWindow('p', T0, [{ runId: 'a1', attempt: 1 }]);
    const w2 = endedWindow('p', T0 + day, [{ runId: 'a2', attempt: 1 }]);
    const w3 = endedWindow('p', T0 + 2 * day, [{ runId: 'a3', attempt: 1 }]); // the newest of 'daily'
    for (const w of [w1, w2, w3]) expect(await s().createWindow(w)).toEqual({ ok: true });
    await runThrough(s(), 'p', 'a1', T0, ['TRIGGERING', 'COMPLETED'], {
      runKey: `${w1.key}#1`,
      window: { key: w1.key, attempt: 1 },
    });
    // w2's attempt is still RUNNING (it holds the lock): w2 stays.
    await runThrough(s(), 'p', 'a2', T0 + day, ['TRIGGERING', 'RUNNING'], {
      runKey: `${w2.key}#1`,
      window: { key: w2.key, attempt: 1 },
    });
    const counts = await s().prune(req(['p']));
    expect(counts).toMatchObject({ windows: 1, runs: 1 });
    expect(await s().getWindow(w1.key)).toBeUndefined();
    expect(await s().getRun('a1')).toBeUndefined();
    expect(await s().getRunByKey(`${w1.key}#1`)).toBeUndefined();
    expect(await s().getWindow(w2.key)).toBeDefined();
    expect((await s().getRunByKey(`${w2.key}#1`))?.runId).toBe('a2');
    expect(await s().getWindow(w3.key)).toBeDefined();
    // The heads the watcher plans from are unchanged.
    expect((await s().windowHeads('p')).map((w) => w.key)).toEqual([w3.key]);
    expect((await s().listWindows('p')).map((w) => w.key)).toEqual([w3.key, w2.key]);
  });

  it('retention: a window attempt whose window is kept keeps its run and run key, however old', async () => {
    const w = endedWindow('p', T0, [{ runId: 'a1', attempt: 1 }]); // the newest (only) window: kept
    await s().createWindow(w);
    await runThrough(s(), 'p', 'a1', T0, ['TRIGGERING', 'COMPLETED'], {
      runKey: `${w.key}#1`,
      window: { key: w.key, attempt: 1 },
    });
    expect(await s().prune(req(['p']))).toMatchObject({ windows: 0, runs: 0 });
    expect((await s().getRunByKey(`${w.key}#1`))?.runId).toBe('a1');
    // A second attempt under the same key is still refused: the occurrence stays claimed.
    const again = newRun({ runId: 'a1-again', pipeline: 'p', source: 'watcher', now: LATER, deadlineAt: LATER + 1 });
    const created = await s().createRun({ ...again, runKey: `${w.key}#1`, window: { key: w.key, attempt: 1 } });
    expect(created.ok).toBe(false);
  });

  it('retention: a pipeline not named is not touched', async () => {
    await runThrough(s(), 'p', 'old-done', T0, ['TRIGGERING', 'COMPLETED']);
    expect(await s().prune(req(['other']))).toMatchObject({ runs: 0, decisions: 0, windows: 0 });
    expect(await s().getRun('old-done')).toBeDefined();
  });
}
