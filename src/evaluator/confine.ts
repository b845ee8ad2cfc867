// Keeping evaluators of untrusted (API-registered) pipelines inside evaluatorDirs, by real path (symlinks resolved).
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

/** True when absolute path `p` is strictly inside directory `dir` (lexically; `..` cannot escape). */
export function isWithin(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * The real path of `p` with every symlink resolved. A path that does not exist (yet) resolves its deepest existing
 * ancestor and appends the rest, so `evaluators/linked-dir/missing` is judged by where `linked-dir` really points.
 */
export function realPathOf(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const parent = dirname(abs);
    if ((code === 'ENOENT' || code === 'ENOTDIR') && parent !== abs) return join(realPathOf(parent), basename(abs));
    throw err;
  }
}

export type Confinement = { ok: true; real: string } | { ok: false; real?: string; reason: string };

/**
 * Whether evaluator `file` is inside one of `dirs` once every symlink of both is resolved. A link inside a dir
 * that points out of it (to /bin/sh, or a linked directory to /usr/bin) is refused. Never throws.
 * On success, `real` is the path to execute (so a link swapped after the check is not followed).
 */
export function confineEvaluator(file: string, dirs: readonly string[]): Confinement {
  let real: string;
  try {
    real = realPathOf(file);
  } catch (err) {
    return { ok: false, reason: `cannot resolve the real path of ${file}: ${(err as Error).message}` };
  }
  for (const d of dirs) {
    let realDir: string;
    try {
      realDir = realPathOf(d);
    } catch {
      continue;
    }
    if (isWithin(realDir, real)) return { ok: true, real };
  }
  const shown = real === resolve(file) ? file : `${file} (really ${real})`;
  return { ok: false, real, reason: `evaluator ${shown} is outside evaluatorDirs once symlinks are resolved` };
}
