// The actuator's entry points: fire a trigger (never throws), list the variables it lacks, describe it.
import { performance } from 'node:perf_hooks';
import { isWindowVar, type WindowVarsSource, windowVars } from '../core/run-vars.js';
import type { TriggerOutcome, TriggerSpec } from '../core/types.js';
import { fireCommandTrigger } from './command.js';
import { errMessage, PROVIDED_VARS, type TriggerContext, triggerEnv } from './context.js';
import { fireHttpTrigger, httpTriggerVars } from './http.js';
import { redact, secretEnvValues } from './redact.js';
import { isNativeTrigger, nativeTrigger, nativeTriggerVars } from './registry.js';
import { isMissing } from './template.js';

/**
 * Fires `spec` and reports what happened. Never throws: every failure is an outcome with `ok: false` and a
 * human `error`, with secrets already redacted.
 */
export async function fireTrigger(spec: TriggerSpec, ctx: TriggerContext): Promise<TriggerOutcome> {
  const start = performance.now();
  try {
    if (spec.type === 'command') return await fireCommandTrigger(spec, ctx);
    if (spec.type === 'http') return await fireHttpTrigger(spec, ctx);
    if (isNativeTrigger(spec)) return await (await nativeTrigger(spec.type)).fire(spec, ctx);
    const type = (spec as { type?: unknown }).type;
    return { type: 'command', ok: false, async: false, durationMs: 0, error: `unknown trigger type ${String(type)}` };
  } catch (err) {
    // Not expected: the trigger functions turn failures into outcomes. Still a result, never an exception.
    const type = spec?.type ?? 'command';
    const error = redact(`internal error: ${errMessage(err)}`, secretEnvValues(triggerEnv(ctx)));
    return { type, ok: false, async: false, durationMs: performance.now() - start, error };
  }
}

/**
 * Variables a trigger references that are unset or empty in `env`, so a run can be refused before it starts.
 * INTERLOCK_RUN_ID, INTERLOCK_PIPELINE and INTERLOCK_RUN_KEY are always provided and never listed; the window
 * variables are provided only with `window` (a manual run lacks them, whatever `env` says). Only http and native triggers
 * are expanded by Interlock; a command's `$VAR`s belong to `sh` (which may set them itself), so none are listed.
 */
export function missingTriggerVars(spec: TriggerSpec, env: NodeJS.ProcessEnv, window?: WindowVarsSource): string[] {
  const vars = spec.type === 'http' ? httpTriggerVars(spec) : isNativeTrigger(spec) ? nativeTriggerVars(spec) : [];
  const windowed = windowVars(window);
  return vars.filter((n) => {
    if (PROVIDED_VARS.includes(n)) return false;
    if (isWindowVar(n)) return windowed[n] === undefined;
    return isMissing(env, n);
  });
}
