// The CLI's part of the composition root: what every command's Context gets from this process (cwd, env, logger).
import { InterlockError } from '../core/errors.js';
import {
  jsonLogger,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type Logger,
  type LogLevel,
  logLevelFrom,
  maskedLogger,
  stderrLogger,
} from '../observability/index.js';
import type { OpenOptions } from '../runtime/context.js';
import type { SecretMask } from '../runtime/log-mask.js';
import type { GlobalOptions } from './output.js';

/** The one logger of a CLI process: warnings on stderr; INTERLOCK_LOG=debug|info adds those levels. */
export function cliLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  return stderrLogger(logLevelFrom(env.INTERLOCK_LOG));
}

/** openContext's options for a command: this process's directory, environment and logger, and --config. */
export function contextOptions(g: GlobalOptions): OpenOptions {
  return {
    cwd: process.cwd(),
    ...(g.config !== undefined ? { configPath: g.config } : {}),
    env: process.env,
    log: cliLogger(process.env),
  };
}

/** `--log-format` and `--log-level` of `serve` and `watch`. */
export interface LogFlags {
  logFormat?: string;
  logLevel?: string;
}

/**
 * The logger of a service (`serve`, `watch`): `--log-format json` (or INTERLOCK_LOG_FORMAT=json) writes pino JSON
 * lines on stderr, otherwise today's human lines; the level is --log-level, else INTERLOCK_LOG_LEVEL, else
 * INTERLOCK_LOG, else warn. Every line goes through `secrets` first. A bad flag value is USAGE (exit 2).
 */
export async function serviceLogger(flags: LogFlags, env: NodeJS.ProcessEnv, secrets: SecretMask): Promise<Logger> {
  const format = flags.logFormat ?? env.INTERLOCK_LOG_FORMAT ?? 'pretty';
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new InterlockError('USAGE', `--log-format must be one of ${LOG_FORMATS.join(', ')} (got '${format}')`);
  }
  if (flags.logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(flags.logLevel)) {
    throw new InterlockError('USAGE', `--log-level must be one of ${LOG_LEVELS.join(', ')} (got '${flags.logLevel}')`);
  }
  const level: LogLevel =
    (flags.logLevel as LogLevel | undefined) ?? logLevelFrom(env.INTERLOCK_LOG_LEVEL ?? env.INTERLOCK_LOG);
  const inner = (format as LogFormat) === 'json' ? await jsonLogger({ level }) : stderrLogger(level);
  return maskedLogger(inner, secrets.mask, level);
}
