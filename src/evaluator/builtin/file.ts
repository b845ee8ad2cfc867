// builtin:file — a file exists (or not), is recent enough (maxAge) and big enough (minBytes); or a glob matches at
// least minCount such files. Paths are relative to the project root.
import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type FileConfig, fileConfigSchema } from '../../core/builtin-config.js';
import { isWithin, realPathOf } from '../confine.js';
import { type Builtin, type BuiltinContext, type BuiltinOutcome, errMessage, failed, pass } from './types.js';

/** At most this many directory entries are looked at for one glob (a `**` over a huge tree fails, not hangs). */
export const MAX_GLOB_ENTRIES = 100_000;
/** How many matching paths the value lists. */
const SAMPLE = 10;

const iso = (ms: number) => new Date(ms).toISOString();
const round = (n: number) => Math.round(n * 1000) / 1000;

/** Why `abs` may not be checked for an untrusted pipeline (outside the project once symlinks are resolved). */
function outsideProject(abs: string, ctx: BuiltinContext): string | undefined {
  if (!ctx.untrusted) return undefined;
  let real: string;
  let root: string;
  try {
    real = realPathOf(abs);
    root = realPathOf(ctx.projectDir);
  } catch (err) {
    return `cannot resolve ${abs}: ${errMessage(err)}`;
  }
  return isWithin(root, real) ? undefined : `${abs} is outside the project directory`;
}

/** What the thresholds say about one file's stats: undefined when it passes. */
function thresholdProblem(st: Stats, c: FileConfig, now: number): string | undefined {
  const age = (now - st.mtimeMs) / 1000;
  if (c.maxAge !== undefined && age > c.maxAge)
    return `modified ${round(age)}s ago (${iso(st.mtimeMs)}), more than maxAge ${c.maxAge}s`;
  if (c.minBytes !== undefined && st.size < c.minBytes) return `${st.size} bytes, fewer than minBytes ${c.minBytes}`;
  return undefined;
}

async function checkPath(c: FileConfig & { path: string }, ctx: BuiltinContext): Promise<BuiltinOutcome> {
  const abs = resolve(ctx.projectDir, c.path);
  const refused = outsideProject(abs, ctx);
  if (refused)
    return failed('EVALUATOR_FORBIDDEN', `${refused}; pipelines registered over HTTP may check files only in it`);
  let st: Stats;
  try {
    st = await stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const value = { path: c.path, exists: false };
      return c.exists ? failed('CHECK_FAILED', `${c.path} does not exist`, value) : pass(value);
    }
    return failed('CHECK_FAILED', `cannot stat ${c.path}: ${errMessage(err)}`, { path: c.path });
  }
  const value: Record<string, unknown> = {
    path: c.path,
    exists: true,
    bytes: st.size,
    modifiedAt: iso(st.mtimeMs),
    ageSeconds: round((ctx.now - st.mtimeMs) / 1000),
  };
  if (c.maxAge !== undefined) value.maxAgeSeconds = c.maxAge;
  if (c.minBytes !== undefined) value.minBytes = c.minBytes;
  if (!c.exists) return failed('CHECK_FAILED', `${c.path} exists (expected it absent)`, value);
  const problem = thresholdProblem(st, c, ctx.now);
  return problem ? failed('CHECK_FAILED', `${c.path}: ${problem}`, value) : pass(value);
}

/** A glob segment (`*`, `?`) as a regex over one name; a leading dot must be matched literally. */
function segmentRegex(seg: string): RegExp {
  const body = seg
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${seg.startsWith('.') ? '' : '(?!\\.)'}${body}$`);
}

const hasWildcard = (seg: string) => seg === '**' || /[*?]/.test(seg);

/** Every file matching the segments under `dir` (absolute paths). Symlinked directories are not descended into. */
async function globFiles(dir: string, segs: readonly string[], budget: { left: number }): Promise<string[]> {
  if (segs.length === 0) return [dir];
  const [seg, ...rest] = segs as [string, ...string[]];
  if (!hasWildcard(seg)) return globFiles(join(dir, seg), rest, budget);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  budget.left -= entries.length;
  if (budget.left < 0) throw new Error(`more than ${MAX_GLOB_ENTRIES} directory entries`);
  const out: string[] = [];
  if (seg === '**') {
    out.push(...(await globFiles(dir, rest, budget)));
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.')) out.push(...(await globFiles(join(dir, e.name), segs, budget)));
    }
    return out;
  }
  const re = segmentRegex(seg);
  for (const e of entries) {
    if (!re.test(e.name)) continue;
    if (rest.length === 0) out.push(join(dir, e.name));
    else if (e.isDirectory() || e.isSymbolicLink()) out.push(...(await globFiles(join(dir, e.name), rest, budget)));
  }
  return out;
}

async function checkGlob(c: FileConfig & { glob: string }, ctx: BuiltinContext): Promise<BuiltinOutcome> {
  const base = isAbsolute(c.glob) ? sep : ctx.projectDir;
  const segs = c.glob.split('/').filter((s) => s !== '' && s !== '.');
  if (ctx.untrusted && (isAbsolute(c.glob) || segs.includes('..')))
    return failed(
      'EVALUATOR_FORBIDDEN',
      `glob ${c.glob} leaves the project directory; pipelines registered over HTTP may check files only in it`,
    );
  let paths: string[];
  try {
    paths = [...new Set(await globFiles(base, segs, { left: MAX_GLOB_ENTRIES }))].sort();
  } catch (err) {
    return failed('CHECK_FAILED', `glob ${c.glob}: ${errMessage(err)}`, { glob: c.glob });
  }
  const counted: string[] = [];
  const rejected: string[] = [];
  let newest: number | undefined;
  for (const p of paths) {
    if (outsideProject(p, ctx)) continue;
    let st: Stats;
    try {
      st = await stat(p);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const problem = thresholdProblem(st, c, ctx.now);
    const shown = isAbsolute(c.glob) ? p : relative(ctx.projectDir, p).split(sep).join('/');
    if (problem) {
      rejected.push(`${shown}: ${problem}`);
      continue;
    }
    counted.push(shown);
    newest = Math.max(newest ?? st.mtimeMs, st.mtimeMs);
  }
  const minCount = c.minCount ?? 1;
  const value: Record<string, unknown> = { glob: c.glob, count: counted.length, matches: counted.slice(0, SAMPLE) };
  if (newest !== undefined) value.newestModifiedAt = iso(newest);
  if (rejected.length) value.rejected = rejected.slice(0, SAMPLE);
  if (!c.exists) {
    return counted.length === 0
      ? pass(value)
      : failed('CHECK_FAILED', `${c.glob} matches ${counted.length} file(s) (expected none)`, value);
  }
  value.minCount = minCount;
  if (counted.length >= minCount) return pass(value);
  const why = rejected.length ? `; not counted: ${rejected.slice(0, 3).join('; ')}` : '';
  return failed(
    'CHECK_FAILED',
    `${c.glob} matches ${counted.length} file(s), fewer than minCount ${minCount}${why}`,
    value,
  );
}

export const fileBuiltin: Builtin<FileConfig> = {
  schema: fileConfigSchema,
  run(c, ctx) {
    return c.glob !== undefined ? checkGlob({ ...c, glob: c.glob }, ctx) : checkPath({ ...c, path: c.path ?? '' }, ctx);
  },
};
