// The store conformance suite: the meaning of the store port. Every backend runs it unchanged.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUN_STATUSES } from '../src/core/run-status.js';
import type { DecisionRecord, PipelineSpec, Readiness, RunState, RunStatus, TraitResult } from '../src/core/types.js';
import { decideReadiness } from '../src/engine/readiness.js';
import { newRun, transition } from '../src/engine/run-state.js';
import { traitState } from '../src/engine/trait-state.js';
import type { AlertKey, Store } from '../src/store/types.js';
import { retentionConformance } from './store-conformance-retention.js';
import { watchConformance } from './store-conformance-watch.js';

export interface ConformanceOptions {
  /** Opens a fresh, empty store. */
  open: () => Promise<Store>;
  /** Opens a second handle on the SAME data as the last `open()` (another connection), if the backend has one. */
  reopen?: () => Promise<Store>;
  /** See WatchConformanceOptions. */
  ownClock?: boolean;
  feedSettleMs?: number;
}

const T0 = 1_700_000_000_000;

export function spec(name: string, extra: Partial<PipelineSpec> = {}): PipelineSpec {
  return {
    name,
    archetype: 'batch-ingestion',
    traits: [{ type: 'source-freshness', required: true, config: { maxLagSeconds: 60 }, timeoutSeconds: 30 }],
    readinessRule: { type: 'all-required-pass' },
    source: 'api',
    ...extra,
  };
}

export function result(pipeline: string, trait: string, extra: Partial<TraitResult> = {}): TraitResult {
  return { pipeline, trait, status: 'PASS', durationMs: 5, evaluatedAt: T0, value: { n: 1 }, ...extra };
}

export function readiness(pipeline: string, decidedAt = T0, outcome: Readiness['outcome'] = 'READY'): Readiness {
  return { pipeline, outcome, rule: { type: 'all-required-pass' }, traits: [], blocking: [], decidedAt };
}

export function decision(
  pipeline: string,
  id: string,
  decidedAt = T0,
  outcome: DecisionRecord['outcome'] = 'READY',
): DecisionRecord {
  return {
    id,
    pipeline,
    source: 'test',
    rule: { type: 'all-required-pass' },
    outcome,
    traits: [{ trait: 'a', required: true, status: outcome === 'READY' ? 'PASS' : 'FAIL' }],
    blocking: [],
    decidedAt,
  };
}

export function storeConformance(name: string, opts: ConformanceOptions): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await opts.open();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('pipelines', () => {
      it('put, get, list in name order, delete; entries come back as the stored JSON text (unparsed)', async () => {
        await store.putPipeline(spec('b'));
        await store.putPipeline(spec('a', { tier: 2 }));
        const a = await store.getPipeline('a');
        expect(a?.name).toBe('a');
        expect(JSON.parse(a?.json ?? 'null')).toEqual(spec('a', { tier: 2 }));
        expect((await store.listPipelines()).map((p) => p.name)).toEqual(['a', 'b']);
        expect(JSON.parse((await store.listPipelines())[1]?.json ?? 'null')).toEqual(spec('b'));
        expect(await store.deletePipeline('a')).toEqual({ ok: true, deleted: true });
        expect(await store.deletePipeline('a')).toEqual({ ok: true, deleted: false });
        expect(await store.getPipeline('a')).toBeUndefined();
        expect((await store.listPipelines()).map((p) => p.name)).toEqual(['b']);
      });

      it('put replaces', async () => {
        await store.putPipeline(spec('a', { tier: 1 }));
        await store.putPipeline(spec('a', { tier: 3 }));
        expect(JSON.parse((await store.getPipeline('a'))?.json ?? 'null').tier).toBe(3);
        expect(await store.listPipelines()).toHaveLength(1);
      });

      it('an empty store lists nothing', async () => {
        expect(await store.listPipelines()).toEqual([]);
        expect(await store.getTraitResults('nope')).toEqual([]);
        expect(await store.getReadiness('nope')).toBeUndefined();
        expect(await store.listDecisions('nope')).toEqual([]);
      });
    });

    describe('evaluations', () => {
      it('saveEvaluation stores latest results, readiness and appends a decision', async () => {
        await store.saveEvaluation({
          results: [
            result('p', 'a'),
            result('p', 'b', { status: 'FAIL', reasonCode: 'EVALUATOR_FAIL', reason: 'lag' }),
          ],
          readiness: readiness('p', T0, 'NOT_READY'),
          decision: decision('p', 'd1', T0, 'NOT_READY'),
        });
        await store.saveEvaluation({
          results: [result('p', 'b', { evaluatedAt: T0 + 1000 })],
          readiness: readiness('p', T0 + 1000, 'READY'),
          decision: decision('p', 'd2', T0 + 1000, 'READY'),
        });
        const results = await store.getTraitResults('p');
        expect(results.map((r) => [r.trait, r.status, r.evaluatedAt])).toEqual([
          ['a', 'PASS', T0],
          ['b', 'PASS', T0 + 1000],
        ]);
        expect(await store.getTraitResult('p', 'a')).toEqual(result('p', 'a'));
        expect(await store.getTraitResult('p', 'zzz')).toBeUndefined();
        expect((await store.getReadiness('p'))?.outcome).toBe('READY');
        expect((await store.listDecisions('p')).map((d) => d.id)).toEqual(['d2', 'd1']);
      });

      it('keeps every field of a result, including expiry and failure detail', async () => {
        const r = result('p', 'a', {
          status: 'FAIL',
          reasonCode: 'EVALUATOR_TIMEOUT',
          reason: 'timed out after 1s',
          exitCode: null,
          signal: 'SIGKILL',
          expiresAt: T0 + 60_000,
          value: { nested: { deep: [1, 2, { x: 'ü' }] } },
        });
        await store.saveEvaluation({ results: [r], readiness: readiness('p'), decision: decision('p', 'd1') });
        expect(await store.getTraitResult('p', 'a')).toEqual(r);
      });

      it('a result past its expiry still reads back (stored, or as a tombstone): STALE, "expired at …"', async () => {
        // Already expired when the evaluation is saved (Redis then keeps no live key, only its tombstone).
        const r = result('p', 'a', { evaluatedAt: T0, expiresAt: T0 + 10 });
        await store.saveEvaluation({
          results: [r],
          readiness: readiness('p', T0 + 20),
          decision: decision('p', 'd1', T0 + 20),
        });
        const got = await store.getTraitResult('p', 'a');
        expect(got).toMatchObject({ status: 'PASS', evaluatedAt: T0, expiresAt: T0 + 10 });
        expect((await store.getTraitResults('p')).map((x) => x.trait)).toEqual(['a']);
        const trait = { type: 'a', required: true, config: {}, timeoutSeconds: 5 };
        // The same state and message on every store (Redis: not "no result yet; evaluate first").
        expect(traitState(got, T0 + 20)).toBe('STALE');
        const rd = decideReadiness('p', [trait], got ? [got] : [], { type: 'all-required-pass' }, T0 + 20);
        expect(rd.outcome).toBe('NOT_READY');
        expect(rd.blocking[0]).toEqual({
          trait: 'a',
          state: 'STALE',
          reasonCode: 'STALE',
          reason: `result expired (TTL passed) at ${new Date(T0 + 10).toISOString()}; evaluate again`,
        });
      });

      it('decisions are newest first, with limit and before', async () => {
        for (let i = 0; i < 5; i++) {
          await store.saveEvaluation({
            results: [],
            readiness: readiness('p', T0 + i),
            decision: decision('p', `d${i}`, T0 + i),
          });
        }
        expect((await store.listDecisions('p', { limit: 2 })).map((d) => d.id)).toEqual(['d4', 'd3']);
        expect((await store.listDecisions('p', { before: T0 + 2 })).map((d) => d.id)).toEqual(['d1', 'd0']);
        expect((await store.listDecisions('p', { before: T0 + 4, limit: 1 })).map((d) => d.id)).toEqual(['d3']);
      });

      it('decisions in the same millisecond keep insertion order (newest first)', async () => {
        for (const id of ['x1', 'x2', 'x3']) {
          await store.saveEvaluation({ results: [], readiness: readiness('p'), decision: decision('p', id, T0) });
        }
        expect((await store.listDecisions('p')).map((d) => d.id)).toEqual(['x3', 'x2', 'x1']);
      });

      it('pipelines do not leak into each other', async () => {
        await store.saveEvaluation({
          results: [result('p', 'a')],
          readiness: readiness('p'),
          decision: decision('p', 'd1'),
        });
        await store.saveEvaluation({
          results: [result('p2', 'a', { status: 'FAIL' })],
          readiness: readiness('p2'),
          decision: decision('p2', 'd2'),
        });
        await store.saveEvaluation({
          results: [result('p:x', 'a')],
          readiness: readiness('p:x'),
          decision: decision('p:x', 'd3'),
        });
        expect((await store.getTraitResults('p')).map((r) => r.status)).toEqual(['PASS']);
        expect((await store.getTraitResults('p2')).map((r) => r.status)).toEqual(['FAIL']);
        expect((await store.listDecisions('p')).map((d) => d.id)).toEqual(['d1']);
        expect((await store.listDecisions('p:x')).map((d) => d.id)).toEqual(['d3']);
      });

      it('large values round-trip', async () => {
        const big = { blob: 'x'.repeat(512 * 1024), list: Array.from({ length: 2000 }, (_, i) => i) };
        await store.saveEvaluation({
          results: [result('p', 'a', { value: big })],
          readiness: readiness('p'),
          decision: decision('p', 'd1'),
        });
        expect((await store.getTraitResult('p', 'a'))?.value).toEqual(big);
      });

      it('returned objects are copies', async () => {
        await store.saveEvaluation({
          results: [result('p', 'a')],
          readiness: readiness('p'),
          decision: decision('p', 'd1'),
        });
        const r = await store.getTraitResult('p', 'a');
        if (r?.value) r.value.n = 999;
        expect((await store.getTraitResult('p', 'a'))?.value).toEqual({ n: 1 });
      });
    });

    if (opts.reopen) {
      it('a second connection sees committed writes', async () => {
        await store.saveEvaluation({
          results: [result('p', 'a')],
          readiness: readiness('p'),
          decision: decision('p', 'd1'),
        });
        const other = await opts.reopen!();
        try {
          expect((await other.getTraitResults('p')).map((r) => r.trait)).toEqual(['a']);
          expect((await other.listDecisions('p')).map((d) => d.id)).toEqual(['d1']);
        } finally {
          await other.close();
        }
      });
    }

    describe('runs', () => {
      const run = (pipeline: string, runId: string, now = T0): RunState =>
        newRun({ runId, pipeline, source: 'test', now, deadlineAt: now + 60_000 });
      const step = (r: RunState, to: RunStatus, now = T0 + 1): RunState => {
        const t = transition(r, to, now);
        if (!t.ok) throw new Error(t.reason);
        return t.run;
      };

      it('casRun ifOverdue: applies past the deadline, refuses (with the stored run) before it', async () => {
        // Past it by every clock (the caller's T0 + 60 s and any real clock today).
        const a = run('p', 'r1');
        expect(await store.createRun(a)).toEqual({ ok: true });
        expect(await store.casRun(step(a, 'TIMED_OUT', T0 + 60_000), 1, { ifOverdue: true })).toEqual({ ok: true });
        // Before it by every clock: a deadline an hour from now, a caller whose now is just before it.
        const later = Date.now() + 3_600_000;
        const b = newRun({ runId: 'r2', pipeline: 'p', source: 'test', now: later - 60_000, deadlineAt: later });
        expect(await store.createRun(b)).toEqual({ ok: true });
        expect(await store.casRun(step(b, 'TIMED_OUT', later - 1), 1, { ifOverdue: true })).toEqual({
          ok: false,
          current: b,
        });
        expect((await store.getActiveRun('p'))?.runId).toBe('r2');
        // Without the option the version alone decides (a cancel before the deadline applies).
        expect(await store.casRun(step(b, 'CANCELLED', later - 1), 1)).toEqual({ ok: true });
      });

      it('createRun takes the lock; a second run of the same pipeline is refused with the active run', async () => {
        const a = run('p', 'r1');
        expect(await store.createRun(a)).toEqual({ ok: true });
        expect(await store.getRun('r1')).toEqual(a);
        expect(await store.getActiveRun('p')).toEqual(a);
        const second = await store.createRun(run('p', 'r2'));
        expect(second).toEqual({ ok: false, active: a });
        expect(await store.getRun('r2')).toBeUndefined();
        expect(await store.createRun(run('other', 'r3'))).toEqual({ ok: true });
      });

      it('casRun applies only on the expected version, and a terminal state releases the lock', async () => {
        const a = run('p', 'r1');
        await store.createRun(a);
        const trig = step(a, 'TRIGGERING');
        expect(await store.casRun(trig, 1)).toEqual({ ok: true });
        // A stale writer (still at version 1) loses and sees the current run.
        expect(await store.casRun(step(a, 'CANCELLED'), 1)).toEqual({ ok: false, current: trig });
        // next.version must be expected + 1.
        expect((await store.casRun({ ...trig, version: 7 }, 2)).ok).toBe(false);
        expect(await store.getActiveRun('p')).toEqual(trig);
        const done = step(trig, 'COMPLETED', T0 + 2);
        expect(await store.casRun(done, 2)).toEqual({ ok: true });
        expect(await store.getRun('r1')).toEqual(done);
        expect(await store.getActiveRun('p')).toBeUndefined();
        expect(await store.createRun(run('p', 'r2', T0 + 3))).toEqual({ ok: true });
        expect((await store.casRun(step(run('x', 'nope'), 'TRIGGERING'), 1)).ok).toBe(false);
      });

      it('deletePipeline is refused while a run holds the lock, atomically with the check (issue 9 item 19)', async () => {
        await store.putPipeline(spec('p'));
        const a = run('p', 'r1');
        await store.createRun(a);
        expect(await store.deletePipeline('p')).toEqual({ ok: false, active: a });
        expect(JSON.parse((await store.getPipeline('p'))?.json ?? 'null')).toEqual(spec('p'));
        expect(await store.casRun(step(a, 'CANCELLED'), 1)).toEqual({ ok: true });
        expect(await store.deletePipeline('p')).toEqual({ ok: true, deleted: true });
        expect(await store.getPipeline('p')).toBeUndefined();
        // The lock is free again afterwards: a run can be created (and would find no spec).
        expect(await store.createRun(run('p', 'r2', T0 + 5))).toEqual({ ok: true });
      });

      it('concurrent deletePipeline and createRun: either the delete is refused or the run started after it', async () => {
        const others = opts.reopen ? await Promise.all([1, 2].map(() => opts.reopen!())) : [];
        const handles = [store, ...others];
        try {
          for (let i = 0; i < 8; i++) {
            const name = `race${i}`;
            await store.putPipeline(spec(name));
            const [del, created] = await Promise.all([
              handles[i % handles.length].deletePipeline(name),
              handles[(i + 1) % handles.length].createRun(run(name, `rr${i}`)).catch((err: unknown) => {
                // Redis refuses a createRun that meets the delete's lock marker with CONFLICT: a refusal too.
                if (err instanceof Error && /being deleted/.test(err.message)) return { ok: false as const };
                throw err;
              }),
            ]);
            if (del.ok) expect(await store.getPipeline(name)).toBeUndefined();
            else {
              expect(del.active.runId).toBe(`rr${i}`);
              expect(JSON.parse((await store.getPipeline(name))?.json ?? 'null')).toEqual(spec(name));
            }
            // The run may only have been refused because the delete held the lock at that moment.
            if (!created.ok) expect(del.ok).toBe(true);
          }
        } finally {
          for (const h of others) await h.close();
        }
      });

      it('a terminal run with lockHeldUntil keeps the lock; releaseLock frees it only at the version read', async () => {
        const a = run('p', 'r1');
        await store.createRun(a);
        const held = { ...step(a, 'CANCELLED'), lockHeldUntil: T0 + 60_000 };
        expect(await store.casRun(held, 1)).toEqual({ ok: true });
        expect(await store.getActiveRun('p')).toEqual(held);
        expect((await store.createRun(run('p', 'r2', T0 + 2))).ok).toBe(false);
        expect(await store.releaseLock('p', 'r1', 1)).toBe(false); // an old reading of the run
        expect(await store.releaseLock('p', 'other', 2)).toBe(false); // not the run holding it
        expect(await store.releaseLock('q', 'r1', 2)).toBe(false); // another pipeline
        expect(await store.getActiveRun('p')).toEqual(held);
        expect(await store.releaseLock('p', 'r1', 2)).toBe(true);
        expect(await store.getActiveRun('p')).toBeUndefined();
        expect(await store.releaseLock('p', 'r1', 2)).toBe(false);
        expect(await store.createRun(run('p', 'r3', T0 + 3))).toEqual({ ok: true });
      });

      it('an update of a terminal run that drops lockHeldUntil releases the lock it still holds', async () => {
        const a = run('p', 'r1');
        await store.createRun(a);
        const held = { ...step(a, 'CANCELLED'), lockHeldUntil: T0 + 60_000 };
        await store.casRun(held, 1);
        const { lockHeldUntil: _h, ...dropped } = { ...held, version: 3, updatedAt: T0 + 2, reason: 'job gone' };
        expect(await store.casRun(dropped, 2)).toEqual({ ok: true });
        expect(await store.getActiveRun('p')).toBeUndefined();
        expect((await store.listRunEvents('p', { limit: 1 }))[0]).toMatchObject({ from: 'CANCELLED', to: 'CANCELLED' });
      });

      it('lists runs newest first and the transitions as events', async () => {
        const a = run('p', 'r1', T0);
        await store.createRun(a);
        await store.casRun(step(a, 'BLOCKED', T0 + 5), 1);
        const b = run('p', 'r2', T0 + 10);
        await store.createRun(b);
        const bt = step(b, 'TRIGGERING', T0 + 11);
        await store.casRun(bt, 1);
        await store.casRun(step(bt, 'RUNNING', T0 + 12), 2);
        expect((await store.listRuns('p')).map((r) => [r.runId, r.status, r.version])).toEqual([
          ['r2', 'RUNNING', 3],
          ['r1', 'BLOCKED', 2],
        ]);
        expect((await store.listRuns('p', { limit: 1 })).map((r) => r.runId)).toEqual(['r2']);
        expect((await store.listRuns('p', { before: T0 + 10 })).map((r) => r.runId)).toEqual(['r1']);
        expect((await store.listRunEvents('p')).map((e) => [e.runId, e.from, e.to, e.version])).toEqual([
          ['r2', 'TRIGGERING', 'RUNNING', 3],
          ['r2', 'PENDING', 'TRIGGERING', 2],
          ['r2', null, 'PENDING', 1],
          ['r1', 'PENDING', 'BLOCKED', 2],
          ['r1', null, 'PENDING', 1],
        ]);
        expect(await store.listRunEvents('p', { limit: 2, before: T0 + 11 })).toHaveLength(2);
        expect(await store.listRuns('other')).toEqual([]);
      });

      it('concurrent createRun: exactly one winner', async () => {
        const others = opts.reopen ? await Promise.all([1, 2, 3].map(() => opts.reopen!())) : [];
        const handles = [store, ...others];
        try {
          const results = await Promise.all(
            Array.from({ length: 12 }, (_, i) => handles[i % handles.length].createRun(run('p', `c${i}`))),
          );
          expect(results.filter((r) => r.ok)).toHaveLength(1);
          const active = await store.getActiveRun('p');
          for (const r of results) if (!r.ok) expect(r.active?.runId).toBe(active?.runId);
        } finally {
          for (const h of others) await h.close();
        }
      });

      it('concurrent CAS on one version: exactly one winner', async () => {
        const a = run('p', 'r1');
        await store.createRun(a);
        const others = opts.reopen ? await Promise.all([1, 2, 3].map(() => opts.reopen!())) : [];
        const handles = [store, ...others];
        try {
          const targets: RunStatus[] = ['TRIGGERING', 'CANCELLED', 'BLOCKED', 'FAILED', 'TIMED_OUT', 'TRIGGERING'];
          const results = await Promise.all(targets.map((to, i) => handles[i % handles.length].casRun(step(a, to), 1)));
          expect(results.filter((r) => r.ok)).toHaveLength(1);
          expect((await store.getRun('r1'))?.version).toBe(2);
          expect(await store.listRunEvents('p')).toHaveLength(2);
        } finally {
          for (const h of others) await h.close();
        }
      });

      it('version = number of recorded transitions, whatever CAS attempts are made (property)', async () => {
        const statuses = RUN_STATUSES;
        let n = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.record({ to: fc.constantFrom(...statuses), stale: fc.boolean() }), { maxLength: 8 }),
            async (attempts) => {
              const id = `prop${n++}`;
              const a = run(`pp${n}`, id);
              await store.createRun(a);
              let current = a;
              let applied = 0;
              for (const { to, stale } of attempts) {
                const t = transition(current, to, T0 + applied + 1);
                if (!t.ok) continue; // the engine refuses illegal transitions before the store sees them
                const expected = stale ? current.version - 1 : current.version;
                const r = await store.casRun(t.run, expected);
                if (r.ok) {
                  expect(stale).toBe(false);
                  current = t.run;
                  applied++;
                }
              }
              const stored = await store.getRun(id);
              expect(stored?.version).toBe(1 + applied);
              expect((await store.listRunEvents(a.pipeline)).filter((e) => e.runId === id)).toHaveLength(1 + applied);
            },
          ),
          { numRuns: 40 },
        );
      });
    });

    describe('alert claims', () => {
      it('fires on a new or changed fingerprint, and repeats only after repeatAfter', async () => {
        const k: AlertKey = { pipeline: 'p', kind: 'readiness' };
        expect(await store.claimAlert(k, 'A', T0, 1000)).toEqual({ fire: true });
        expect(await store.claimAlert(k, 'A', T0 + 999, 1000)).toEqual({ fire: false, previous: 'A' });
        expect(await store.claimAlert(k, 'A', T0 + 1000, 1000)).toEqual({ fire: true, previous: 'A' });
        expect(await store.claimAlert(k, 'B', T0 + 1001, 1000)).toEqual({ fire: true, previous: 'A' });
        const other: AlertKey = { pipeline: 'other', kind: 'readiness' };
        expect(await store.claimAlert(other, 'B', T0 + 1001, 1000)).toEqual({ fire: true });
      });

      it("keeps a pipeline's readiness and each of its traits apart", async () => {
        const readinessKey: AlertKey = { pipeline: 'p', kind: 'readiness' };
        const a: AlertKey = { pipeline: 'p', kind: 'trait', trait: 'a' };
        const b: AlertKey = { pipeline: 'p', kind: 'trait', trait: 'b' };
        const elsewhere: AlertKey = { pipeline: 'q', kind: 'trait', trait: 'a' };
        // A trait named like the readiness key's suffix is still its own key.
        const lookalike: AlertKey = { pipeline: 'p', kind: 'trait', trait: 'readiness' };
        for (const key of [readinessKey, a, b, elsewhere, lookalike]) {
          expect(await store.claimAlert(key, 'X', T0, 1000)).toEqual({ fire: true });
        }
        expect(await store.claimAlert(a, 'X', T0 + 1, 1000)).toEqual({ fire: false, previous: 'X' });
        expect(await store.claimAlert(readinessKey, 'X', T0 + 1, 1000)).toEqual({ fire: false, previous: 'X' });
      });

      it('repeatAfter 0 sends every time; a suppressed claim does not move the repeat window', async () => {
        const k: AlertKey = { pipeline: 'p', kind: 'trait', trait: 't' };
        expect(await store.claimAlert(k, 'A', T0, 0)).toEqual({ fire: true });
        expect(await store.claimAlert(k, 'A', T0, 0)).toEqual({ fire: true, previous: 'A' });
        expect(await store.claimAlert(k, 'A', T0 + 600, 1000)).toEqual({ fire: false, previous: 'A' });
        // Measured from T0 (the last send), not from T0 + 600 (the suppressed claim).
        expect(await store.claimAlert(k, 'A', T0 + 1000, 1000)).toEqual({ fire: true, previous: 'A' });
      });
    });

    describe('windows, run keys, leases, change feed', () => {
      watchConformance({
        store: () => store,
        ...(opts.reopen ? { reopen: opts.reopen } : {}),
        ...(opts.ownClock ? { ownClock: true } : {}),
        ...(opts.feedSettleMs ? { feedSettleMs: opts.feedSettleMs } : {}),
      });
    });

    describe('retention (prune)', () => {
      retentionConformance(() => store);
    });

    it('ping resolves while open and rejects with STORE_UNAVAILABLE after close', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      store = await opts.open();
    });

    it('close() twice is fine', async () => {
      await store.close();
      await store.close();
      store = await opts.open();
    });
  });
}
