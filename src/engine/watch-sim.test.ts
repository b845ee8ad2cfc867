// A simulated watcher on a fake timeline: it does only what whatIsDue says, applies window events as the store would,
// and is sometimes down. Properties: every window that opened has a record, every record ends in one terminal state,
// no attempt is fired twice, nothing fires outside after…deadline, unless READY, or in shadow mode.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResolvedTrait, TraitResult } from '../core/types.js';
import { type DueAction, whatIsDue } from './due.js';
import { decideReadiness } from './readiness.js';
import { decideRetry, type FailureCategory, type RetryPolicy } from './retry.js';
import { mustCompileSchedule, opensBetween, type ScheduleSpec } from './schedule.js';
import { applyWindowEvent, isWindowTerminal, type WindowEvent, type WindowMode, type WindowRecord } from './window.js';

const MIN = 60_000;
const START = Date.parse('2026-10-24T20:00:00Z'); // 24 h across the Berlin fall-back night
const END = START + 24 * 60 * MIN;
const traits: ResolvedTrait[] = [
  { type: 'a', required: true, config: {}, timeoutSeconds: 10, ttlSeconds: 1800 },
  { type: 'b', required: true, config: {}, timeoutSeconds: 10 },
];
const policy: RetryPolicy = {
  maxAttempts: 3,
  backoffMs: 2 * MIN,
  multiplier: 2,
  maxBackoffMs: 30 * MIN,
  on: ['TRANSIENT', 'TIMEOUT'],
};

const specArb = fc.oneof(
  fc.record({
    cron: fc.constantFrom('0 * * * *', '30 2 * * *', '*/20 * * * *', '0 5 * * *'),
    timezone: fc.constantFrom('Europe/Berlin', 'America/New_York', 'UTC'),
  }),
  fc.record({ everyMs: fc.constantFrom(45 * MIN, 2 * 60 * MIN), timezone: fc.constant('UTC') }),
);

interface Fired {
  key: string;
  attempt: number;
  at: number;
}

describe('simulated watcher', () => {
  it('every window recorded, one terminal state each, never fired twice, never outside the rules', () => {
    fc.assert(
      fc.property(
        specArb,
        fc.constantFrom<ScheduleSpec['catchup']>('skip', 'latest', 'all'),
        fc.constantFrom<WindowMode>('live', 'shadow'),
        fc.option(fc.constantFrom(15 * MIN, 3 * 60 * MIN), { nil: undefined }),
        fc.constantFrom(0.05, 0.5, 0.9),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 200, maxLength: 200 }),
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 24 * 60 }), len: fc.integer({ min: 1, max: 8 * 60 }) }), {
          maxLength: 2,
        }),
        (base, catchup, mode, deadlineMs, passRate, rolls, outages) => {
          const spec: ScheduleSpec = {
            name: 's',
            catchup,
            ...base,
            ...(deadlineMs !== undefined ? { deadline: { kind: 'offset', ms: deadlineMs } } : {}),
          };
          const schedule = mustCompileSchedule(spec);
          let r = 0;
          const roll = () => rolls[r++ % rolls.length] / 1_000_000;
          const down = (t: number) => outages.some((o) => t >= START + o.at * MIN && t < START + (o.at + o.len) * MIN);

          const store = new Map<string, WindowRecord>();
          const results = new Map<string, TraitResult>();
          const fired: Fired[] = [];
          let watchingSince = START;
          let now = START;
          let wasDown = false;
          let firstUp: number | undefined;
          let lastUp = START;
          const apply = (key: string, e: WindowEvent) => {
            const w = store.get(key);
            if (!w) throw new Error(`no record ${key}`);
            const res = applyWindowEvent(w, e, now);
            if (res.kind === 'apply') store.set(key, res.window);
            return res;
          };
          const result = (trait: string, status: 'PASS' | 'FAIL'): TraitResult => {
            const t = traits.find((x) => x.type === trait);
            return {
              pipeline: 'p',
              trait,
              status,
              durationMs: 1,
              evaluatedAt: now,
              ...(t?.ttlSeconds ? { expiresAt: now + t.ttlSeconds * 1000 } : {}),
              ...(status === 'FAIL' ? { reasonCode: 'EVALUATOR_FAIL' as const, reason: 'no' } : {}),
            };
          };

          for (let step = 0; step < 3000 && now < END; step++) {
            if (down(now)) {
              wasDown = true;
              now += MIN;
              continue;
            }
            firstUp ??= now;
            lastUp = now;
            if (wasDown) {
              watchingSince = now; // restarted: everything since the last record is catch-up
              wasDown = false;
            }
            // Sometimes an outside push changes evidence.
            if (roll() < 0.05) results.set('b', result('b', roll() < passRate ? 'PASS' : 'FAIL'));
            const due = whatIsDue({
              pipeline: 'p',
              schedules: [schedule],
              mode,
              records: [...store.values()],
              watchingSince,
              traits,
              rule: { type: 'all-required-pass' },
              results: [...results.values()],
              reevaluateMs: MIN,
              now,
            });
            for (const a of due.actions) act(a);
            const next = due.nextWake?.at ?? END;
            expect(next).toBeGreaterThan(now);
            now = due.actions.length > 0 ? now + 1000 : Math.min(next, now + 5 * MIN);
          }

          function act(a: DueAction): void {
            switch (a.kind) {
              case 'create':
                expect(store.has(a.key)).toBe(false); // one record per window, ever
                store.set(a.key, a.record);
                return;
              case 'gap':
                throw new Error('no gap expected in 30 h');
              case 'open':
              case 'miss':
              case 'retry':
                apply(a.key, a.event);
                return;
              case 'evaluate': {
                for (const t of a.traits) results.set(t, result(t, roll() < passRate ? 'PASS' : 'FAIL'));
                const d = decideReadiness('p', traits, [...results.values()], { type: 'all-required-pass' }, now);
                apply(a.key, {
                  type: 'decided',
                  decision: { outcome: d.outcome, blocking: d.blocking, decidedAt: now },
                  reevaluateMs: MIN,
                  random: roll(),
                });
                return;
              }
              case 'shadow':
                expect(mode).toBe('shadow');
                apply(a.key, { type: 'shadow', decision: a.decision });
                return;
              case 'trigger': {
                expect(mode).toBe('live');
                expect(a.decision.outcome).toBe('READY');
                const res = apply(a.key, {
                  type: 'claim',
                  attempt: a.attempt,
                  runId: `${a.key}/${a.attempt}`,
                  decision: a.decision,
                  runDeadlineAt: now + 20 * MIN,
                });
                if (res.kind !== 'apply') return;
                const w = res.window;
                expect(now).toBeGreaterThanOrEqual(w.afterAt);
                expect(now).toBeLessThan(w.deadlineAt);
                fired.push({ key: a.key, attempt: a.attempt, at: now });
                const x = roll();
                if (x < 0.5) apply(a.key, { type: 'attempt-succeeded', attempt: a.attempt });
                else if (x < 0.7)
                  apply(a.key, { type: 'trigger-accepted', attempt: a.attempt }); // async: the run may hang
                else {
                  const category: FailureCategory = (['TRANSIENT', 'PERMANENT', 'TIMEOUT', 'UNKNOWN'] as const)[
                    Math.floor(roll() * 4)
                  ];
                  apply(a.key, {
                    type: 'attempt-failed',
                    attempt: a.attempt,
                    category,
                    retry: decideRetry(policy, a.attempt, category, now, roll()),
                  });
                }
                return;
              }
              case 'run-overdue':
                apply(a.key, {
                  type: 'attempt-failed',
                  attempt: a.attempt,
                  category: 'TIMEOUT',
                  retry: decideRetry(policy, a.attempt, 'TIMEOUT', now, roll()),
                });
                return;
            }
          }

          // Never two fires of one attempt; a window fires at most maxAttempts times, and only in live mode.
          const ids = fired.map((f) => `${f.key}#${f.attempt}`);
          expect(new Set(ids).size).toBe(ids.length);
          if (mode === 'shadow') expect(fired).toEqual([]);
          for (const w of store.values()) {
            expect(w.attempts.length).toBeLessThanOrEqual(policy.maxAttempts);
            expect(fired.filter((f) => f.key === w.key)).toHaveLength(w.attempts.length);
          }
          // Every window that opened in the simulated time has a record (windows that closed before the first
          // start were nobody's), and every window whose deadline (and run's) has passed is terminal.
          const recorded = new Set([...store.values()].map((w) => w.openAt));

          // (Windows opening while the watcher is down at the very end are recorded when it comes back.)
          for (const t of opensBetween(schedule, firstUp ?? lastUp, lastUp + 1))
            expect(recorded.has(t), String(t)).toBe(true);
          for (const w of store.values()) {
            const cur = w.attempts[w.attempts.length - 1];
            const settledBy = Math.max(w.deadlineAt, cur?.runDeadlineAt ?? 0) + 40 * MIN; // a retry may follow a timeout
            if (settledBy < lastUp) {
              expect(isWindowTerminal(w.state), `${w.key} ${w.state}`).toBe(true);
            }
            if (w.terminal) expect(w.terminal.reason.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
