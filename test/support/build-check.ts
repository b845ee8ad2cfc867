// Bench, chaos and soak run the BUILT CLI: refuse to run without a build, and warn when src/ changed after it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './paths.js';

/** Newest mtime of the files under a directory that the build uses (tests are not built), in ms. */
function newest(dir: string): number {
  let max = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) max = Math.max(max, newest(p));
    else if (!name.endsWith('.test.ts')) max = Math.max(max, st.mtimeMs);
  }
  return max;
}

/** Exits 2 when dist/ is missing; warns on stderr when src/ is newer than the build. */
export function checkBuild(tool: string): void {
  const main = join(REPO, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) {
    process.stderr.write(`${tool}: dist/ is missing: run \`npm run build\` first\n`);
    process.exit(2);
  }
  if (newest(join(REPO, 'src')) > statSync(main).mtimeMs + 1000) {
    process.stderr.write(`${tool}: warning: src/ changed after the last build; the built CLI is what gets tested\n`);
  }
}
