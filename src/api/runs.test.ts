// One outcome name per RunResult (runtime/run-outcome.ts); the CLI's exit code and the API's status come from its
// tables, and the API's refusals (InterlockError codes) agree with them.
import { describe, expect, it } from 'vitest';
import { exitCodeFor, httpStatusFor } from '../core/errors.js';
import type { RunState } from '../core/types.js';
import {
  type Evaluation,
  RUN_EXIT_CODE,
  RUN_HTTP_STATUS,
  RUN_OUTCOMES,
  type RunResult,
  runOutcome,
} from '../runtime/index.js';
import { runRefusal } from './runs.js';

const run = (status: string) => ({ runId: 'r1', pipeline: 'p', status, version: 1 }) as unknown as RunState;
const evaluation = {
  readiness: { pipeline: 'p', blocking: [], traits: [], outcome: 'NOT_READY' },
  decision: { id: 'd1' },
} as unknown as Evaluation;

const results: RunResult[] = [
  { kind: 'triggered', run: run('COMPLETED'), evaluation },
  { kind: 'trigger-failed', run: run('FAILED'), evaluation },
  { kind: 'blocked', run: run('BLOCKED'), evaluation },
  { kind: 'already-running', active: run('RUNNING') },
  { kind: 'superseded', run: run('CANCELLED'), evaluation },
  { kind: 'superseded-after-trigger', run: run('COMPLETED'), evaluation, outcome: {} as never },
  { kind: 'superseded-after-trigger', run: run('CANCELLED'), evaluation, outcome: {} as never },
  { kind: 'aborted', run: run('FAILED'), evaluation },
];

describe('run outcomes', () => {
  it('every result has an outcome, and every outcome an exit code and an HTTP status', () => {
    expect(new Set(results.map(runOutcome))).toEqual(new Set(RUN_OUTCOMES));
    for (const o of RUN_OUTCOMES) {
      expect(RUN_EXIT_CODE[o], o).toBeTypeOf('number');
      expect(RUN_HTTP_STATUS[o], o).toBeTypeOf('number');
    }
  });

  it('a callback that came first counts as triggered (exit 0); any other end after the trigger exits 3', () => {
    expect(RUN_EXIT_CODE[runOutcome(results[5])]).toBe(0);
    expect(RUN_EXIT_CODE[runOutcome(results[6])]).toBe(3);
  });

  it('a run aborted by shutdown exits 3 and answers 503 (SHUTTING_DOWN)', () => {
    const aborted = results[7];
    expect(RUN_EXIT_CODE[runOutcome(aborted)]).toBe(3);
    expect(RUN_HTTP_STATUS[runOutcome(aborted)]).toBe(503);
  });

  it("the API's refusal of each pre-trigger outcome has the table's status and exit code", () => {
    for (const r of results.filter((x) => ['blocked', 'already-running', 'superseded', 'aborted'].includes(x.kind))) {
      const err = runRefusal(r);
      expect(httpStatusFor(err), r.kind).toBe(RUN_HTTP_STATUS[runOutcome(r)]);
      expect(exitCodeFor(err), r.kind).toBe(RUN_EXIT_CODE[runOutcome(r)]);
    }
  });
});
