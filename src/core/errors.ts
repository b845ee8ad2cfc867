// InterlockError: the one error type, its codes, and the tables mapping codes to exit codes and HTTP statuses.

/** Every failure Interlock reports by code. */
export type ErrorCode =
  | 'USAGE' // bad command-line usage
  | 'CONFIG_INVALID' // a config file failed validation (diagnostics attached)
  | 'CONFIG_NOT_FOUND' // no interlock.yaml found
  | 'PIPELINE_NOT_FOUND'
  | 'PIPELINE_INVALID' // a registered pipeline read from the store fails its checks: never evaluated or run
  | 'RUN_NOT_FOUND'
  | 'ARCHETYPE_NOT_FOUND'
  | 'NO_TRIGGER' // run asked of a pipeline without a trigger
  | 'TRIGGER_ENV_MISSING' // a trigger references an unset environment variable
  | 'TRAIT_NOT_FOUND' // a trait the pipeline does not have, or one with no stored result
  | 'NOT_FOUND' // HTTP: no such route
  | 'METHOD_NOT_ALLOWED' // HTTP: a known path asked with a method it does not have (Allow lists those it has)
  | 'CONFLICT' // refused: the run's state does not allow it (conflicting completion, cancel of an ended run)
  | 'ALREADY_RUNNING' // another run of the pipeline holds its lock (context: runId of the active run)
  | 'NOT_READY' // a run was refused because the pipeline is NOT_READY (context: blocking traits)
  | 'ALREADY_EXISTS' // refusing to overwrite
  | 'INVALID_REQUEST' // HTTP: malformed JSON, wrong types, unknown keys (context: problems)
  | 'UNSUPPORTED_MEDIA_TYPE' // HTTP: a body that is not application/json
  | 'PAYLOAD_TOO_LARGE' // HTTP: request body over the limit
  | 'UNAUTHORIZED' // HTTP: missing or wrong bearer token
  | 'FORBIDDEN' // refused by policy (e.g. registering a command trigger over HTTP, a cross-site Origin)
  | 'MISDIRECTED_REQUEST' // HTTP: a Host header this server does not answer to (DNS rebinding)
  | 'STORE_UNAVAILABLE' // store cannot be opened or reached
  | 'STORE_CORRUPT' // store holds something unreadable
  | 'SHUTTING_DOWN' // the server is stopping and refused to start new work
  | 'IO_ERROR'
  | 'INTERNAL';

/** A config problem with its place: file:line:col and the dotted field path. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface InterlockErrorContext {
  pipeline?: string;
  file?: string;
  diagnostics?: Diagnostic[];
  cause?: unknown;
  [key: string]: unknown;
}

/** The one error class thrown across module boundaries. Data goes in `context`, not in the message. */
export class InterlockError extends Error {
  readonly code: ErrorCode;
  readonly context: InterlockErrorContext;
  constructor(code: ErrorCode, message: string, context: InterlockErrorContext = {}) {
    super(message, context.cause !== undefined ? { cause: context.cause } : undefined);
    this.name = 'InterlockError';
    this.code = code;
    this.context = context;
  }
}

/** Process exit codes, as documented in README and --help. */
export const EXIT = {
  OK: 0,
  BLOCKED: 1,
  USAGE: 2,
  RUNTIME: 3,
} as const;

const EXIT_BY_CODE: Record<ErrorCode, number> = {
  USAGE: EXIT.USAGE,
  CONFIG_INVALID: EXIT.USAGE,
  CONFIG_NOT_FOUND: EXIT.USAGE,
  PIPELINE_NOT_FOUND: EXIT.USAGE,
  PIPELINE_INVALID: EXIT.USAGE,
  RUN_NOT_FOUND: EXIT.USAGE,
  ARCHETYPE_NOT_FOUND: EXIT.USAGE,
  NO_TRIGGER: EXIT.USAGE,
  TRIGGER_ENV_MISSING: EXIT.USAGE,
  TRAIT_NOT_FOUND: EXIT.USAGE,
  NOT_FOUND: EXIT.USAGE,
  METHOD_NOT_ALLOWED: EXIT.USAGE,
  CONFLICT: EXIT.BLOCKED,
  ALREADY_RUNNING: EXIT.BLOCKED,
  NOT_READY: EXIT.BLOCKED,
  ALREADY_EXISTS: EXIT.USAGE,
  INVALID_REQUEST: EXIT.USAGE,
  UNSUPPORTED_MEDIA_TYPE: EXIT.USAGE,
  PAYLOAD_TOO_LARGE: EXIT.USAGE,
  UNAUTHORIZED: EXIT.USAGE,
  FORBIDDEN: EXIT.USAGE,
  MISDIRECTED_REQUEST: EXIT.USAGE,
  STORE_UNAVAILABLE: EXIT.RUNTIME,
  STORE_CORRUPT: EXIT.RUNTIME,
  SHUTTING_DOWN: EXIT.RUNTIME,
  IO_ERROR: EXIT.RUNTIME,
  INTERNAL: EXIT.RUNTIME,
};

const HTTP_BY_CODE: Record<ErrorCode, number> = {
  USAGE: 400,
  CONFIG_INVALID: 400,
  CONFIG_NOT_FOUND: 500,
  PIPELINE_NOT_FOUND: 404,
  PIPELINE_INVALID: 409,
  RUN_NOT_FOUND: 404,
  ARCHETYPE_NOT_FOUND: 400,
  NO_TRIGGER: 400,
  TRIGGER_ENV_MISSING: 400,
  TRAIT_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  ALREADY_RUNNING: 409,
  NOT_READY: 412,
  ALREADY_EXISTS: 409,
  INVALID_REQUEST: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  MISDIRECTED_REQUEST: 421,
  STORE_UNAVAILABLE: 503,
  STORE_CORRUPT: 500,
  SHUTTING_DOWN: 503,
  IO_ERROR: 500,
  INTERNAL: 500,
};

/** Exit code for any thrown value: unknown errors are runtime failures. */
export function exitCodeFor(err: unknown): number {
  return err instanceof InterlockError ? EXIT_BY_CODE[err.code] : EXIT.RUNTIME;
}

/** HTTP status for any thrown value. */
export function httpStatusFor(err: unknown): number {
  return err instanceof InterlockError ? HTTP_BY_CODE[err.code] : 500;
}

/** Formats a diagnostic the way editors and CI logs understand: file:line:col field: message. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.col}`;
  const field = d.path ? ` ${d.path}:` : '';
  const sev = d.severity === 'warning' ? ' warning:' : '';
  return `${where}${sev}${field} ${d.message}`;
}
