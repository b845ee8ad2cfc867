// The variables Interlock itself provides to triggers and evaluators: the run's identity (run id, pipeline, run key)
// and, for a schedule window's runs and decisions, the window's. Pure: computed from what the caller passes in.

/** A schedule window as its triggers and evaluators see it (the watcher's RunWindow carries these fields). */
export interface WindowVarsSource {
  /** The window key `<pipeline>@<schedule>@<open ISO>`. */
  key: string;
  schedule: string;
  /** When the window opened (epoch ms). */
  openAt: number;
  /** The open day in the schedule's timezone, YYYY-MM-DD. */
  date: string;
}

/** Set for every trigger (manual and watcher runs alike). */
export const RUN_VARS = ['INTERLOCK_RUN_ID', 'INTERLOCK_PIPELINE', 'INTERLOCK_RUN_KEY'] as const;

/** Set only for a schedule window's triggers and evaluators; a manual run has none of them. */
export const WINDOW_VARS = [
  'INTERLOCK_SCHEDULE',
  'INTERLOCK_WINDOW',
  'INTERLOCK_WINDOW_START',
  'INTERLOCK_WINDOW_DATE',
] as const;

/** Every name Interlock reserves: never taken from the environment, never treated as a secret. */
export const INTERLOCK_PROVIDED_VARS: readonly string[] = [...RUN_VARS, ...WINDOW_VARS];

/** True for a window variable (set only in schedule window runs). */
export function isWindowVar(name: string): boolean {
  return (WINDOW_VARS as readonly string[]).includes(name);
}

/** The window's variables, or none without a window. */
export function windowVars(w: WindowVarsSource | undefined): Record<string, string> {
  if (!w) return {};
  return {
    INTERLOCK_SCHEDULE: w.schedule,
    INTERLOCK_WINDOW: w.key,
    INTERLOCK_WINDOW_START: new Date(w.openAt).toISOString(),
    INTERLOCK_WINDOW_DATE: w.date,
  };
}

/**
 * `env` without the reserved names: a value the parent process happens to have (INTERLOCK_WINDOW_DATE exported in a
 * shell) must never reach a manual run's trigger or evaluator as if Interlock had set it.
 */
export function withoutProvidedVars(env: Readonly<NodeJS.ProcessEnv>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!INTERLOCK_PROVIDED_VARS.includes(name)) out[name] = value;
  return out;
}
