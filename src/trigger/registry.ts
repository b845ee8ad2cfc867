// Native triggers (platforms Interlock drives itself): type → implementation, each loaded only when a run uses it.
import { NATIVE_TRIGGER_TYPES } from '../core/lists.js';
import type { NativeTriggerSpec, TriggerSpec } from '../core/types.js';
import type { NativeTrigger } from './native.js';
import { templateVars } from './template.js';

export type { FindAnswer, FindContext, NativeTrigger, PlatformAnswer, PlatformContext } from './native.js';

/** How often a RUNNING native run's state is polled when its trigger sets no `poll`. */
export const DEFAULT_POLL_SECONDS = 30;

const LOADERS: Record<NativeTriggerSpec['type'], () => Promise<NativeTrigger>> = {
  airflow: async () => (await import('./airflow.js')).airflowTrigger as NativeTrigger,
  databricks: async () => (await import('./databricks.js')).databricksTrigger as NativeTrigger,
  // The AWS SDK is imported by these modules' calls only (never at CLI start-up).
  glue: async () => (await import('./glue.js')).glueTrigger as NativeTrigger,
  stepfunctions: async () => (await import('./stepfunctions.js')).stepFunctionsTrigger as NativeTrigger,
  lambda: async () => (await import('./lambda.js')).lambdaTrigger as NativeTrigger,
};

export function isNativeTrigger(spec: TriggerSpec | undefined): spec is NativeTriggerSpec {
  return spec !== undefined && (NATIVE_TRIGGER_TYPES as readonly string[]).includes(spec.type);
}

/** The implementation of a native trigger type (imported on first use). */
export function nativeTrigger(type: NativeTriggerSpec['type']): Promise<NativeTrigger> {
  return LOADERS[type]();
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v !== null && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

/** The `${VAR}`s a native trigger's spec references (its url, credentials, payload), in order of first use. */
export function nativeTriggerVars(spec: NativeTriggerSpec): string[] {
  const { type: _type, ...rest } = spec;
  return [...new Set(strings(rest).flatMap(templateVars))];
}
