// trigger: the actuator. Fires command, http and native (Airflow) triggers and reports a TriggerOutcome (never throws).

export {
  type AddressPolicy,
  checkHost,
  type HostCheck,
  literalHostReason,
  NON_PUBLIC_IPV4,
  nonPublicReason,
  type ResolvedAddress,
  type ResolveHost,
  type Subnet,
  subnetList,
} from './address-guard.js';
export { DEFAULT_COMMAND_TIMEOUT_SECONDS, OUTPUT_TAIL_BYTES } from './command.js';
export type { TriggerContext } from './context.js';
export { fireTrigger, missingTriggerVars } from './fire.js';
export { BODY_EXCERPT_BYTES, DEFAULT_HTTP_TIMEOUT_SECONDS, MAX_BODY_READ_BYTES } from './http.js';
export { redact, redactCredentialParams, redactUrlUserinfo, secretForms } from './redact.js';
export {
  DEFAULT_POLL_SECONDS,
  type FindAnswer,
  type FindContext,
  isNativeTrigger,
  type NativeTrigger,
  nativeTrigger,
  nativeTriggerVars,
  type PlatformAnswer,
  type PlatformContext,
} from './registry.js';
