// The runtime unit tests' project and Context: a small project (interlock.yaml, archetype `gate` with one required
// trait, evaluator scripts, any further files) written into a directory, and a Context opened on it over a
// MemoryStore (or a given store) with a FakeClock and a recording logger; and the alerts a Context sent.
import { join } from 'node:path';
import type { Alert, PipelineSpec, TriggerSpec } from '../../src/core/types.js';
import type { Logger } from '../../src/observability/logger.js';
import { type Context, openContext } from '../../src/runtime/context.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { Store } from '../../src/store/types.js';
import { FakeClock } from './fake-clock.js';
import { writeFiles } from './files.js';
import { type RecordingLogger, recordingLogger } from './recording-logger.js';

/** interlock.yaml of a memory-store project whose API may register command triggers (as a trusted operator allows). */
export const COMMAND_REGISTRATION_CONFIG = 'provider: memory\nserver:\n  allowCommandRegistration: true\n';

export interface GateProjectOptions {
  /** interlock.yaml; {@link COMMAND_REGISTRATION_CONFIG} unless given. */
  config?: string;
  /** The type of archetype `gate`'s one required trait; `a` unless given. */
  trait?: string;
  /** Further files by relative path (evaluator scripts under evaluators/, made executable; pipelines/…). */
  files?: Record<string, string>;
}

/** Writes the project into `root` (an existing directory). */
export function writeGateProject(root: string, opts: GateProjectOptions = {}): void {
  writeFiles(root, {
    'interlock.yaml': opts.config ?? COMMAND_REGISTRATION_CONFIG,
    'archetypes/gate.yaml': `name: gate\nrequiredTraits:\n  - type: ${opts.trait ?? 'a'}\n`,
    ...opts.files,
  });
}

export interface RuntimeContextOptions {
  /** The Context's environment; process.env unless given. */
  env?: NodeJS.ProcessEnv;
  /** A new MemoryStore unless given. */
  store?: Store;
  /** The clock; a new FakeClock at `start` unless given. */
  clock?: FakeClock;
  /** Where a new clock starts; 1_700_000_000_000 (2023-11-14T22:13:20Z) unless given. */
  start?: number;
  /** Warnings go here instead of to the recording logger (the Context's log is then warn-only). */
  warn?: (message: string) => void;
}

export interface RuntimeContext<S extends Store = MemoryStore> {
  ctx: Context;
  store: S;
  clock: FakeClock;
  /** What the Context logged (empty when `warn` was given). */
  log: RecordingLogger;
}

/** Opens a Context on the project in `root`. */
export async function openGateContext<S extends Store = MemoryStore>(
  root: string,
  opts: RuntimeContextOptions & { store?: S } = {},
): Promise<RuntimeContext<S>> {
  const store = (opts.store ?? new MemoryStore()) as S;
  const clock = opts.clock ?? new FakeClock(opts.start ?? 1_700_000_000_000);
  const log = recordingLogger();
  const logging: { log: Logger } | { warn: (message: string) => void } = opts.warn ? { warn: opts.warn } : { log };
  const ctx = await openContext({ cwd: root, env: opts.env ?? process.env, store, clock, ...logging });
  return { ctx, store, clock, log };
}

export interface GatePipelineOptions {
  /** The evaluator script under evaluators/; `gate` unless given. */
  evaluator?: string;
  /** The trait's config; {} unless given. */
  config?: Record<string, unknown>;
  /** The environment variables the trait's evaluator may see. */
  env?: string[];
}

/** Pipeline `p` of archetype `gate` as registered over the API: required trait `a` (timeout 5 s) and `trigger`. */
export function gatePipeline(root: string, trigger: TriggerSpec, opts: GatePipelineOptions = {}): PipelineSpec {
  const evaluator = opts.evaluator ?? 'gate';
  return {
    name: 'p',
    archetype: 'gate',
    traits: [
      {
        type: 'a',
        required: true,
        evaluator: join(root, 'evaluators', evaluator),
        evaluatorRef: evaluator,
        config: opts.config ?? {},
        ...(opts.env ? { env: opts.env } : {}),
        timeoutSeconds: 5,
      },
    ],
    readinessRule: { type: 'all-required-pass' },
    trigger,
    source: 'api',
  };
}

/** Records every alert `ctx` hands to its dispatcher (still dispatching them); the returned array fills as they go. */
export function recordAlerts(ctx: Context): Alert[] {
  const sent: Alert[] = [];
  const dispatch = ctx.alerts.dispatch.bind(ctx.alerts);
  ctx.alerts.dispatch = async (alerts) => {
    sent.push(...alerts);
    return dispatch(alerts);
  };
  return sent;
}
