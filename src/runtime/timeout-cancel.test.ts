// A native run past maxRunSeconds is TIMED_OUT and its platform job is cancelled, best effort: the timeout never
// waits on the platform; the run's reason says whether the platform confirmed the cancel or why it failed. Glue
// against the local AWS mock (SigV4 checked); fake clock, memory store, a real evaluator script.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AwsMock, awsTestEnv, startAwsMock } from '../../test/support/aws-mock.js';
import { openGateContext, recordAlerts, writeGateProject } from '../../test/support/runtime-context.js';
import type { RunState } from '../core/types.js';
import { runPipeline } from './run.js';
import { touchActiveRun } from './touch.js';

const T0 = Date.parse('2026-12-01T04:00:05Z');
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(() => {
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const m = await startAwsMock({ glueJobs: ['my-etl-job'] });
  cleanups.push(() => m.close());
  const root = mkdtempSync(join(tmpdir(), 'interlock-timeout-cancel-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  writeGateProject(root, { files: { 'evaluators/gate': `#!/bin/sh\necho '{"status":"PASS"}'\n` } });
  mkdirSync(join(root, 'pipelines'));
  writeFileSync(
    join(root, 'pipelines', 'p.yaml'),
    [
      'name: p',
      'archetype: gate',
      'traits: { a: { evaluator: gate } }',
      'trigger:',
      '  type: glue',
      '  job: my-etl-job',
      `  endpoint: ${m.url}`,
      '  region: us-east-1',
      '  maxRunSeconds: 60',
      '',
    ].join('\n'),
  );
  const { ctx, store, clock } = await openGateContext(root, { env: awsTestEnv(), start: T0 });
  expect(ctx.project.invalid.size).toBe(0);
  const sent = recordAlerts(ctx);
  const r = (await runPipeline(ctx, 'p', { source: 'test' })) as { kind: string; run: RunState };
  expect(r.run).toMatchObject({ status: 'RUNNING', platform: { type: 'glue' } });
  return { m, ctx, store, clock, sent, run: r.run };
}

const stops = (m: AwsMock) => m.requests.filter((q) => q.operation === 'BatchStopJobRun');

describe('a timed-out native run cancels its platform job', () => {
  it('past maxRunSeconds → TIMED_OUT, BatchStopJobRun sent for its job run, the confirmed cancel in the reason', async () => {
    const s = await setup();
    const id = s.run.platform?.id as string;
    s.clock.advance(59_000);
    await touchActiveRun(s.ctx, 'p');
    expect(stops(s.m)).toHaveLength(0);
    s.clock.advance(2_000);
    const t = await touchActiveRun(s.ctx, 'p');
    expect(t.active).toBeUndefined();
    const after = await s.store.getRun(s.run.runId);
    expect(after?.status).toBe('TIMED_OUT');
    expect(stops(s.m)).toHaveLength(1);
    expect(stops(s.m)[0]?.body).toMatchObject({ JobName: 'my-etl-job', JobRunIds: [id] });
    expect(s.m.glueRuns.get(id)?.JobRunState).toBe('STOPPING');
    expect(after?.reason).toContain(`its glue job ${id} was cancelled on the platform (state STOPPING)`);
    expect(after?.platform).toMatchObject({ id, state: 'STOPPING' });
    expect(s.sent.map((a) => a.kind)).toContain('RUN_TIMED_OUT');
    // Touching again asks nothing more of the platform.
    await touchActiveRun(s.ctx, 'p');
    expect(stops(s.m)).toHaveLength(1);
  });

  it('the cancel is refused by the platform → still TIMED_OUT (never blocked), the reason says it may still run', async () => {
    const s = await setup();
    const id = s.run.platform?.id as string;
    s.m.failNext('BatchStopJobRun', 400, 'AccessDeniedException', 10);
    s.clock.advance(61_000);
    await touchActiveRun(s.ctx, 'p');
    const after = await s.store.getRun(s.run.runId);
    expect(after?.status).toBe('TIMED_OUT');
    expect(stops(s.m).length).toBeGreaterThanOrEqual(1);
    expect(s.m.glueRuns.get(id)?.JobRunState).toBe('STARTING');
    expect(after?.reason).toMatch(new RegExp(`cancelling its glue job ${id} failed \\(.*\\): it may still be running`));
    expect(await s.store.getActiveRun('p')).toBeUndefined();
  });
});
