// Retention as a use-case (pruneHistory: the project's `retention`, batches, dry runs) and in the watcher (the leader
// prunes on its first sweep), on the memory store with the fake clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/support/poll.js';
import { openGateContext, writeGateProject } from '../../test/support/runtime-context.js';
import type { DecisionRecord } from '../core/types.js';
import { newRun, transition } from '../engine/run-state.js';
import type { Context } from './context.js';
import { pruneHistory, retentionPolicy } from './retention.js';
import { Watcher } from './watcher/watcher.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const dirs: string[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const decision = (pipeline: string, id: string, decidedAt: number): DecisionRecord => ({
  id,
  pipeline,
  source: 'test',
  rule: { type: 'all-required-pass' },
  outcome: 'NOT_READY',
  traits: [{ trait: 'gate', required: true, status: 'FAIL' }],
  blocking: [],
  decidedAt,
});

async function setup(config: string, pipelineYaml = '') {
  const root = mkdtempSync(join(tmpdir(), 'interlock-retention-'));
  dirs.push(root);
  writeGateProject(root, {
    config,
    trait: 'gate',
    files: {
      'evaluators/gate': '#!/bin/sh\necho \'{"status":"FAIL","reason":"shut"}\'\n',
      'pipelines/p.yaml': `name: p\narchetype: gate\ntraits:\n  gate:\n    evaluator: gate\n${pipelineYaml}`,
    },
  });
  const g = await openGateContext(root, { start: T0 });
  closers.push(() => g.ctx.close());
  return g;
}

async function oldHistory(ctx: Context, n: number) {
  for (let i = 0; i < n; i++) {
    await ctx.store.saveEvaluation({
      results: [],
      readiness: {
        pipeline: 'p',
        rule: { type: 'all-required-pass' },
        outcome: 'NOT_READY',
        traits: [],
        blocking: [],
        decidedAt: T0 + i,
      },
      decision: decision('p', `d${i}`, T0 + i),
    });
  }
  const run = newRun({ runId: 'r1', pipeline: 'p', source: 'cli', now: T0, deadlineAt: T0 + DAY });
  await ctx.store.createRun(run);
  const ended = transition(run, 'BLOCKED', T0 + 1);
  if (!ended.ok) throw new Error(ended.reason);
  await ctx.store.casRun(ended.run, 1);
}

describe('pruneHistory', () => {
  it('uses interlock.yaml retention (defaults 30d / 90d / 90d) and names every pipeline of the project', async () => {
    const { ctx } = await setup('provider: memory\n');
    expect(retentionPolicy(ctx)).toEqual({ decisionsMs: 30 * DAY, runsMs: 90 * DAY, windowsMs: 90 * DAY });
    const custom = await setup('provider: memory\nretention:\n  decisions: 1d\n  runs: 2d\n  windows: 36h\n');
    expect(retentionPolicy(custom.ctx)).toEqual({ decisionsMs: DAY, runsMs: 2 * DAY, windowsMs: 1.5 * DAY });
    const r = await pruneHistory(custom.ctx, { dryRun: true });
    expect(r.pipelines).toEqual(['p']);
    expect(r.cutoffs.decisions).toBe(T0 - DAY);
  });

  it('a dry run counts and deletes nothing; a prune deletes in batches until nothing is left, or stops at maxBatches', async () => {
    const { ctx, clock } = await setup('provider: memory\nretention:\n  decisions: 1d\n  runs: 1d\n');
    await oldHistory(ctx, 7);
    clock.set(T0 + 3 * DAY);
    const dry = await pruneHistory(ctx, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, decisions: 6, runs: 1, runEvents: 2 });
    expect(await ctx.store.listDecisions('p')).toHaveLength(7);

    const capped = await pruneHistory(ctx, { batch: 2, maxBatches: 2 });
    expect(capped).toMatchObject({ decisions: 4, batches: 2, more: true });
    const rest = await pruneHistory(ctx, { batch: 2 });
    expect(rest).toMatchObject({ decisions: 2, runs: 0, more: false });
    expect((await ctx.store.listDecisions('p')).map((d) => d.id)).toEqual(['d6']);
    expect(await ctx.store.getRun('r1')).toBeUndefined();
  });

  it('records younger than the retention stay', async () => {
    const { ctx, clock } = await setup('provider: memory\n');
    await oldHistory(ctx, 3);
    clock.set(T0 + 29 * DAY);
    expect(await pruneHistory(ctx)).toMatchObject({ decisions: 0, runs: 0, windows: 0 });
    expect(await ctx.store.listDecisions('p')).toHaveLength(3);
  });
});

describe('the watcher prunes', () => {
  it('the leader prunes on its first sweep, with no command run', async () => {
    const { ctx, clock, log } = await setup(
      'provider: memory\nretention:\n  decisions: 1d\n  runs: 1d\nwatcher:\n  sweep: 10s\n',
      'schedules:\n  - cron: "0 0 1 1 *"\n',
    );
    await oldHistory(ctx, 4);
    clock.set(T0 + 3 * DAY);
    const watcher = new Watcher(ctx, { holder: 'A', random: () => 0.5 });
    closers.unshift(() => watcher.stop());
    await watcher.start();
    await clock.advanceAsync(10_000);
    expect(await until(async () => (await ctx.store.listDecisions('p')).length === 1, 5000)).toBe(true);
    expect(await ctx.store.getRun('r1')).toBeUndefined();
    expect(log.messages('info').some((l) => /retention pruned 3 decisions, 0 windows, 1 runs/.test(l))).toBe(true);
  });
});
