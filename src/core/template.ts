// `${NAME}` templates in http triggers: which variables they reference, single-pass expansion, and how to say a
// variable is missing. Pure (the environment is passed in); config checks them at load, triggers at run time.
import { isWindowVar, RUN_VARS } from './run-vars.js';

/** `${NAME}` with NAME = [A-Za-z_][A-Za-z0-9_]*. Nothing else (`$NAME`, `${A:-b}`, `$$`) is special. */
const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Variable names referenced by `template`, in order of first appearance. */
export function templateVars(template: string): string[] {
  return [...new Set([...template.matchAll(VAR_RE)].map((m) => m[1] as string))];
}

/** True when `name` is unset or empty in `vars`: either way it must not be sent. */
export function isMissing(vars: NodeJS.ProcessEnv, name: string): boolean {
  const v = vars[name];
  return v === undefined || v === '';
}

/**
 * Replaces every `${NAME}` with `vars[NAME]` in one pass (a value containing `${X}` is not expanded again).
 * Callers check `isMissing` first; a missing variable here expands to '' only if they did not.
 */
export function expandTemplate(template: string, vars: NodeJS.ProcessEnv): string {
  return template.replace(VAR_RE, (_m, name: string) => vars[name] ?? '');
}

/**
 * Variables Interlock itself provides to every trigger: never looked up in the environment. The window variables
 * (core/run-vars.ts WINDOW_VARS) are provided too, but only in a schedule window's runs.
 */
export const TRIGGER_PROVIDED_VARS: readonly string[] = RUN_VARS;

/** Why `name` is missing from `vars`: 'not set', or 'empty' when it is set to ''. */
export function missingVarState(vars: NodeJS.ProcessEnv, name: string): 'not set' | 'empty' {
  return vars[name] === undefined ? 'not set' : 'empty';
}

/**
 * "environment variable X is not set" / "… is empty" (one clause per variable); a window variable says that only
 * a schedule window's runs have it.
 */
export function missingVarsMessage(names: string[], vars: NodeJS.ProcessEnv): string {
  return names
    .map((n) =>
      isWindowVar(n)
        ? `${n} is set only in a schedule window's runs (by the watcher), not in a manual run`
        : `environment variable ${n} is ${missingVarState(vars, n)}`,
    )
    .join('; ');
}
