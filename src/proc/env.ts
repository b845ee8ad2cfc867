// The environment a child process (evaluator, command trigger) gets: a minimal set plus exactly what it lists.

/** Variables every child gets when set: locale, time zone, temp dir, PATH and HOME. */
const BASE_NAMES = new Set(['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']);
/** The API token: never handed to a child, even when listed. */
export const API_TOKEN_ENV = 'INTERLOCK_API_TOKEN';

export interface ChildEnv {
  env: Record<string, string>;
  /** Values of the listed variables that were passed (to be masked in whatever the child's output becomes). */
  passed: string[];
}

/**
 * From `base`: PATH, HOME, LANG, LC_*, TZ, TMPDIR and the INTERLOCK_* context variables (never INTERLOCK_API_TOKEN),
 * plus exactly the variables named in `listed`. Everything else (secrets of the CLI or of `serve`) stays out.
 */
export function childEnv(base: NodeJS.ProcessEnv, listed: readonly string[] = []): ChildEnv {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || name === API_TOKEN_ENV) continue;
    if (BASE_NAMES.has(name) || name.startsWith('LC_') || name.startsWith('INTERLOCK_')) env[name] = value;
  }
  const passed: string[] = [];
  for (const name of listed) {
    const value = base[name];
    if (value === undefined || name === API_TOKEN_ENV) continue;
    env[name] = value;
    if (value !== '') passed.push(value);
  }
  return { env, passed };
}
