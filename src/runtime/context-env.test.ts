// Issue 11 item 2: the use-cases take their environment from the Context (ctx.env), never from process.env.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gatePipeline, openGateContext, writeGateProject } from '../../test/support/runtime-context.js';
import type { PipelineSpec, TriggerSpec } from '../core/types.js';
import type { Context } from './context.js';
import { evaluateWithAlerts } from './evaluate.js';
import { runPipeline } from './run.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// Names no test process has: only ctx.env can supply them.
const GATE = 'INTERLOCK_CTX_ENV_TEST_GATE';
const WORD = 'INTERLOCK_CTX_ENV_TEST_WORD';

async function context(env: NodeJS.ProcessEnv): Promise<{ ctx: Context; root: string }> {
  const root = mkdtempSync(join(tmpdir(), 'interlock-ctx-env-'));
  dirs.push(root);
  writeGateProject(root, {
    files: {
      'evaluators/gate': `#!/bin/sh\nif [ "$${GATE}" = open ]; then echo '{"status":"PASS"}'; else echo '{"status":"FAIL","reason":"gate shut"}'; fi\n`,
    },
  });
  const { ctx } = await openGateContext(root, { env, warn: () => {} });
  return { ctx, root };
}

function spec(root: string, trigger: TriggerSpec): PipelineSpec {
  return gatePipeline(root, trigger, { env: [GATE] });
}

describe('ctx.env', () => {
  it('is what evaluators and command triggers see, not process.env', async () => {
    expect(process.env[GATE]).toBeUndefined();
    const { ctx, root } = await context({ ...process.env, [GATE]: 'open', [WORD]: 'from-ctx' });
    await ctx.store.putPipeline(spec(root, { type: 'command', command: `echo "$${WORD}" >> fired.log`, env: [WORD] }));
    const r = await runPipeline(ctx, 'p', { source: 'cli' });
    expect(r.kind).toBe('triggered');
    expect(readFileSync(join(root, 'fired.log'), 'utf8')).toBe('from-ctx\n');
    await ctx.close();
  });

  it('without the variable the evaluator FAILs even when process.env has it', async () => {
    process.env[GATE] = 'open';
    try {
      const env = { ...process.env };
      delete env[GATE];
      const { ctx, root } = await context(env);
      await ctx.store.putPipeline(spec(root, { type: 'command', command: 'true' }));
      const ev = await evaluateWithAlerts(ctx, 'p', { source: 'cli' });
      expect(ev.readiness.outcome).toBe('NOT_READY');
      await ctx.close();
    } finally {
      delete process.env[GATE];
    }
  });

  it('checks the variables an http trigger references against ctx.env (TRIGGER_ENV_MISSING)', async () => {
    process.env[WORD] = 'set-in-process';
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, [GATE]: 'open' };
      delete env[WORD];
      const { ctx, root } = await context(env);
      await ctx.store.putPipeline(
        spec(root, {
          type: 'http',
          url: 'https://example.invalid/hook',
          headers: { Authorization: `Bearer \${${WORD}}` },
        }),
      );
      await expect(runPipeline(ctx, 'p', { source: 'cli' })).rejects.toMatchObject({ code: 'TRIGGER_ENV_MISSING' });
      await ctx.close();
    } finally {
      delete process.env[WORD];
    }
  });
});
