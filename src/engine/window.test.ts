import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BlockingTrait } from '../core/types.js';
import { decideRetry, type FailureCategory, type RetryPolicy } from './retry.js';
import {
  applyWindowEvent,
  canWindowTransition,
  isWindowTerminal,
  newWindow,
  WINDOW_STATES,
  WINDOW_TERMINAL_STATES,
  WINDOW_TRANSITIONS,
  type WindowDecision,
  type WindowEvent,
  type WindowMode,
  type WindowRecord,
} from './window.js';

const OPEN_AT = 1_000_000;
const times = {
  schedule: 'daily',
  openAt: OPEN_AT,
  afterAt: OPEN_AT + 100,
  deadlineAt: OPEN_AT + 10_000,
  date: '2026-01-01',
};
const fresh = (mode: WindowMode = 'live') =>
  newWindow({ key: 'p@daily@1970-01-01T00:16:40Z', pipeline: 'p', times, mode, now: OPEN_AT });
const READY: WindowDecision = { outcome: 'READY', blocking: [], decidedAt: OPEN_AT + 200, decisionId: 'd1' };
const block = (trait: string, state: 'FAIL' | 'STALE' = 'FAIL'): BlockingTrait => ({
  trait,
  state,
  reasonCode: state === 'FAIL' ? 'EVALUATOR_FAIL' : 'STALE',
  reason: state === 'FAIL' ? 'rows < 1000' : 'no result yet; evaluate first',
});
const notReady = (at: number, ...b: BlockingTrait[]): WindowDecision => ({
  outcome: 'NOT_READY',
  blocking: b,
  decidedAt: at,
});
const policy: RetryPolicy = {
  maxAttempts: 3,
  backoffMs: 1000,
  multiplier: 2,
  maxBackoffMs: 5000,
  on: ['TRANSIENT', 'TIMEOUT'],
};

/** Applies events in order, each must apply; returns the final record. */
function run(w: WindowRecord, steps: Array<[WindowEvent, number]>): WindowRecord {
  let cur = w;
  for (const [e, now] of steps) {
    const r = applyWindowEvent(cur, e, now);
    if (r.kind !== 'apply') throw new Error(`${e.type} at ${now}: ${r.kind} ${r.reason}`);
    cur = r.window;
  }
  return cur;
}
const openW = () => run(fresh(), [[{ type: 'after-reached' }, OPEN_AT + 100]]);
const claim = (attempt: number, runId: string, decision = READY): WindowEvent => ({
  type: 'claim',
  attempt,
  runId,
  decision,
});
const failed = (attempt: number, category: FailureCategory, at: number, random = 0.5): WindowEvent => ({
  type: 'attempt-failed',
  attempt,
  category,
  error: `boom ${attempt}`,
  retry: decideRetry(policy, attempt, category, at, random),
});

describe('window transitions as data', () => {
  it('terminal states lead nowhere; every state is listed', () => {
    expect(Object.keys(WINDOW_TRANSITIONS).sort()).toEqual([...WINDOW_STATES].sort());
    for (const s of WINDOW_TERMINAL_STATES) expect(WINDOW_TRANSITIONS[s]).toEqual([]);
    expect(canWindowTransition('OPEN', 'TRIGGERING')).toBe(true);
    expect(canWindowTransition('PENDING', 'TRIGGERING')).toBe(false);
    expect(canWindowTransition('COMPLETED', 'FAILED')).toBe(false);
  });

  it('a window opens at `after`, not before, and not past its deadline', () => {
    expect(applyWindowEvent(fresh(), { type: 'after-reached' }, OPEN_AT + 99).kind).toBe('conflict');
    expect(applyWindowEvent(fresh(), { type: 'after-reached' }, times.deadlineAt).kind).toBe('conflict');
    const w = openW();
    expect([w.state, w.version]).toEqual(['OPEN', 2]);
    expect(applyWindowEvent(w, { type: 'after-reached' }, OPEN_AT + 200).kind).toBe('noop');
  });

  it('the happy path: OPEN → TRIGGERING → COMPLETED, with the run key of attempt 1', () => {
    const w = run(openW(), [
      [claim(1, 'r1'), OPEN_AT + 300],
      [{ type: 'attempt-succeeded', attempt: 1 }, OPEN_AT + 400],
    ]);
    expect(w.state).toBe('COMPLETED');
    expect(w.attempts).toEqual([
      {
        attempt: 1,
        runId: 'r1',
        runKey: 'p@daily@1970-01-01T00:16:40Z#1',
        claimedAt: OPEN_AT + 300,
        finishedAt: OPEN_AT + 400,
        result: 'COMPLETED',
      },
    ]);
    expect(w.terminal).toEqual({
      at: OPEN_AT + 400,
      reason: 'attempt 1 succeeded (run r1)',
      detail: { state: 'COMPLETED', attempt: 1, runId: 'r1' },
    });
    expect(applyWindowEvent(w, { type: 'attempt-succeeded', attempt: 1 }, OPEN_AT + 500).kind).toBe('noop');
    expect(applyWindowEvent(w, { type: 'deadline' }, times.deadlineAt).kind).toBe('noop');
  });

  it('async: TRIGGERING → RUNNING → COMPLETED', () => {
    const w = run(openW(), [
      [claim(1, 'r1'), OPEN_AT + 300],
      [{ type: 'trigger-accepted', attempt: 1 }, OPEN_AT + 301],
      [{ type: 'attempt-succeeded', attempt: 1 }, OPEN_AT + 9_999_999],
    ]);
    expect(w.state).toBe('COMPLETED');
  });

  it('a claim needs a READY decision, live mode, the next attempt number, after ≤ now < deadline', () => {
    const w = openW();
    expect(applyWindowEvent(w, claim(1, 'r1', notReady(OPEN_AT + 200, block('a'))), OPEN_AT + 300)).toMatchObject({
      kind: 'conflict',
      reason: expect.stringMatching(/not READY/),
    });
    expect(applyWindowEvent(w, claim(2, 'r1'), OPEN_AT + 300).kind).toBe('conflict');
    expect(applyWindowEvent(w, claim(1, 'r1'), times.deadlineAt).kind).toBe('conflict');
    expect(applyWindowEvent(fresh(), claim(1, 'r1'), OPEN_AT + 300).kind).toBe('conflict'); // PENDING
    const shadow = run(fresh('shadow'), [[{ type: 'after-reached' }, OPEN_AT + 100]]);
    expect(applyWindowEvent(shadow, claim(1, 'r1'), OPEN_AT + 300).kind).toBe('conflict');
  });

  it('a second claim of the same attempt is refused (another replica), the same claim again is a no-op', () => {
    const w = run(openW(), [[claim(1, 'r1'), OPEN_AT + 300]]);
    expect(applyWindowEvent(w, claim(1, 'r2'), OPEN_AT + 301).kind).toBe('conflict');
    expect(applyWindowEvent(w, claim(2, 'r2'), OPEN_AT + 301).kind).toBe('conflict');
    expect(applyWindowEvent(w, claim(1, 'r1'), OPEN_AT + 301).kind).toBe('noop');
  });

  it('a retryable failure waits, re-decides, and claims attempt 2 under a new run key', () => {
    const w1 = run(openW(), [
      [claim(1, 'r1'), OPEN_AT + 300],
      [failed(1, 'TRANSIENT', OPEN_AT + 400), OPEN_AT + 400],
    ]);
    expect([w1.state, w1.retryAt]).toEqual(['RETRY_WAIT', OPEN_AT + 1400]);
    expect(applyWindowEvent(w1, { type: 'retry-due' }, OPEN_AT + 1399).kind).toBe('conflict');
    const w2 = run(w1, [
      [{ type: 'retry-due' }, OPEN_AT + 1400],
      [claim(2, 'r2'), OPEN_AT + 1500],
      [{ type: 'attempt-succeeded', attempt: 2 }, OPEN_AT + 1600],
    ]);
    expect(w2.state).toBe('COMPLETED');
    expect(w2.attempts.map((a) => [a.attempt, a.runKey, a.result])).toEqual([
      [1, 'p@daily@1970-01-01T00:16:40Z#1', 'FAILED'],
      [2, 'p@daily@1970-01-01T00:16:40Z#2', 'COMPLETED'],
    ]);
    expect(w2.retryAt).toBeUndefined();
  });

  it('FAILED: permanent, UNKNOWN (never retried) and attempts exhausted, each with its cause', () => {
    const perm = run(openW(), [
      [claim(1, 'r1'), OPEN_AT + 300],
      [failed(1, 'PERMANENT', OPEN_AT + 400), OPEN_AT + 400],
    ]);
    expect(perm.terminal?.detail).toMatchObject({ state: 'FAILED', cause: 'not-retryable', category: 'PERMANENT' });
    const unknown = run(openW(), [
      [claim(1, 'r1'), OPEN_AT + 300],
      [{ type: 'trigger-accepted', attempt: 1 }, OPEN_AT + 301],
      [failed(1, 'UNKNOWN', OPEN_AT + 400), OPEN_AT + 400],
    ]);
    expect(unknown.state).toBe('FAILED');
    expect(unknown.terminal?.detail).toMatchObject({ cause: 'unknown-outcome', category: 'UNKNOWN' });
    expect(unknown.terminal?.reason).toMatch(/UNKNOWN.*no retry/);
    let w = openW();
    let t = OPEN_AT + 300;
    for (let a = 1; a <= 3; a++) {
      w = run(w, [
        [claim(a, `r${a}`), t],
        [failed(a, 'TIMEOUT', t + 1), t + 1],
      ]);
      if (a < 3) w = run(w, [[{ type: 'retry-due' }, w.retryAt as number]]);
      t = (w.retryAt ?? t) + 10;
    }
    expect(w.state).toBe('FAILED');
    expect(w.terminal?.detail).toMatchObject({ cause: 'attempts-exhausted', attempt: 3 });
    expect(w.terminal?.reason).toMatch(/attempts exhausted \(3 of 3\)/);
  });

  it('a retry that would land after the deadline ends the window MISSED: retries exhausted', () => {
    const w = run(openW(), [
      [claim(1, 'r1'), times.deadlineAt - 500],
      [failed(1, 'TRANSIENT', times.deadlineAt - 400), times.deadlineAt - 400],
    ]);
    expect(w.state).toBe('MISSED');
    expect(w.terminal?.detail).toEqual({
      state: 'MISSED',
      cause: 'retries-exhausted',
      attempts: 1,
      lastError: 'boom 1',
    });
  });

  it('MISSED says why: never evaluated, blocking traits of the last decision, READY but not triggered, retrying', () => {
    const never = run(fresh(), [[{ type: 'deadline' }, times.deadlineAt]]);
    expect(never.terminal?.detail).toEqual({ state: 'MISSED', cause: 'never-evaluated' });
    expect(never.terminal?.reason).toBe('deadline passed and the window was never evaluated');

    const blocked = run(openW(), [
      [
        {
          type: 'decided',
          decision: notReady(OPEN_AT + 200, block('upstream-dependency'), block('row-count', 'STALE')),
          reevaluateMs: 60_000,
          random: 0.5,
        },
        OPEN_AT + 200,
      ],
      [{ type: 'deadline' }, times.deadlineAt],
    ]);
    expect(blocked.terminal?.detail).toMatchObject({ state: 'MISSED', cause: 'blocked' });
    expect(blocked.terminal?.reason).toMatch(/blocked by upstream-dependency \(FAIL: rows < 1000\), row-count \(STALE/);

    const ready = run(openW(), [
      [{ type: 'decided', decision: READY, reevaluateMs: 60_000, random: 0.5 }, OPEN_AT + 200],
      [{ type: 'deadline' }, times.deadlineAt],
    ]);
    expect(ready.terminal?.detail).toMatchObject({ cause: 'ready-not-triggered', decisionId: 'd1' });

    const waiting = run(openW(), [
      [claim(1, 'r1'), OPEN_AT + 300],
      [failed(1, 'TRANSIENT', OPEN_AT + 400), OPEN_AT + 400],
      [{ type: 'deadline' }, times.deadlineAt],
    ]);
    expect(waiting.terminal?.detail).toMatchObject({ cause: 'retries-exhausted', attempts: 1 });

    // After a retry came due, a newer NOT_READY decision is the better explanation.
    const reblocked = run(openW(), [
      [claim(1, 'r1'), OPEN_AT + 300],
      [failed(1, 'TRANSIENT', OPEN_AT + 400), OPEN_AT + 400],
      [{ type: 'retry-due' }, OPEN_AT + 1400],
      [
        { type: 'decided', decision: notReady(OPEN_AT + 1500, block('a')), reevaluateMs: 1000, random: 0.5 },
        OPEN_AT + 1500,
      ],
      [{ type: 'deadline' }, times.deadlineAt],
    ]);
    expect(reblocked.terminal?.detail).toMatchObject({ cause: 'blocked' });

    expect(applyWindowEvent(openW(), { type: 'deadline' }, times.deadlineAt - 1).kind).toBe('conflict');
    const inFlight = run(openW(), [[claim(1, 'r1'), OPEN_AT + 300]]);
    expect(applyWindowEvent(inFlight, { type: 'deadline' }, times.deadlineAt).kind).toBe('noop');
  });

  it('decisions drive the watch backoff: unchanged decisions double the interval, a change resets it', () => {
    const d = (at: number, ...b: BlockingTrait[]): WindowEvent => ({
      type: 'decided',
      decision: notReady(at, ...b),
      reevaluateMs: 1000,
      random: 0.5,
    });
    let w = run(openW(), [[d(OPEN_AT + 200, block('a')), OPEN_AT + 200]]);
    expect([w.unchanged, w.nextEvaluationAt]).toEqual([0, OPEN_AT + 1200]);
    w = run(w, [[d(OPEN_AT + 1200, block('a')), OPEN_AT + 1200]]);
    expect([w.unchanged, w.nextEvaluationAt]).toEqual([1, OPEN_AT + 3200]);
    w = run(w, [[d(OPEN_AT + 3200, block('a')), OPEN_AT + 3200]]);
    expect([w.unchanged, w.nextEvaluationAt]).toEqual([2, OPEN_AT + 7200]);
    w = run(w, [[d(OPEN_AT + 7200, block('a', 'STALE')), OPEN_AT + 7200]]);
    expect([w.unchanged, w.nextEvaluationAt]).toEqual([0, OPEN_AT + 8200]);
  });

  it('shadow mode records SHADOW where it would have triggered, with no attempt', () => {
    const w = run(fresh('shadow'), [
      [{ type: 'after-reached' }, OPEN_AT + 100],
      [{ type: 'shadow', decision: READY }, OPEN_AT + 200],
    ]);
    expect([w.state, w.attempts.length, w.terminal?.detail]).toEqual([
      'SHADOW',
      0,
      { state: 'SHADOW', decisionId: 'd1' },
    ]);
    expect(applyWindowEvent(openW(), { type: 'shadow', decision: READY }, OPEN_AT + 200).kind).toBe('conflict');
  });

  it('catch-up can skip a PENDING window only; records can be created terminal with a reason', () => {
    const s = run(fresh(), [[{ type: 'skip', policy: 'latest', supersededBy: 'p@daily@x' }, OPEN_AT + 1]]);
    expect(s.terminal?.detail).toEqual({ state: 'SKIPPED', policy: 'latest', supersededBy: 'p@daily@x' });
    expect(applyWindowEvent(openW(), { type: 'skip', policy: 'skip' }, OPEN_AT + 200).kind).toBe('conflict');
    const ex = newWindow({
      key: 'k',
      pipeline: 'p',
      times,
      mode: 'live',
      now: 5,
      terminal: {
        reason: 'excluded: saturday',
        detail: { state: 'EXCLUDED', match: { rule: 'day', value: 'saturday', reason: 'saturday' } },
      },
    });
    expect([ex.state, ex.terminal?.at, ex.version]).toEqual(['EXCLUDED', 5, 1]);
    expect(applyWindowEvent(ex, { type: 'after-reached' }, OPEN_AT + 200).kind).toBe('noop');
    expect(applyWindowEvent(ex, claim(1, 'r'), OPEN_AT + 200).kind).toBe('conflict');
  });
});

// ---------------------------------------------------------------- properties

const decisionArb = fc.oneof(
  fc.constant<WindowDecision>(READY),
  fc.constantFrom('a', 'b').map((t) => notReady(0, block(t))),
);
const categoryArb = fc.constantFrom<FailureCategory>('TRANSIENT', 'PERMANENT', 'TIMEOUT', 'UNKNOWN');
/** An event generator that reads the current record, so sequences mostly make progress (plus noise). */
const eventArb = fc.record({
  pick: fc.integer({ min: 0, max: 9 }),
  attemptDelta: fc.integer({ min: -1, max: 1 }),
  runId: fc.constantFrom('r1', 'r2', 'r3', 'r4'),
  decision: decisionArb,
  category: categoryArb,
  random: fc.double({ min: 0, max: 1, noNaN: true }),
  dt: fc.integer({ min: 0, max: 3000 }),
});
type Gen = typeof eventArb extends fc.Arbitrary<infer X> ? X : never;

function eventFrom(w: WindowRecord, g: Gen, now: number): WindowEvent {
  const next = w.attempts.length + 1 + g.attemptDelta;
  const cur = Math.max(1, w.attempts.length + g.attemptDelta);
  switch (g.pick) {
    case 0:
      return { type: 'after-reached' };
    case 1:
      return { type: 'decided', decision: { ...g.decision, decidedAt: now }, reevaluateMs: 500, random: g.random };
    case 2:
    case 3:
      return { type: 'claim', attempt: Math.max(1, next), runId: g.runId, decision: g.decision };
    case 4:
      return { type: 'trigger-accepted', attempt: cur };
    case 5:
      return { type: 'attempt-succeeded', attempt: cur };
    case 6:
      return {
        type: 'attempt-failed',
        attempt: cur,
        category: g.category,
        retry: decideRetry(policy, cur, g.category, now, g.random),
      };
    case 7:
      return { type: 'retry-due' };
    case 8:
      return { type: 'deadline' };
    default:
      return { type: 'shadow', decision: g.decision };
  }
}

function checkInvariants(w: WindowRecord, applies: number): void {
  expect(w.version).toBe(1 + applies);
  expect(WINDOW_STATES).toContain(w.state);
  // A terminal state and its reason come together, and match.
  expect(isWindowTerminal(w.state)).toBe(w.terminal !== undefined);
  if (w.terminal) {
    expect(w.terminal.detail.state).toBe(w.state);
    expect(w.terminal.reason.length).toBeGreaterThan(0);
  }
  // Attempts: 1..n, one run (and run key) each, claimed within after…deadline, only the last one unfinished.
  expect(w.attempts.map((a) => a.attempt)).toEqual(w.attempts.map((_, i) => i + 1));
  expect(new Set(w.attempts.map((a) => a.runId)).size).toBe(w.attempts.length);
  expect(new Set(w.attempts.map((a) => a.runKey)).size).toBe(w.attempts.length);
  for (const a of w.attempts) {
    expect(a.claimedAt).toBeGreaterThanOrEqual(w.afterAt);
    expect(a.claimedAt).toBeLessThan(w.deadlineAt);
  }
  for (const a of w.attempts.slice(0, -1)) expect(a.result).toBe('FAILED');
  if (w.state === 'COMPLETED') expect(w.attempts.filter((a) => a.result === 'COMPLETED')).toHaveLength(1);
  if (w.state === 'SHADOW' || w.mode === 'shadow') expect(w.attempts).toHaveLength(0);
  if (w.state === 'RETRY_WAIT') expect(w.retryAt).toBeLessThan(w.deadlineAt);
}

describe('window properties', () => {
  it('every window reaches exactly one terminal state, and keeps it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<WindowMode>('live', 'shadow'),
        fc.array(eventArb, { maxLength: 40 }),
        (mode, gens) => {
          let w = fresh(mode);
          let now = OPEN_AT;
          let applies = 0;
          let terminalAt: WindowRecord | undefined;
          for (const g of gens) {
            now += g.dt;
            const r = applyWindowEvent(w, eventFrom(w, g, now), now);
            if (r.kind === 'apply') {
              expect(canWindowTransition(r.from, r.to) || r.from === r.to).toBe(true);
              expect(terminalAt).toBeUndefined(); // nothing applies to a terminal window
              w = r.window;
              applies++;
            }
            checkInvariants(w, applies);
            if (isWindowTerminal(w.state)) terminalAt ??= w;
          }
          // Drive to the end as the watcher's sweep would: an in-flight run times out, then the deadline passes.
          for (let i = 0; i < 4 && !isWindowTerminal(w.state); i++) {
            const t = Math.max(now, w.deadlineAt);
            const cur = w.attempts.length;
            const e: WindowEvent =
              w.state === 'TRIGGERING' || w.state === 'RUNNING'
                ? {
                    type: 'attempt-failed',
                    attempt: cur,
                    category: 'TIMEOUT',
                    retry: decideRetry(policy, cur, 'TIMEOUT', t, 0.5),
                  }
                : { type: 'deadline' };
            const r = applyWindowEvent(w, e, t);
            expect(r.kind).toBe('apply');
            if (r.kind === 'apply') w = r.window;
            applies++;
            checkInvariants(w, applies);
          }
          expect(isWindowTerminal(w.state)).toBe(true);
          if (terminalAt) expect(w).toEqual(terminalAt);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never two runs for one key: replicas racing with stale copies claim each attempt at most once', () => {
    // A shared record (the store) and replicas holding copies read at different moments. Each acts on its copy; the
    // store applies the event to the current record atomically. With or without the version check (CAS), no
    // attempt is claimed twice and every fired run key is distinct.
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(
          fc.record({
            replica: fc.integer({ min: 0, max: 2 }),
            refresh: fc.boolean(),
            action: fc.constantFrom('claim', 'fail', 'succeed', 'retry', 'decide'),
            random: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          { maxLength: 60 },
        ),
        (cas, steps) => {
          let store = openW();
          const copies = [store, store, store];
          const fired: string[] = [];
          let now = OPEN_AT + 100;
          let n = 0;
          for (const s of steps) {
            now += 300;
            if (s.refresh) copies[s.replica] = store;
            const mine = copies[s.replica];
            const attempt = mine.attempts.length;
            const event: WindowEvent =
              s.action === 'claim'
                ? { type: 'claim', attempt: attempt + 1, runId: `run-${++n}`, decision: READY }
                : s.action === 'fail'
                  ? {
                      type: 'attempt-failed',
                      attempt,
                      category: 'TRANSIENT',
                      retry: decideRetry(policy, attempt, 'TRANSIENT', now, s.random),
                    }
                  : s.action === 'succeed'
                    ? { type: 'attempt-succeeded', attempt }
                    : s.action === 'retry'
                      ? { type: 'retry-due' }
                      : { type: 'decided', decision: READY, reevaluateMs: 500, random: s.random };
            if (cas && mine.version !== store.version) continue; // compare-and-swap refused
            const r = applyWindowEvent(store, event, now);
            if (r.kind !== 'apply') continue;
            if (event.type === 'claim') fired.push(r.window.attempts[r.window.attempts.length - 1].runKey);
            store = r.window;
            copies[s.replica] = store;
          }
          expect(new Set(fired).size).toBe(fired.length);
          expect(fired.length).toBe(store.attempts.length);
          expect(fired.length).toBeLessThanOrEqual(policy.maxAttempts);
          // One success at most, and then nothing more fires.
          expect(store.attempts.filter((a) => a.result === 'COMPLETED').length).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
