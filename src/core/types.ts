// Domain types shared by every layer: resolved pipeline specs, trait results, readiness and decision records.
import type { z } from 'zod';
import type {
  ALERT_KINDS,
  ALERT_LEVELS,
  DECISION_SOURCES,
  EVAL_STATUSES,
  OUTCOMES,
  READINESS_RULES,
  REASON_CODES,
  TRAIT_STATES,
  TRIGGER_TYPES,
  UCA_CATEGORIES,
} from './lists.js';
import type { RunStatus } from './run-status.js';
import type {
  airflowTriggerSpecSchema,
  alertSchema,
  commandTriggerSpecSchema,
  databricksTriggerSpecSchema,
  glueTriggerSpecSchema,
  httpTriggerSpecSchema,
  lambdaTriggerSpecSchema,
  platformRunSchema,
  stepFunctionsTriggerSpecSchema,
  triggerOutcomeSchema,
} from './shapes.js';

export type { RunStatus } from './run-status.js';

/** What an evaluator (or the runner on its behalf) reports. Only 'PASS' ever passes. */
export type EvalStatus = (typeof EVAL_STATUSES)[number];

/** A trait's state as seen at some instant: a stored result past its TTL, or none at all, is STALE. */
export type TraitState = (typeof TRAIT_STATES)[number];

/** Why a trait failed when the evaluator itself did not say (or could not). */
export type ReasonCode = (typeof REASON_CODES)[number];

export type ReadinessRuleType = (typeof READINESS_RULES)[number];

export interface ReadinessRule {
  type: ReadinessRuleType;
  /** majority-pass only: fraction of traits that must pass, in (0, 1]. Default: more than half. */
  threshold?: number;
}

/** One trait of a pipeline after archetype × pipeline resolution. */
export interface ResolvedTrait {
  type: string;
  description?: string;
  required: boolean;
  /** Absolute path of the evaluator executable; undefined when none is configured. */
  evaluator?: string;
  /** The evaluator as written in config (for messages). */
  evaluatorRef?: string;
  /**
   * `evaluator: push`: only pushed results count (POST …/traits/{type}, `interlock push`); no evaluator ever runs
   * for it, and a missing or expired result is STALE. `evaluator` is then undefined.
   */
  push?: true;
  /**
   * `evaluator: builtin:<name>`: the built-in check that runs in the Interlock process (src/evaluator/builtin/);
   * `evaluator` is then undefined and `evaluatorRef` is `builtin:<name>`.
   */
  builtin?: string;
  config: Record<string, unknown>;
  /** Seconds a result stays valid; undefined = never expires. */
  ttlSeconds?: number;
  timeoutSeconds: number;
  /** Environment variables passed to the evaluator besides the minimal set; their values are masked in results. */
  env?: string[];
}

/** A resolved command trigger (core/shapes.ts). */
export type CommandTriggerSpec = z.infer<typeof commandTriggerSpecSchema>;

/** A resolved http trigger (core/shapes.ts). */
export type HttpTriggerSpec = z.infer<typeof httpTriggerSpecSchema>;

export type AirflowTriggerSpec = z.infer<typeof airflowTriggerSpecSchema>;
/** A trigger whose platform Interlock drives itself (idempotency key, polled completion, cancel). */
export type DatabricksTriggerSpec = z.infer<typeof databricksTriggerSpecSchema>;
export type GlueTriggerSpec = z.infer<typeof glueTriggerSpecSchema>;
export type StepFunctionsTriggerSpec = z.infer<typeof stepFunctionsTriggerSpecSchema>;
export type LambdaTriggerSpec = z.infer<typeof lambdaTriggerSpecSchema>;
/** A native trigger on AWS. */
export type AwsTriggerSpec = GlueTriggerSpec | StepFunctionsTriggerSpec | LambdaTriggerSpec;
export type NativeTriggerSpec = AirflowTriggerSpec | DatabricksTriggerSpec | AwsTriggerSpec;
export type TriggerSpec = CommandTriggerSpec | HttpTriggerSpec | NativeTriggerSpec;
/** The job a native trigger started on its platform. */
export type PlatformRun = z.infer<typeof platformRunSchema>;

/** A fully resolved pipeline: what the engine and runtime work from. */
export interface PipelineSpec {
  name: string;
  archetype: string;
  tier?: number;
  description?: string;
  traits: ResolvedTrait[];
  readinessRule: ReadinessRule;
  trigger?: TriggerSpec;
  /** Where it was defined (a YAML file relative to the project root, or 'api'). */
  source: string;
}

/**
 * A pipeline that failed validation (its YAML file or archetype has errors, or a stored registration no longer
 * passes): listed as INVALID with why, and never evaluated or triggered (fail closed).
 */
export interface InvalidPipeline {
  name: string;
  status: 'INVALID';
  /** Where it is defined: the YAML file(s), or 'api'. */
  source: string;
  /** Why: each problem at a dotted path (''= the document), with file:line:col when it came from a file. */
  problems: Array<{ path: string; message: string; file?: string; line?: number; col?: number }>;
}

/** One evaluator's outcome, as stored. Times are epoch milliseconds. */
export interface TraitResult {
  pipeline: string;
  trait: string;
  status: EvalStatus;
  value?: Record<string, unknown>;
  /** Human reason: the evaluator's own, or the runner's. */
  reason?: string;
  /** Set whenever status is FAIL. */
  reasonCode?: ReasonCode;
  durationMs: number;
  exitCode?: number | null;
  signal?: string | null;
  evaluatedAt: number;
  /** undefined = never expires. */
  expiresAt?: number;
  /** 'push': stored by a push (API or CLI), not by an evaluator. Absent: an evaluator's (or the runner's). */
  source?: 'push';
  /**
   * Set by a store on a result it keeps only as a tombstone after dropping it at its expiry (Redis expires results
   * natively, by its own clock): such a result is STALE whatever the reader's clock says. Never written by callers.
   */
  expired?: true;
}

/** A trait that keeps a pipeline from being READY, and why. */
export interface BlockingTrait {
  trait: string;
  state: TraitState;
  reasonCode: ReasonCode;
  reason: string;
}

/** A trait as the readiness rule saw it. */
export interface TraitView {
  trait: string;
  required: boolean;
  state: TraitState;
  result?: TraitResult;
  /** ms of validity left at `now`; undefined when it never expires or has no result. */
  ttlLeftMs?: number;
}

export type Outcome = (typeof OUTCOMES)[number];

export interface Readiness {
  pipeline: string;
  outcome: Outcome;
  rule: ReadinessRule;
  traits: TraitView[];
  blocking: BlockingTrait[];
  /** Extra reason when the rule itself blocks (e.g. no traits, majority not reached). */
  note?: string;
  decidedAt: number;
}

/** Where an evaluation came from. */
export type DecisionSource = (typeof DECISION_SOURCES)[number];

/** The kinds of trigger. */
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/** The durable answer to "why was it blocked at 06:02?". */
export interface DecisionRecord {
  id: string;
  pipeline: string;
  source: DecisionSource;
  rule: ReadinessRule;
  outcome: Outcome;
  traits: Array<{
    trait: string;
    required: boolean;
    status: TraitState;
    value?: Record<string, unknown>;
    reason?: string;
    reasonCode?: ReasonCode;
    durationMs?: number;
  }>;
  blocking: BlockingTrait[];
  note?: string;
  decidedAt: number;
  runId?: string;
}

/** What a trigger call produced. Secrets are already redacted (core/shapes.ts). */
export type TriggerOutcome = z.infer<typeof triggerOutcomeSchema>;

/**
 * The process a command trigger started: enough to find it again from another process on the same machine, and to
 * tell it apart from a later process that got the same pid.
 */
export interface JobProcess {
  /** Process group id (the command runs in its own group; this is also the leader's pid). */
  pgid: number;
  /** os.hostname() of the machine that runs it. */
  host: string;
  /**
   * The kernel's boot id and the pid namespace of the process that started it: the same host name after a reboot,
   * or in another container, is not the same place (its pids mean other processes).
   */
  machine?: string;
  /** The leader's start time in clock ticks after boot (/proc/<pid>/stat field 22): a reused pid has another one. */
  startTicks?: number;
  /** epoch ms */
  startedAt: number;
}

/** One run of a pipeline. `version` counts successful transitions + 1 (a new run is version 1). */
export interface RunState {
  runId: string;
  pipeline: string;
  status: RunStatus;
  version: number;
  createdAt: number;
  updatedAt: number;
  triggeredAt?: number;
  finishedAt?: number;
  /** Where the run was started from. */
  source: DecisionSource;
  /** The decision that allowed or blocked it. */
  decisionId?: string;
  /** Human reason for the current state (blocked by…, trigger failed…, timed out…). */
  reason?: string;
  trigger?: TriggerOutcome;
  /** Completion callback metadata. */
  metadata?: Record<string, unknown>;
  /** After this epoch ms a non-terminal run is overdue and becomes TIMED_OUT when next touched. */
  deadlineAt: number;
  /** The kind of trigger the run fired (set on TRIGGERING). A command run's own exit status decides its outcome. */
  triggerType?: TriggerType;
  /** A command trigger's process, recorded as soon as it has started. */
  job?: JobProcess;
  /**
   * A run that ended while its command may still be running (it could not be signalled, e.g. it runs on another
   * host) keeps the pipeline's lock until this epoch ms, or until its process is seen gone, whichever comes first.
   */
  lockHeldUntil?: number;
  /**
   * The occurrence this run is for, when it has one: the watcher's `<window key>#<attempt>`. The store refuses a
   * second run with the same key (atomically with the lock), so one window attempt can never fire twice. A manual
   * run has none.
   */
  runKey?: string;
  /** The schedule window this run is an attempt of (watcher runs only). */
  window?: { key: string; attempt: number };
  /**
   * 'UNKNOWN': the run is FAILED, but its trigger may have started the job (an http request was sent, then the
   * connection was lost or no answer came in time). Never retried automatically; someone must check the target.
   */
  outcome?: 'UNKNOWN';
  /**
   * A native trigger's job on its platform (Airflow DAG run): its id, last known state and when it was last polled.
   * A RUNNING run with one is completed by polling that state (no callback needed), and cancelled there.
   */
  platform?: PlatformRun;
}

/** A transition as recorded in a pipeline's history. */
export interface RunEvent {
  runId: string;
  pipeline: string;
  from: RunStatus | null;
  to: RunStatus;
  version: number;
  at: number;
  reason?: string;
}

/** STAMP unsafe-control-action categories (Leveson), as alerts name them. */
export type UcaCategory = (typeof UCA_CATEGORIES)[number];

export type AlertKind = (typeof ALERT_KINDS)[number];

export type AlertLevel = (typeof ALERT_LEVELS)[number];

/** An alert as every sink receives it (core/shapes.ts). */
export type Alert = z.infer<typeof alertSchema>;
