// End-to-end: `interlock push` of the BUILT CLI on a SQLite project: push PASS, then `evaluate` is READY (the push
// trait counts from the store, nothing runs for it) and `history` shows the push; usage errors exit 2.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { json } from '../support/cli-output.js';
import { minimalProject } from '../support/minimal-project.js';
import { cli } from '../support/run-cli.js';
import { tempDirFor } from '../support/test-cleanups.js';

const tmp = (ctx: TestContext): string => tempDirFor(ctx, 'interlock-e2e-push-');

/** Pipeline p: trait a by the fixture pass evaluator, trait fed pushed (ttl 600); evaluators/push records spawns. */
function project(ctx: TestContext): string {
  const root = minimalProject(tmp(ctx), [
    { type: 'a', evaluator: 'pass' },
    { type: 'fed', evaluator: 'push', ttl: 600 },
  ]);
  writeFileSync(
    join(root, 'evaluators', 'push'),
    `#!/bin/sh\ntouch '${join(root, 'push-spawned')}'\necho '{"status":"PASS"}'\n`,
    { mode: 0o755 },
  );
  return root;
}

describe('interlock push', () => {
  it('push PASS, then evaluate is READY; history shows source push; the push trait never spawns', async (ctx) => {
    const root = project(ctx);
    const before = await cli(['evaluate', 'p'], { cwd: root });
    expect(before.code, before.stderr).toBe(1);
    expect(before.stdout).toMatch(/STALE fed\s+no result/);
    expect(before.stdout).toContain('blocked by fed: no result yet');

    const pushed = await cli(['push', 'p', 'fed', '--status', 'PASS', '--value', '{"rows":42}', '--reason', 'ok'], {
      cwd: root,
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(/^pushed PASS {2}p\/fed \(expires in 10m00s\) rows=42$/m);
    expect(pushed.stdout).toContain('READY');

    const ev = await cli(['evaluate', 'p'], { cwd: root });
    expect(ev.code, ev.stdout + ev.stderr).toBe(0);
    expect(ev.stdout).toContain('p (gate, 2 traits)');
    expect(ev.stdout).toMatch(/PASS {2}fed\s+pushed \d+(ms|\.\ds|s) ago {2}rows=42/);
    expect(ev.stdout).toMatch(/^READY$/m);

    const history = json(await cli(['history', 'p', '--json'], { cwd: root }));
    expect(history.map((h: { source: string }) => h.source)).toEqual(['cli', 'push', 'cli']);
    expect(history[1]).toMatchObject({ type: 'decision', source: 'push', outcome: 'READY' });
    const human = await cli(['history', 'p'], { cwd: root });
    expect(human.stdout).toMatch(/READY\s+push/);
    expect(existsSync(join(root, 'push-spawned'))).toBe(false);
  });

  it('--json prints the stored result; a pushed FAIL blocks evaluate (exit 1)', async (ctx) => {
    const root = project(ctx);
    const r = await cli(['push', 'p', 'fed', '--status', 'FAIL', '--reason', 'late', '--ttl', '5m', '--json'], {
      cwd: root,
    });
    expect(r.code, r.stderr).toBe(0);
    const body = json(r);
    expect(body).toMatchObject({
      pipeline: 'p',
      trait: 'fed',
      status: 'FAIL',
      state: 'FAIL',
      reasonCode: 'PUSHED_FAIL',
      reason: 'late',
      source: 'push',
    });
    expect(body.expiresAt - body.evaluatedAt).toBe(300_000);
    const ev = await cli(['evaluate', 'p'], { cwd: root });
    expect(ev.code).toBe(1);
    expect(ev.stdout).toContain('blocked by fed: late [PUSHED_FAIL]');
    // ttl in plain seconds.
    const secs = json(await cli(['push', 'p', 'fed', '--status', 'pass', '--ttl', '90', '--json'], { cwd: root }));
    expect(secs.expiresAt - secs.evaluatedAt).toBe(90_000);
  });

  it('usage errors exit 2 and name the option; unknown pipeline or trait exit 2', async (ctx) => {
    const root = project(ctx);
    const cases: Array<[string[], RegExp]> = [
      [['--status', 'PASS', '--value', '{rows:'], /--value is not valid JSON/],
      [['--status', 'PASS', '--value', '[1]'], /--value must be a JSON object/],
      [['--status', 'MAYBE'], /--status must be PASS or FAIL/],
      [['--status', 'PASS', '--ttl', 'soon'], /--ttl: expected a positive duration/],
      [['--status', 'PASS', '--ttl', '2h'], /--ttl: 7200s is longer than the ttl of trait 'fed' \(600s\)/],
      [[], /required option '--status/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['push', 'p', 'fed', ...args], { cwd: root });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    const jsonErr = await cli(['push', 'p', 'fed', '--status', 'PASS', '--value', 'nope', '--json'], { cwd: root });
    expect(jsonErr.code).toBe(2);
    expect(json(jsonErr).error).toMatchObject({ code: 'USAGE', message: expect.stringContaining('--value') });
    const noTrait = await cli(['push', 'p', 'zzz', '--status', 'PASS'], { cwd: root });
    expect(noTrait.code).toBe(2);
    expect(noTrait.stderr).toContain("pipeline 'p' has no trait 'zzz'");
    const noPipeline = await cli(['push', 'nope', 'fed', '--status', 'PASS'], { cwd: root });
    expect(noPipeline.code).toBe(2);
    expect(noPipeline.stderr).toContain("unknown pipeline 'nope'");
    // Nothing was stored by any of them.
    const status = json(await cli(['status', 'p', '--json'], { cwd: root }));
    expect(status.traits.every((t: { result: unknown }) => t.result === null)).toBe(true);
  });
});
