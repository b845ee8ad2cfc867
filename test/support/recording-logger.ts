// A Logger that records every call, for tests that assert on what a use-case logged.
import type { LogFields, Logger, LogLevel } from '../../src/observability/logger.js';

export interface LogEntry {
  level: LogLevel;
  message: string;
  fields?: LogFields;
}

export interface RecordingLogger extends Logger {
  entries: LogEntry[];
  /** The messages logged at `level`. */
  messages(level: LogLevel): string[];
}

export function recordingLogger(): RecordingLogger {
  const entries: LogEntry[] = [];
  const at =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      entries.push(fields === undefined ? { level, message } : { level, message, fields });
    };
  return {
    entries,
    messages: (level) => entries.filter((e) => e.level === level).map((e) => e.message),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}
