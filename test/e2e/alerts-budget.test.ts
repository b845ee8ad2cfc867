// End-to-end: a slow webhook never holds `interlock run` past its own work. Alerts go out concurrently within one
// total budget (`alerts.timeout`, default 5 s); what is not delivered by then is a warning on stderr, and a file sink
// still has every alert. A real HTTP server that answers only after a minute, and the built CLI.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { copyFixtureEvaluators, json, show, tempDirFor, timedCli, writeFiles } from '../support/index.js';

interface SlowServer {
  url: string;
  /** Requests that arrived (none is ever answered while the test runs). */
  received: number;
  close(): Promise<void>;
}

/** A webhook receiver that reads each request and answers 200 only after 60 s; closed when the test finishes. */
async function slowWebhook(ctx: TestContext): Promise<SlowServer> {
  const timers = new Set<NodeJS.Timeout>();
  const state = { received: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.received++;
      const t = setTimeout(() => res.writeHead(200).end('ok'), 60_000);
      timers.add(t);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const s: SlowServer = {
    url: `http://127.0.0.1:${port}/hooks/alerts`,
    get received() {
      return state.received;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  ctx.onTestFinished(() => s.close());
  return s;
}

/** Pipeline `p` whose one trait FAILs (so `run` is BLOCKED and raises TRAIT_FAILED + PIPELINE_BLOCKED). */
function project(ctx: TestContext, alerts: string): string {
  const root = tempDirFor(ctx, 'interlock-e2e-alerts-');
  copyFixtureEvaluators(root);
  writeFiles(root, {
    'interlock.yaml': `provider: sqlite\n${alerts}`,
    'archetypes/gate.yaml': 'name: gate\nrequiredTraits:\n  - type: a\n',
    'pipelines/p.yaml':
      'name: p\narchetype: gate\ntraits:\n  a:\n    evaluator: fail\ntrigger:\n  type: command\n  command: "echo ran > ran.txt"\n',
  });
  return root;
}

function fileAlerts(root: string): Array<{ kind: string; pipeline: string }> {
  return readFileSync(join(root, 'alerts.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe.concurrent('alert delivery budget', () => {
  it('alerts.timeout: 1 → `run` exits ~1 s after its work despite a webhook that would take 30 s; warning; file has all', async (ctx) => {
    const hook = await slowWebhook(ctx);
    // Without the budget this webhook costs 3 attempts × 10 s + backoff ≈ 31 s.
    const root = project(
      ctx,
      [
        'alerts:',
        '  timeout: 1',
        '  sinks:',
        `    - { type: webhook, url: "${hook.url}", timeout: 10, retries: 2 }`,
        '    - { type: file, path: alerts.jsonl }',
        '',
      ].join('\n'),
    );
    const r = await timedCli(['run', 'p'], { cwd: root });
    expect(r.code, show(r)).toBe(1); // BLOCKED: the outcome is untouched by alerting
    expect(r.stdout).toMatch(/BLOCKED: the trigger was not fired/);
    // Budget 1 s + CLI start-up and evaluation (generous for a loaded machine), far below the 31 s of the webhook.
    expect(r.ms, show(r)).toBeLessThan(1000 + 5000);
    expect(hook.received).toBeGreaterThanOrEqual(1);
    for (const kind of ['TRAIT_FAILED', 'PIPELINE_BLOCKED']) {
      expect(r.stderr).toMatch(
        new RegExp(
          `interlock: warning: alert ${kind} of p \\(run \\w+\\) not delivered to webhook http://127\\.0\\.0\\.1:\\d+ within 1 s \\(alerts\\.timeout\\); given up`,
        ),
      );
    }
    // The secret-bearing path of the webhook URL never appears; the file sink wrote both alerts anyway.
    expect(r.stderr).not.toContain('/hooks/alerts');
    expect(
      fileAlerts(root)
        .map((a) => a.kind)
        .sort(),
    ).toEqual(['PIPELINE_BLOCKED', 'TRAIT_FAILED']);
  }, 60_000);

  it('`evaluate` is bounded the same way (alerts.timeout: 1)', async (ctx) => {
    const hook = await slowWebhook(ctx);
    const root = project(
      ctx,
      `alerts:\n  timeout: 1\n  sinks:\n    - { type: webhook, url: "${hook.url}", timeout: 10, retries: 2 }\n`,
    );
    const r = await timedCli(['evaluate', 'p'], { cwd: root });
    expect(r.code, show(r)).toBe(1);
    expect(r.ms, show(r)).toBeLessThan(1000 + 5000);
    expect(r.stderr).toMatch(/alert PIPELINE_BLOCKED of p not delivered to webhook .* within 1 s/);
  }, 60_000);

  it('the default budget is 5 s: `run` waits for it, then exits (not the webhook’s 3 × 10 s)', async (ctx) => {
    const hook = await slowWebhook(ctx);
    const root = project(
      ctx,
      [
        'alerts:',
        `  - { type: webhook, url: "${hook.url}", timeout: 10, retries: 2 }`,
        '  - { type: file, path: alerts.jsonl }',
        '',
      ].join('\n'),
    );
    const r = await timedCli(['run', 'p', '--json'], { cwd: root });
    expect(r.code, show(r)).toBe(1);
    expect(json(r).run.status).toBe('BLOCKED');
    expect(r.ms, show(r)).toBeGreaterThanOrEqual(5000);
    expect(r.ms, show(r)).toBeLessThan(5000 + 5000);
    expect(r.stderr).toMatch(/not delivered to webhook http:\/\/127\.0\.0\.1:\d+ within 5 s \(alerts\.timeout\)/);
    expect(fileAlerts(root)).toHaveLength(2);
  }, 60_000);
});
