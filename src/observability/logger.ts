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
