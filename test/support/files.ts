// Writing project files: any file by relative path (scripts under evaluators/ made executable), the fixture
// evaluators, and reading a project file back as lines.
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FIXTURE_EVALUATORS } from './paths.js';

/** Writes files (relative path → content) under `root`; executable when the path is under evaluators/. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
    if (rel.startsWith('evaluators/')) chmodSync(p, 0o755);
  }
}

/** Writes one file (creating directories); executable when under evaluators/. */
export function put(root: string, rel: string, text: string): void {
  writeFiles(root, { [rel]: text });
}

/** Copies the fixture evaluator scripts into `<root>/evaluators/` (modes kept). */
export function copyFixtureEvaluators(root: string): void {
  cpSync(FIXTURE_EVALUATORS, join(root, 'evaluators'), { recursive: true });
}

/** Non-empty lines of a file in the project ([] when it does not exist). */
export function lines(root: string, rel: string): string[] {
  const p = join(root, rel);
  return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean) : [];
}
