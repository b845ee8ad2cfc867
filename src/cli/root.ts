// The CLI's part of the composition root: what every command's Context gets from this process (cwd, env, logger).
import { type Logger, logLevelFrom, stderrLogger } from '../observability/index.js';
import type { OpenOptions } from '../runtime/context.js';
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
