// Settings of `interlock serve`: where to listen, the API token, and the refusal to listen off loopback unprotected.
import type { ProjectConfig } from '../config/project.js';
import { InterlockError } from '../core/errors.js';
import { registrationPolicy } from '../runtime/index.js';
import { formatUrl, isLoopbackHost, type ListenAddress, parseListenAddress } from './address.js';

/** Request bodies larger than this are refused with 413. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** How long shutdown waits for in-flight requests and run-state writes. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Environment variable that sets (and overrides server.authToken) the API token. */
export const TOKEN_ENV = 'INTERLOCK_API_TOKEN';

export interface ServeFlags {
  /** `--addr host:port`; overrides server.addr. */
  addr?: string;
  /** `--insecure`: allow a non-loopback address without a token. */
  insecure?: boolean;
  /** `--no-watch` (false): do not run the watcher in this process. */
  watch?: boolean;
}

export interface ServerSettings extends ListenAddress {
  /** Every route except /api/health needs `Authorization: Bearer <token>` when set. */
  token?: string;
  /** Listening off loopback without a token, because --insecure said so (by the name; the server re-checks). */
  insecure: boolean;
  /** --insecure was given: the server may bind a non-loopback address without a token. */
  insecureAllowed: boolean;
  /** Host header names accepted besides loopback ones (server.allowedHostnames). */
  allowedHostnames: string[];
  /** Origin header values accepted besides the server's own (server.allowedOrigins). */
  allowedOrigins: string[];
  maxBodyBytes: number;
  shutdownTimeoutMs: number;
  /** GET /metrics answers without the token (server.metricsPublic). */
  metricsPublic: boolean;
  /** Registration policy for POST /api/pipelines (runtime's registrationPolicy of the same config). */
  allowCommandRegistration: boolean;
  allowedHosts: readonly string[];
}

/**
 * Resolves the server settings from interlock.yaml, flags and environment. Refuses (USAGE, exit 2) to listen on a
 * non-loopback address without a token unless --insecure. A name is judged by its spelling here; the server
 * resolves it and judges the address it actually binds again (`adv.localhost` may resolve to 0.0.0.0).
 */
export function serverSettings(config: ProjectConfig, flags: ServeFlags, env: NodeJS.ProcessEnv): ServerSettings {
  const addr = parseListenAddress(flags.addr ?? config.server.addr);
  if (config.server.authToken !== undefined && config.server.authToken.trim() === '') {
    throw new InterlockError('USAGE', 'server.authToken is empty: set a token, or remove the key');
  }
  const fromEnv = env[TOKEN_ENV];
  const token = fromEnv !== undefined && fromEnv !== '' ? fromEnv : config.server.authToken;
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    throw new InterlockError(
      'USAGE',
      'the API token must be printable ASCII without spaces (it is sent as Authorization: Bearer <token>)',
    );
  }
  const loopback = isLoopbackHost(addr.host);
  if (!loopback && token === undefined && !flags.insecure) {
    throw new InterlockError(
      'USAGE',
      `refusing to listen on ${formatUrl(addr.host, addr.port)} (not a loopback address) without an API token: ` +
        `set server.authToken in interlock.yaml or ${TOKEN_ENV}, or pass --insecure to accept unauthenticated requests from the network`,
    );
  }
  const s: ServerSettings = {
    ...addr,
    insecure: !loopback && token === undefined,
    insecureAllowed: flags.insecure === true,
    allowedHostnames: config.server.allowedHostnames ?? [],
    allowedOrigins: config.server.allowedOrigins ?? [],
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    shutdownTimeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    metricsPublic: config.server.metricsPublic === true,
    ...registrationPolicy(config),
  };
  if (token !== undefined) s.token = token;
  return s;
}
