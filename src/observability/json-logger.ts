// The Logger as pino JSON lines (serve and watch with --log-format json): `time` (ISO), `level` (its name), `msg`,
// then the fields (pipeline, runId, window, reqId…). pino loads lazily; masking is maskedLogger's, around this.
import type { LogFields, Logger, LogLevel } from './logger.js';

export interface JsonLoggerOptions {
  level: LogLevel;
  /** Where the lines go: a file descriptor (default 2, stderr) or a stream (tests). */
  destination?: number | NodeJS.WritableStream;
}

/** A Logger writing one JSON object a line (pino; to a file descriptor synchronously: nothing is lost on exit). */
export async function jsonLogger(o: JsonLoggerOptions): Promise<Logger> {
  const { pino } = await import('pino');
  const destination =
    typeof o.destination === 'object' ? o.destination : pino.destination({ dest: o.destination ?? 2, sync: true });
  const log = pino(
    {
      level: o.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination as Parameters<typeof pino>[1],
  );
  const at =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (fields && Object.keys(fields).length > 0) log[level](fields as object, message);
      else log[level](message);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
