// Use-case: `interlock validate` — load the whole project and report every diagnostic.

import { findConfigFile, type LoadedProject, loadProject, sortDiagnostics } from '../config/index.js';
import type { Diagnostic } from '../core/errors.js';
import { stpaDiagnostics } from './stpa.js';
import type { ConnectionCheck } from './validate-connect.js';

export interface ValidationReport {
  configFile: string;
  /** Pipelines without errors. */
  pipelines: string[];
  /** Pipelines blocked by errors (INVALID: never evaluated or triggered). */
  invalidPipelines: string[];
  archetypes: string[];
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** With `strict`, warnings fail validation too. */
  strict: boolean;
  /** No errors, and no warnings either when strict. */
  valid: boolean;
  /** With `connect`: each connection opened (its URL masked), and whether it answered. */
  connections?: ConnectionCheck[];
}

/**
 * Loads the whole project and sorts its diagnostics; `strict` makes any warning fail validation; `stpa` adds a
 * warning per unguarded unsafe control action of each scheduled pipeline.
 */
export function validateProject(
  cwd: string,
  configPath?: string,
  opts: { strict?: boolean; stpa?: boolean } = {},
): ValidationReport {
  const configFile = findConfigFile(cwd, configPath);
  const p = loadProject(configFile);
  return report(configFile, p, opts.stpa ? stpaDiagnostics(p) : [], opts.strict ?? false);
}

/**
 * validateProject, then (`validate --connect`) opens each connection the SQL builtins of the valid pipelines use,
 * with `${VAR}` from `env`, and adds what it finds (a connection that fails, a missing table or column) as
 * diagnostics at the trait's config.
 */
export async function validateProjectConnected(
  cwd: string,
  configPath: string | undefined,
  opts: { strict?: boolean; stpa?: boolean; env: Readonly<NodeJS.ProcessEnv> },
): Promise<ValidationReport> {
  const configFile = findConfigFile(cwd, configPath);
  const p = loadProject(configFile);
  const { connectDiagnostics } = await import('./validate-connect.js');
  const found = await connectDiagnostics(p, opts.env);
  const extra = [...(opts.stpa ? stpaDiagnostics(p) : []), ...found.diagnostics];
  return { ...report(configFile, p, extra, opts.strict ?? false), connections: found.connections };
}

function report(configFile: string, p: LoadedProject, extra: Diagnostic[], strict: boolean): ValidationReport {
  const all = [...p.diagnostics, ...sortDiagnostics(extra)];
  const errors = all.filter((d) => d.severity === 'error');
  const warnings = all.filter((d) => d.severity === 'warning');
  return {
    configFile,
    pipelines: [...p.pipelines.keys()].sort(),
    invalidPipelines: [...p.invalid.keys()].sort(),
    archetypes: [...p.archetypes.keys()].sort(),
    errors,
    warnings,
    strict,
    valid: errors.length === 0 && !(strict && warnings.length > 0),
  };
}
