// The registry of built-in checks: name → implementation, each module imported only when a trait first uses it.
import type { BuiltinName } from '../../core/builtin-config.js';
import type { Builtin } from './types.js';

const LOADERS: Record<BuiltinName, () => Promise<Builtin>> = {
  file: async () => (await import('./file.js')).fileBuiltin as Builtin,
  http: async () => (await import('./http.js')).httpBuiltin as Builtin,
  'sql-freshness': async () => (await import('./sql-freshness.js')).sqlFreshnessBuiltin as Builtin,
  'sql-row-count': async () => (await import('./sql-row-count.js')).sqlRowCountBuiltin as Builtin,
  'sql-query': async () => (await import('./sql-query.js')).sqlQueryBuiltin as Builtin,
  pipeline: async () => (await import('./pipeline.js')).pipelineBuiltin as Builtin,
  'sql-schema': async () => (await import('./sql-schema.js')).sqlSchemaBuiltin as Builtin,
};

const loaded = new Map<BuiltinName, Promise<Builtin>>();

/** The implementation of builtin `name`, loaded on first use. */
export function loadBuiltin(name: BuiltinName): Promise<Builtin> {
  let p = loaded.get(name);
  if (!p) {
    p = LOADERS[name]();
    // A failed import is not cached: the next evaluation tries again.
    p.catch(() => loaded.delete(name));
    loaded.set(name, p);
  }
  return p;
}
