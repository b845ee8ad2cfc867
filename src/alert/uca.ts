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
