// The benchmark suite must keep working: `npm run bench -- --quick --only imports,version --out <tmp>` runs the real
// thing (built CLI, floors, JSON results) in a few seconds, writes where --out says and never over the committed
// bench/results/latest.json; and the observability cases (metrics-scrape, sse-fanout) at their quick sizes.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO } from './support/paths.js';
import { type CliResult, runCommand } from './support/run-cli.js';
import { tempDir } from './support/temp-dir.js';

const LATEST = join(REPO, 'bench', 'results', 'latest.json');

function npmBench(args: string[]): Promise<CliResult> {
  return runCommand('npm', ['run', '--silent', 'bench', '--', ...args], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '1' },
  });
}

describe('npm run bench', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('--quick --only imports,version --out FILE: results with machine info and every figure field', async () => {
    const t = tempDir('interlock-bench-smoke-');
    cleanups.push(t.cleanup);
    const out = join(t.dir, 'results.json');
    const latestBefore = existsSync(LATEST) ? statSync(LATEST).mtimeMs : undefined;

    const r = await npmBench(['--quick', '--only', 'imports,version', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| what +\| measured +\| floor +\| ratio +\| target +\| result +\|/);

    const res = JSON.parse(readFileSync(out, 'utf8'));
    expect(res).toMatchObject({ schema: 1, quick: true, cases: ['imports', 'version'] });
    expect(res.command).toContain('--quick');
    expect(typeof res.machine.cpuModel).toBe('string');
    expect(res.machine.cores).toBeGreaterThan(0);
    expect(res.machine.node).toBe(process.version);
    expect(Number.isNaN(Date.parse(res.machine.date))).toBe(false);
    expect(typeof res.method).toBe('string');
    expect(res.seconds).toBeGreaterThan(0);

    const byId = Object.fromEntries(res.figures.map((f: { id: string }) => [f.id, f]));
    expect(Object.keys(byId)).toEqual(['imports', 'version']);
    for (const f of res.figures) {
      for (const k of ['what', 'measured', 'floor', 'target']) expect(typeof f[k], `${f.id}.${k}`).toBe('string');
      expect(typeof f.met).toBe('boolean');
      expect(typeof f.numbers).toBe('object');
    }
    const v = byId.version;
    expect(v.numbers.candidateMs).toBeGreaterThan(0);
    expect(v.numbers.floorMs).toBeGreaterThan(0);
    expect(v.ratio).toBeCloseTo(v.numbers.candidateMs / v.numbers.floorMs, 1);
    expect(res.missed).toEqual(res.figures.filter((f: { met: boolean }) => !f.met).map((f: { id: string }) => f.id));
    // --version must not load commander or anything heavier (checked for real by the trace, not by the clock).
    expect(byId.imports.numbers['--versionLoads']).toBe('none');

    expect(existsSync(LATEST) ? statSync(LATEST).mtimeMs : undefined).toBe(latestBefore);
  }, 60_000);
  it('--quick --only metrics-scrape,sse-fanout: scrape percentiles and body size, fan-out to every client, each with its floor', async () => {
    const t = tempDir('interlock-bench-smoke-');
    cleanups.push(t.cleanup);
    const out = join(t.dir, 'results.json');
    const r = await npmBench(['--quick', '--only', 'metrics-scrape,sse-fanout', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(out, 'utf8'));
    const byId = Object.fromEntries(res.figures.map((f: { id: string }) => [f.id, f]));
    expect(Object.keys(byId)).toEqual(['metrics-scrape', 'sse-fanout']);
    const m = byId['metrics-scrape'].numbers;
    expect(m.pipelines).toBe(50);
    expect(m.bodyBytes).toBeGreaterThan(0);
    for (const k of ['p50Ms', 'p95Ms', 'p99Ms', 'floorP50Ms', 'floorP99Ms', 'healthP50Ms']) {
      expect(m[k], k).toBeGreaterThan(0);
    }
    expect(m.p50Ms).toBeLessThanOrEqual(m.p99Ms);
    expect(byId['metrics-scrape'].met).toBe(m.p99Ms <= 50);
    const s = byId['sse-fanout'].numbers;
    expect(s).toMatchObject({ clients: 10, events: 10 });
    for (const k of ['p50Ms', 'p99Ms', 'floorP50Ms', 'floorP99Ms']) expect(s[k], k).toBeGreaterThanOrEqual(0);
    expect(byId['sse-fanout'].met).toBe(s.p99Ms <= 100);
  }, 180_000);
});
