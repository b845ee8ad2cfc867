// Which STAMP unsafe control action each alert kind reports, and how each kind is levelled by default.
import type { Alert, AlertKind, UcaCategory } from '../core/types.js';

interface KindInfo {
  category: UcaCategory;
  description: string;
  level: Alert['level'];
}

// The controlled action is always the same: triggering the pipeline. Each kind says which way it went unsafe.
const KINDS: Record<AlertKind, KindInfo> = {
  TRAIT_FAILED: {
    category: 'provided-unsafe',
    description: 'Feedback from a safety trait says that triggering the pipeline now would be unsafe.',
    level: 'warning',
  },
  PIPELINE_BLOCKED: {
    category: 'provided-unsafe',
    description: 'Triggering while unsafe was prevented: the trigger is withheld until every required trait passes.',
    level: 'warning',
  },
  PIPELINE_READY: {
    category: 'provided-unsafe',
    description: 'The unsafe condition has cleared: triggering the pipeline is safe again.',
    level: 'info',
  },
  TRIGGER_FAILED: {
    category: 'not-provided',
    description: 'The trigger was safe and required, but it did not reach the pipeline.',
    level: 'error',
  },
  RUN_FAILED: {
    category: 'wrong-duration',
    description: 'The run stopped too soon: it ended without completing.',
    level: 'error',
  },
  TRIGGER_OUTCOME_UNKNOWN: {
    category: 'not-provided',
    description:
      'It is unknown whether the trigger reached the pipeline: the request was sent and no answer came back, so the job may or may not have started. Interlock does not retry it; check the target.',
    level: 'critical',
  },
  RUN_TIMED_OUT: {
    category: 'wrong-duration',
    description: 'The run was applied too long: it passed its maximum run time without completing.',
    level: 'error',
  },
  CONFIG_RELOAD_FAILED: {
    category: 'not-provided',
    description:
      'A config reload broke the pipeline (or interlock.yaml): it is INVALID and never triggered until its config is fixed.',
    level: 'error',
  },
  SLA_AT_RISK: {
    category: 'wrong-timing',
    description:
      'A deadline is near and the window is still not READY (evaluation) or not COMPLETED (completion): the action is at risk of coming too late.',
    level: 'warning',
  },
  SLA_BREACHED: {
    category: 'wrong-timing',
    description:
      'A deadline passed with the window not READY (evaluation) or not COMPLETED (completion): the action came too late, or not yet at all.',
    level: 'error',
  },
  WINDOW_MISSED: {
    category: 'not-provided',
    description: 'The window closed without the pipeline being triggered: the action was needed and never provided.',
    level: 'error',
  },
  RUN_STUCK: {
    category: 'wrong-duration',
    description: 'A run has been going for longer than its expected duration: it may be stuck (no state change yet).',
    level: 'warning',
  },
  TRAIT_STALE: {
    category: 'provided-unsafe',
    description:
      "A required trait's result expired (its TTL passed) while its window is open: the evidence is gone, so triggering is blocked until it is measured again.",
    level: 'warning',
  },
  RECOVERED: {
    category: 'wrong-timing',
    description:
      'What was alerted has cleared: the window is READY or COMPLETED again (a breach or block is resolved).',
    level: 'info',
  },
  DRIFT_DETECTED: {
    category: 'provided-unsafe',
    description:
      'After the run completed, the evidence it was triggered on no longer holds: a monitored trait is not passing any more.',
    level: 'warning',
  },
};

/** The unsafe-control-action category of an alert kind, with a one-sentence description for humans. */
export function ucaFor(kind: AlertKind): { category: UcaCategory; description: string } {
  const { category, description } = KINDS[kind];
  return { category, description };
}

/** The level an alert of `kind` gets unless its maker says otherwise. */
export function defaultLevel(kind: AlertKind): Alert['level'] {
  return KINDS[kind].level;
}
