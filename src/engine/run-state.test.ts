import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RUN_STATUSES } from '../core/run-status.js';
import type { RunState, RunStatus } from '../core/types.js';
import {
  afterTrigger,
  annotate,
  decideCancel,
  decideCompletion,
  isOverdue,
  isTerminal,
  lockState,
  newRun,
  pendingDeadline,
  TRANSITIONS,
  transition,
} from './run-state.js';

const T0 = 1_700_000_000_000;
const ALL = RUN_STATUSES;
const base = newRun({ runId: 'r', pipeline: 'p', source: 'test', now: T0, deadlineAt: T0 + 1000 });
const at = (status: RunStatus, version = 2): RunState => ({ ...base, status, version });

describe('run state machine', () => {
  it('a new run is PENDING v1', () => {
    expect(base).toMatchObject({ status: 'PENDING', version: 1, createdAt: T0, updatedAt: T0 });
  });

  it('happy paths', () => {
    const trig = transition(base, 'TRIGGERING', T0 + 1);
    expect(trig).toMatchObject({ ok: true, run: { status: 'TRIGGERING', version: 2, triggeredAt: T0 + 1 } });
    if (!trig.ok) return;
    const done = transition(trig.run, 'COMPLETED', T0 + 2, { reason: 'ok' });
    expect(done).toMatchObject({
      ok: true,
      run: { status: 'COMPLETED', version: 3, finishedAt: T0 + 2, reason: 'ok' },
    });
  });

  it('terminal states go nowhere; illegal transitions are refused without change (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL), fc.constantFrom(...ALL), (from, to) => {
        const r = at(from);
        const t = transition(r, to, T0 + 5);
        expect(t.ok).toBe(TRANSITIONS[from].includes(to));
        if (isTerminal(from)) expect(t.ok).toBe(false);
        if (t.ok) expect(t.run.version).toBe(r.version + 1);
        else expect(t.reason).toContain(from);
      }),
    );
  });

  it('a run can only be triggered from PENDING', () => {
    for (const s of ALL) expect(transition(at(s), 'TRIGGERING', T0).ok).toBe(s === 'PENDING');
  });

  it('overdue: non-terminal at or past the deadline', () => {
    expect(isOverdue(base, T0 + 999)).toBe(false);
    expect(isOverdue(base, T0 + 1000)).toBe(true);
    expect(isOverdue(at('COMPLETED'), T0 + 5000)).toBe(false);
  });

  it('pending deadline covers every evaluator timing out one after another', () => {
    const traits = [1, 2, 3].map((n) => ({ type: `t${n}`, required: true, config: {}, timeoutSeconds: n }));
    expect(pendingDeadline(traits, T0)).toBe(T0 + 6000 + 60_000);
  });

  it('after a trigger: sync success COMPLETED, async success RUNNING, failure FAILED', () => {
    expect(afterTrigger({ type: 'command', ok: true, async: false, durationMs: 1 }).to).toBe('COMPLETED');
    expect(afterTrigger({ type: 'http', ok: true, async: true, durationMs: 1 }).to).toBe('RUNNING');
    expect(afterTrigger({ type: 'http', ok: false, async: true, durationMs: 1, error: 'HTTP 500' })).toEqual({
      to: 'FAILED',
      reason: 'trigger failed: HTTP 500',
    });
  });

  it('completion is idempotent and refuses conflicts', () => {
    expect(decideCompletion(at('RUNNING'), 'success')).toEqual({ kind: 'apply', to: 'COMPLETED' });
    expect(decideCompletion(at('TRIGGERING'), 'failed')).toEqual({ kind: 'apply', to: 'FAILED' });
    expect(decideCompletion(at('COMPLETED'), 'success').kind).toBe('noop');
    expect(decideCompletion(at('COMPLETED'), 'failed').kind).toBe('conflict');
    expect(decideCompletion(at('PENDING'), 'success').kind).toBe('conflict');
    expect(decideCompletion(at('TIMED_OUT'), 'success').kind).toBe('conflict');
  });

  it('a completion callback on a TRIGGERING command run is refused: the exit status decides (issue 9 item 9)', () => {
    const cmd = { ...at('TRIGGERING'), triggerType: 'command' as const };
    expect(decideCompletion(cmd, 'success')).toMatchObject({ kind: 'conflict' });
    expect(decideCompletion(cmd, 'failed')).toMatchObject({ kind: 'conflict' });
    // An old record without triggerType but with its recorded process is a command run too.
    const withJob = { ...at('TRIGGERING'), job: { pgid: 42, host: 'h', startedAt: T0 } };
    expect(decideCompletion(withJob, 'success').kind).toBe('conflict');
    // http runs are still completed by callback, TRIGGERING (callback before the 2xx) or RUNNING.
    expect(decideCompletion({ ...at('TRIGGERING'), triggerType: 'http' }, 'success').kind).toBe('apply');
  });

  it('annotate keeps the status, counts a version, and can drop a held lock', () => {
    const r = { ...at('CANCELLED'), lockHeldUntil: T0 + 5 };
    const a = annotate(r, T0 + 1, { lockHeldUntil: null, reason: 'job gone' });
    expect([a.status, a.version, a.updatedAt, a.reason, 'lockHeldUntil' in a]).toEqual([
      'CANCELLED',
      r.version + 1,
      T0 + 1,
      'job gone',
      false,
    ]);
  });

  it('lockState: active, held until lockHeldUntil, then expired; a terminal run without a hold is stale', () => {
    expect(lockState(at('RUNNING'), T0)).toBe('active');
    expect(lockState(at('COMPLETED'), T0)).toBe('stale');
    expect(lockState({ ...at('CANCELLED'), lockHeldUntil: T0 + 10 }, T0 + 9)).toBe('held');
    expect(lockState({ ...at('CANCELLED'), lockHeldUntil: T0 + 10 }, T0 + 10)).toBe('hold-expired');
  });

  it('cancel', () => {
    expect(decideCancel(at('RUNNING'))).toEqual({ kind: 'apply', to: 'CANCELLED' });
    expect(decideCancel(at('PENDING'))).toEqual({ kind: 'apply', to: 'CANCELLED' });
    expect(decideCancel(at('CANCELLED')).kind).toBe('noop');
    expect(decideCancel(at('COMPLETED')).kind).toBe('conflict');
  });
});
