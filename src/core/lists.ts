// Every closed list of the domain, declared once: the TS types (core/types.ts), the config and API zod schemas and the
// generated JSON Schemas all derive from these arrays (test/lists.test.ts fails if one of them drifts).

/** What an evaluator (or the runner on its behalf) reports. Only 'PASS' ever passes. */
export const EVAL_STATUSES = ['PASS', 'FAIL'] as const;

/** A trait's state as seen at some instant: a stored result past its TTL, or none at all, is STALE. */
export const TRAIT_STATES = ['PASS', 'FAIL', 'STALE'] as const;

/** Why a trait failed when the evaluator itself did not say (or could not). */
export const REASON_CODES = [
  'EVALUATOR_FAIL', // evaluator answered FAIL
  'EVALUATOR_OUTPUT_INVALID',
  'EVALUATOR_OUTPUT_TOO_LARGE',
  'EVALUATOR_ERROR', // non-zero exit or killed by a signal
  'EVALUATOR_TIMEOUT',
  'EVALUATOR_NOT_FOUND',
  'EVALUATOR_NOT_EXECUTABLE',
  'EVALUATOR_FORBIDDEN', // an untrusted pipeline's evaluator resolves outside evaluatorDirs (symlinks followed)
  'NO_EVALUATOR',
  'PUSHED_FAIL', // a result pushed over the API or CLI said FAIL
  'STALE', // result expired (TTL) or missing
  'INTERNAL',
  'CHECK_FAILED', // a builtin check measured a value outside its threshold (the value says what, vs what)
  'CONNECTION_FAILED', // a builtin could not reach its database or HTTP endpoint
  'QUERY_FAILED', // a builtin SQL check's query failed (the database's message)
] as const;

/** The readiness rules an archetype may name. */
export const READINESS_RULES = ['all-required-pass', 'majority-pass'] as const;

/** A readiness decision. */
export const OUTCOMES = ['READY', 'NOT_READY'] as const;

/** Where an evaluation or a run came from ('push': a trait result pushed over the API or CLI re-decided it). */
export const DECISION_SOURCES = ['cli', 'api', 'watcher', 'push', 'test'] as const;

/** Where a pipeline was defined: a YAML file, or registered over the HTTP API. */
export const PIPELINE_ORIGINS = ['yaml', 'api'] as const;

/** The kinds of trigger. */
export const TRIGGER_TYPES = ['command', 'http', 'airflow', 'databricks', 'glue', 'stepfunctions', 'lambda'] as const;

/** Trigger types whose platform Interlock drives itself: its own idempotency key, polled completion, cancel. */
export const NATIVE_TRIGGER_TYPES = ['airflow', 'databricks', 'glue', 'stepfunctions', 'lambda'] as const;

/** Native trigger types on AWS (driven through the AWS SDK v3, loaded only when a pipeline uses one). */
export const AWS_TRIGGER_TYPES = ['glue', 'stepfunctions', 'lambda'] as const;

/** Airflow REST API versions: v1 (Airflow 2, /api/v1), v2 (Airflow 3, /api/v2); auto asks the server. */
export const AIRFLOW_API_VERSIONS = ['auto', 'v1', 'v2'] as const;

/** The methods an http trigger may use. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** What an alert is about. */
export const ALERT_KINDS = [
  'TRAIT_FAILED',
  'PIPELINE_BLOCKED',
  'PIPELINE_READY',
  'TRIGGER_FAILED',
  'RUN_FAILED',
  'RUN_TIMED_OUT',
  'TRIGGER_OUTCOME_UNKNOWN',
  'CONFIG_RELOAD_FAILED',
  'SLA_AT_RISK',
  'SLA_BREACHED',
  'WINDOW_MISSED',
  'RUN_STUCK',
  'TRAIT_STALE',
  'RECOVERED',
  'DRIFT_DETECTED',
] as const;

/**
 * Why a trigger failed, as retries see it. TRANSIENT and TIMEOUT may be retried (per policy); PERMANENT never helps
 * to repeat; UNKNOWN means the target may have started the job (an http request was sent, no answer came back).
 */
export const FAILURE_CATEGORIES = ['TRANSIENT', 'PERMANENT', 'TIMEOUT', 'UNKNOWN'] as const;

/** How loud an alert is. */
export const ALERT_LEVELS = ['info', 'warning', 'error', 'critical'] as const;

/** STAMP unsafe-control-action categories (Leveson), as alerts name them. */
export const UCA_CATEGORIES = [
  'not-provided', // a needed control action was not provided
  'provided-unsafe', // providing the action when unsafe (a blocked trigger: prevented)
  'wrong-timing', // provided too early, too late, or out of order
  'wrong-duration', // stopped too soon or applied too long
] as const;

/** The `evaluator` value of a trait whose results only come from pushes: no evaluator ever runs for it. */
export const PUSH_EVALUATOR = 'push';

/** An `evaluator` starting with this runs a built-in check in the Interlock process: `builtin:file`. */
export const BUILTIN_PREFIX = 'builtin:';

/** The built-in checks (src/evaluator/builtin/), by the name after `builtin:`. */
export const BUILTIN_NAMES = [
  'file',
  'http',
  'sql-freshness',
  'sql-row-count',
  'sql-query',
  'sql-schema',
  'pipeline',
] as const;

/** The builtins that run SQL (trusted config only: pipelines registered over HTTP may not use them). */
export const SQL_BUILTINS: readonly string[] = ['sql-freshness', 'sql-row-count', 'sql-query', 'sql-schema'];
