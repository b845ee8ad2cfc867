// The short chaos run (`npm run chaos -- --short`) as part of `npm test`: faults injected into the real built CLI,
// serve, SQLite and redis-server; every safety check must hold. Mount-dependent cases are not in the short form.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { CaseResult } from '../chaos/lib/harness.js';
import { REPO } from './support/paths.js';
import { requireRedis } from './support/redis.js';
import { runCommand } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';

it('chaos --short: every fault is survived with 0 violations', async () => {
  requireRedis();
  const t = tempDir('interlock-chaos-smoke-');
  try {
    const out = join(t.dir, 'chaos.json');
    const r = await runCommand(
      process.execPath,
      ['--import', 'tsx', 'chaos/main.ts', '--short', '--concurrency', '2', '--out', out],
      { cwd: REPO, env: { ...process.env, NO_COLOR: '1' } },
    );
    const report = `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
    expect(existsSync(out), report).toBe(true);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { mode: string; violations: number; cases: CaseResult[] };
    expect(json.mode).toBe('short');
    const broken = json.cases
      .filter((c) => c.status !== 'pass')
      .map(
        (c) =>
          `${c.id}: ${c.status} ${c.notRunnable ?? ''} ${c.error ?? ''} ${JSON.stringify(c.checks.filter((x) => !x.ok))}`,
      );
    expect(broken, report).toEqual([]);
    expect(json.violations, report).toBe(0);
    expect(json.cases.length).toBeGreaterThanOrEqual(10);
    // Every group of faults is represented, and every case checked the safety properties.
    expect(new Set(json.cases.map((c) => c.group))).toEqual(
      new Set(['evaluator', 'store', 'trigger', 'process', 'alert']),
    );
    for (const c of json.cases)
      expect(c.properties, c.id).toEqual(expect.arrayContaining(['gate', 'once', 'recovery']));
    expect(r.code, report).toBe(0);
    expect(r.stdout).toMatch(/\| case +\| fault +\| properties checked +\| violations/);
  } finally {
    t.cleanup();
  }
}, 180_000);
