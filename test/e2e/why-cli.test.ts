// `interlock why` through the BUILT CLI on a SQLite project, with Slack and PagerDuty sinks pointed at local stand-ins
// that check every request as the services document them: pushes block the pipeline (alerts to both; Slack filtered
// by minLevel), `why` names the blocking trait, since when and what unblocks it; the recovery resolves PagerDuty's
// alerts with the same dedup_key.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the literal config syntax written here.
import { describe, expect, it, type TestContext } from 'vitest';
import { startPagerDutyMock, startSlackMock } from '../support/alert-services.js';
import { json, show } from '../support/cli-output.js';
import { minimalProject } from '../support/minimal-project.js';
import { cli } from '../support/run-cli.js';
import { tempDirFor } from '../support/test-cleanups.js';

const KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';

async function project(ctx: TestContext) {
  const slack = await startSlackMock();
  const pd = await startPagerDutyMock();
  ctx.onTestFinished(async () => {
    await slack.close();
    await pd.close();
  });
  const root = minimalProject(
    tempDirFor(ctx, 'interlock-e2e-why-'),
    [
      { type: 'upstream', evaluator: 'push', ttl: 3600 },
      { type: 'rows', evaluator: 'push', ttl: 3600 },
    ],
    {
      extraConfig: [
        'server: { publicUrl: "https://interlock.example.com" }',
        'alerts:',
        '  - type: slack',
        '    url: ${SLACK_WEBHOOK_URL}',
        '    minLevel: warning',
        '  - type: pagerduty',
        '    routingKey: ${PAGERDUTY_ROUTING_KEY}',
        `    url: ${pd.url}`,
        '',
      ].join('\n'),
    },
  );
  const env = { SLACK_WEBHOOK_URL: slack.url, PAGERDUTY_ROUTING_KEY: KEY };
  const run = (...args: string[]) => cli(args, { cwd: root, env });
  return { root, slack, pd, run, env };
}

describe('interlock why (built CLI) with Slack and PagerDuty sinks', () => {
  it('blocked → why names the trait, since when and "push PASS"; recovery resolves PagerDuty; secrets never printed', async (ctx) => {
    const { slack, pd, run } = await project(ctx);
    const first = await run('push', 'p', 'rows', '--status', 'PASS');
    expect(first.code, show(first)).toBe(0);
    const blocked = await run('push', 'p', 'upstream', '--status', 'FAIL', '--reason', 'marker data/_SUCCESS missing');
    expect(blocked.code, show(blocked)).toBe(0);

    const why = await run('why', 'p');
    expect(why.code, show(why)).toBe(0);
    expect(why.stdout).toContain('NOT_READY: blocked by upstream (FAIL)');
    expect(why.stdout).toMatch(
      /✗ upstream FAIL since \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? \(.+\): marker data\/_SUCCESS missing \[PUSHED_FAIL\]/,
    );
    expect(why.stdout).toContain('→ push PASS for upstream (interlock push p upstream --status PASS)');
    expect(why.stdout).toContain('no schedules: runs on demand only');
    const v = json(await run('why', 'p', '--json'));
    expect(v).toMatchObject({ pipeline: 'p', outcome: 'NOT_READY', scheduled: false, window: null });
    expect(v.blocking).toHaveLength(1);
    // Blocking since the first push's decision (upstream had no result then: STALE), not the second one.
    const decisions = json(await run('history', 'p', '--json'))
      .filter((e: { type: string }) => e.type === 'decision')
      .map((e: { decidedAt: number }) => e.decidedAt);
    expect(v.blocking[0].blockingSince.at).toBe(Math.min(...decisions));
    expect(v.blocking[0]).toMatchObject({
      trait: 'upstream',
      state: 'FAIL',
      sinceFrom: 'decisions',
      unblockBy: 'push-pass',
    });

    const unblocked = await run('push', 'p', 'upstream', '--status', 'PASS');
    expect(unblocked.code, show(unblocked)).toBe(0);
    const ready = json(await run('why', 'p', '--json'));
    expect([ready.outcome, ready.blocking, ready.summary]).toEqual([
      'READY',
      [],
      'READY: every required trait passes; nothing blocks a run',
    ]);

    // PagerDuty: triggers per (pipeline, kind), then a resolve for each with the same dedup_key; all accepted (202).
    expect(pd.requests.every((r) => r.status === 202)).toBe(true);
    const events = pd.accepted().map((e) => [e.event_action, e.dedup_key]);
    expect(events).toContainEqual(['trigger', 'p/PIPELINE_BLOCKED']);
    expect(events).toContainEqual(['trigger', 'p/TRAIT_FAILED']);
    expect(events.slice(-2)).toEqual([
      ['resolve', 'p/PIPELINE_BLOCKED'],
      ['resolve', 'p/TRAIT_FAILED'],
    ]);
    const trigger = pd.accepted().find((e) => e.dedup_key === 'p/PIPELINE_BLOCKED');
    expect(trigger?.client_url).toBe('https://interlock.example.com/api/pipelines/p/why');
    // Slack: only warning and up (PIPELINE_READY is info): the blocked alerts, all answered 200 ok.
    expect(slack.requests.length).toBeGreaterThan(0);
    expect(slack.requests.every((r) => r.status === 200)).toBe(true);
    const texts = slack.requests.map((r) => (r.json as { text: string }).text);
    expect(texts.some((t) => t.includes('PIPELINE_BLOCKED p'))).toBe(true);
    expect(texts.some((t) => t.includes('PIPELINE_READY'))).toBe(false);
    // No secret in any output.
    for (const r of [first, blocked, why, unblocked]) {
      expect(r.stdout + r.stderr).not.toContain(KEY);
      expect(r.stdout + r.stderr).not.toContain(slack.hookPath);
    }
  });

  it('an unset ${SLACK_WEBHOOK_URL}: validate warns at file:line:col, alerts warn naming the variable; why still answers', async (ctx) => {
    const { root } = await project(ctx);
    const env = { SLACK_WEBHOOK_URL: '', PAGERDUTY_ROUTING_KEY: KEY };
    const v = await cli(['validate'], { cwd: root, env });
    expect(v.stdout + v.stderr).toMatch(
      /interlock\.yaml:\d+:\d+ .*alerts\.0\.url: environment variable SLACK_WEBHOOK_URL is empty here/,
    );
    const push = await cli(['push', 'p', 'upstream', '--status', 'FAIL'], { cwd: root, env });
    expect(push.code, show(push)).toBe(0);
    expect(push.stderr).toContain('alert sink slack failed: slack: environment variable SLACK_WEBHOOK_URL is empty');
    const bad = await cli(['why', 'p', '--window', 'other@daily@2026-06-01T03:00:00Z'], { cwd: root, env });
    expect(bad.code, show(bad)).toBe(2);
    expect(bad.stderr).toContain("belongs to pipeline 'other', not 'p'");
  });
});
