// Use-case: `interlock validate` — load the whole project and report every diagnostic.

import { findConfigFile, loadProject } from '../config/index.js';
import type { Diagnostic } from '../core/errors.js';
import { stpaDiagnostics } from './stpa.js';

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
  const errors = p.diagnostics.filter((d) => d.severity === 'error');
  const warnings = p.diagnostics.filter((d) => d.severity === 'warning');
  // --stpa: scheduled pipelines with an unsafe control action nothing guards against.
  if (opts.stpa) warnings.push(...stpaDiagnostics(p));
  const strict = opts.strict ?? false;
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
