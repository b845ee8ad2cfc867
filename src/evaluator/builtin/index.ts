// Built-in checks: the registry (lazy) and the contract each builtin implements.
export { loadBuiltin } from './registry.js';
export { SqlPools } from './sql-connection.js';
export type {
  Builtin,
  BuiltinContext,
  BuiltinOutcome,
  HostGuardResult,
  UpstreamReader,
  UpstreamRun,
  UpstreamWindow,
} from './types.js';
