// Use-case: `interlock validate` — load the whole project and report every diagnostic.

import { findConfigFile, loadProject } from '../config/index.js';
import type { Diagnostic } from '../core/errors.js';

export interface ValidationReport {
  configFile: string;
  pipelines: string[];
  archetypes: string[];
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

export function validateProject(cwd: string, configPath?: string): ValidationReport {
  const configFile = findConfigFile(cwd, configPath);
  const p = loadProject(configFile);
  return {
    configFile,
    pipelines: [...p.pipelines.keys()].sort(),
    archetypes: [...p.archetypes.keys()].sort(),
    errors: p.diagnostics.filter((d) => d.severity === 'error'),
    warnings: p.diagnostics.filter((d) => d.severity === 'warning'),
  };
}
