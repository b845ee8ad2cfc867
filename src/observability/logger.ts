// The logger interface every use-case writes to (ctx.log), and today's stderr implementation of it.

/** Structured context of a log line (run id, pipeline, event type…). */
export type LogFields = Readonly<Record<string, unknown>>;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A small logger: one message per call, optional fields. A later issue backs it with pino. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** The log formats of `serve` and `watch`: today's human lines, or pino JSON lines. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** INTERLOCK_LOG's value as a level; anything else (unset included) is `warn`. */
export function logLevelFrom(value: string | undefined): LogLevel {
  return LOG_LEVELS.includes(value as LogLevel) ? (value as LogLevel) : 'warn';
}

function suffix(fields: LogFields | undefined): string {
  return fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
}

const PREFIX: Record<LogLevel, string> = {
  debug: 'interlock: debug: ',
  info: 'interlock: ',
  warn: 'interlock: warning: ',
  error: 'interlock: error: ',
};

/**
 * Lines on stderr (or `write`): `interlock: warning: <message>` for warn, `interlock: error: <message>` for error;
 * info and debug only at those levels. Fields, when given, follow the message as JSON.
 */
export function stderrLogger(
  level: LogLevel = 'warn',
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const at =
    (l: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (LOG_LEVELS.indexOf(l) >= min) write(`${PREFIX[l]}${message}${suffix(fields)}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger whose warnings and errors go to one callback (messages only); debug and info are dropped. */
export function warnLogger(warn: (message: string) => void): Logger {
  const drop = () => {};
  return { debug: drop, info: drop, warn: (m) => warn(m), error: (m) => warn(m) };
}

/**
 * `inner` with `mask` applied to each message and to every string in its fields (secrets → `***`); lines below
 * `level` are dropped before any masking work.
 */
export function maskedLogger(inner: Logger, mask: (text: string) => string, level: LogLevel = 'debug'): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const deep = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return mask(v);
    if (depth > 16 || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => deep(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x, depth + 1)]));
  };
  const at =
    (l: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (LOG_LEVELS.indexOf(l) < min) return;
      inner[l](mask(message), fields === undefined ? undefined : (deep(fields, 0) as LogFields));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
