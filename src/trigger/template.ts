// `${NAME}` templates in http triggers: which variables they reference and single-pass expansion.

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

/** "environment variable X is not set" (one clause per variable; an empty one says so). */
export function missingVarsMessage(names: string[], vars: NodeJS.ProcessEnv): string {
  return names.map((n) => `environment variable ${n} is not set${vars[n] === '' ? ' (it is empty)' : ''}`).join('; ');
}
