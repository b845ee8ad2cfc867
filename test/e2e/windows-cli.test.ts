// `interlock windows` through the BUILT CLI: its help, usage errors (exit 2, before any store is opened) and an
// unknown pipeline. The table and --json over stored windows are tested in-process (src/cli/commands/windows.test.ts).
// TODO(after the SQLite window methods merge): write windows into a SQLite project's store and read them back here.
import { describe, expect, it, type TestContext } from 'vitest';
import { json } from '../support/cli-output.js';
import { minimalProject } from '../support/minimal-project.js';
import { cli } from '../support/run-cli.js';
import { tempDirFor } from '../support/test-cleanups.js';

const project = (ctx: TestContext) => minimalProject(tempDirFor(ctx, 'interlock-e2e-windows-'), [{ type: 'a' }]);

describe('interlock windows (built CLI)', () => {
  it('--help names the options; `help windows` is the same', async (ctx) => {
    const cwd = project(ctx);
    const r = await cli(['windows', '--help'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: interlock windows \[options\] <pipeline>/);
    expect(r.stdout).toMatch(/-n, --limit <n>\s+how many windows \(1–1000\) \(default: "20"\)/);
    expect(r.stdout).toMatch(/--state <state>/);
    expect((await cli(['help', 'windows'], { cwd })).stdout).toBe(r.stdout);
  });

  it('exit 2 for a bad --limit or --state (human and --json) and for an unknown pipeline', async (ctx) => {
    const cwd = project(ctx);
    for (const args of [
      ['windows', 'p', '--limit', '0'],
      ['windows', 'p', '--limit', '1001'],
      ['windows', 'p', '--state', 'DONE'],
      ['windows', 'nope'],
    ]) {
      const r = await cli(args, { cwd });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^interlock: (--limit must be|--state must be one of|unknown pipeline)/);
    }
    const j = await cli(['windows', 'p', '--state', 'DONE', '--json'], { cwd });
    expect(j.code).toBe(2);
    expect(json(j).error.code).toBe('USAGE');
  });
});
