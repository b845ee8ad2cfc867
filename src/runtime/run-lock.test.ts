// The run lock in the use-cases, on a real store with a fake clock: a delete racing a run (issue 9 item 19), a held
// lock's expiry for a job that cannot be signalled (item 7), and a stale lock healing (item 18).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../test/support/fake-clock.js';
import { gatePipeline, openGateContext, writeGateProject } from '../../test/support/runtime-context.js';
import type { PipelineSpec, RunState } from '../core/types.js';
import { newRun, transition } from '../engine/run-state.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { cancelRun } from './cancel.js';
import type { Context } from './context.js';
import { runPipeline } from './run.js';
import { touchActiveRun } from './touch.js';
import { unregisterPipeline } from './unregister.js';

const T0 = 1_700_000_000_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A project with no YAML pipelines (they are registered into the store), and an evaluator that passes. */
async function context(
  store = new MemoryStore(),
): Promise<{ ctx: Context; root: string; clock: FakeClock; warnings: string[] }> {
  const root = mkdtempSync(join(tmpdir(), 'interlock-run-lock-'));
  dirs.push(root);
  // Command triggers are registered here as a trusted operator would allow (server.allowCommandRegistration).
  writeGateProject(root, { files: { 'evaluators/pass': '#!/bin/sh\necho \'{"status":"PASS"}\'\n' } });
  const warnings: string[] = [];
  const { ctx, clock } = await openGateContext(root, { store, start: T0, warn: (m) => warnings.push(m) });
  return { ctx, root, clock, warnings };
}

function registered(root: string): PipelineSpec {
  return gatePipeline(root, { type: 'command', command: 'echo $INTERLOCK_RUN_ID >> fired.log' }, { evaluator: 'pass' });
}

const fired = (root: string) =>
  existsSync(join(root, 'fired.log')) ? readFileSync(join(root, 'fired.log'), 'utf8').split('\n').filter(Boolean) : [];

describe('DELETE racing a run (item 19)', () => {
  it('a pipeline deleted after a run read its spec but before it took the lock never triggers', async () => {
    const store = new MemoryStore();
    const { ctx, root } = await context(store);
    await store.putPipeline(registered(root));
    // The delete (another server) lands between the run's first read of the spec and its lock.
    const createRun = store.createRun.bind(store);
    store.createRun = async (run: RunState) => {
      expect(await unregisterPipeline(ctx, 'p')).toMatchObject({ name: 'p' });
      return createRun(run);
    };
    await expect(runPipeline(ctx, 'p', { source: 'test' })).rejects.toMatchObject({ code: 'PIPELINE_NOT_FOUND' });
    expect(fired(root)).toEqual([]);
    const [run] = await store.listRuns('p');
    expect(run?.status).toBe('FAILED');
    expect(await store.getActiveRun('p')).toBeUndefined();
  });

  it('a delete while a run holds the lock is refused (CONFLICT) and the run still triggers', async () => {
    const store = new MemoryStore();
    const { ctx, root } = await context(store);
    await store.putPipeline(registered(root));
    let refused: unknown;
    const r = await runPipeline(ctx, 'p', {
      source: 'test',
      onLocked: () => {
        refused = unregisterPipeline(ctx, 'p').catch((e: unknown) => e);
      },
    });
    expect(await refused).toMatchObject({ code: 'CONFLICT' });
    expect(r.kind).toBe('triggered');
    expect(fired(root)).toHaveLength(1);
    expect(await store.getPipeline('p')).toBeDefined();
  });
});

describe('a job that cannot be signalled keeps the lock until maxRunSeconds (item 7)', () => {
  it('CANCELLED with the reason, the lock held until the deadline, then released on the next touch', async () => {
    const store = new MemoryStore();
    const { ctx, root, clock } = await context(store);
    await store.putPipeline(registered(root));
    const run = newRun({ runId: 'r1', pipeline: 'p', source: 'test', now: T0, deadlineAt: T0 + 60_000 });
    await store.createRun(run);
    const t = transition(run, 'TRIGGERING', T0, { deadlineAt: T0 + 600_000, triggerType: 'command' });
    if (!t.ok) throw new Error(t.reason);
    const trig = { ...t.run, job: { pgid: 4242, host: 'some-other-host', startedAt: T0 } };
    await store.casRun(trig, 1);

    const c = await cancelRun(ctx, 'r1');
    expect(c.run.status).toBe('CANCELLED');
    expect(c.run.reason).toContain('may still be running (pgid 4242 on host some-other-host');
    expect(c.run.lockHeldUntil).toBe(T0 + 600_000);

    clock.set(T0 + 599_999);
    expect((await runPipeline(ctx, 'p', { source: 'test' })).kind).toBe('already-running');
    expect(fired(root)).toEqual([]);

    clock.set(T0 + 600_000);
    const touch = await touchActiveRun(ctx, 'p');
    expect(touch.active).toBeUndefined();
    expect((await store.getRun('r1'))?.lockHeldUntil).toBeUndefined();
    expect((await runPipeline(ctx, 'p', { source: 'test' })).kind).toBe('triggered');
    expect(fired(root)).toHaveLength(1);
  });
});

describe('a stale lock (item 18)', () => {
  it('a lock naming a run that already ended is released atomically with a warning; a held one is not', async () => {
    const store = new MemoryStore();
    const { ctx, root, warnings } = await context(store);
    await store.putPipeline(registered(root));
    const done = await runPipeline(ctx, 'p', { source: 'test' });
    expect(done.kind).toBe('triggered');
    // Corrupt: put the lock back on the COMPLETED run.
    (store as unknown as { active: Map<string, string> }).active.set('p', (done as { run: RunState }).run.runId);
    expect((await touchActiveRun(ctx, 'p')).active).toBeUndefined();
    expect(warnings.join('\n')).toContain('which had already ended COMPLETED; released it');
  });
});

describe('a command that cannot be recorded on its run', () => {
  it('is stopped at once when the write that records it fails: it never runs unrecorded (a cancel could not stop it)', async () => {
    const store = new MemoryStore();
    const { ctx, root, warnings } = await context(store);
    const spec = registered(root);
    spec.trigger = { type: 'command', command: 'sleep 3; echo $INTERLOCK_RUN_ID >> fired.log' };
    await store.putPipeline(spec);
    const casRun = store.casRun.bind(store);
    store.casRun = async (next, expected, opts) => {
      if (next.status === 'TRIGGERING' && next.job !== undefined) throw new Error('store unavailable');
      return casRun(next, expected, opts);
    };
    const r = await runPipeline(ctx, 'p', { source: 'test' });
    expect(r.kind).toBe('trigger-failed');
    expect(fired(root)).toEqual([]);
    const [run] = await store.listRuns('p');
    expect(run?.status).toBe('FAILED');
    expect(warnings.join('\n')).toContain('could not record its command');
  });
});
