// The shapes of a loaded project (a leaf: load.ts builds them, pipeline-rules.ts and everyone else read them).
import type { Diagnostic } from '../core/errors.js';
import type { InvalidPipeline, PipelineSpec, ReadinessRule } from '../core/types.js';
import type { ArchetypeTraitDef } from '../engine/resolve-traits.js';
import type { PipelineWatchConfig, ProjectWatcherConfig } from './schedule-schema.js';
import type { AlertConfig, ProjectFile } from './schema.js';

/** An archetype as loaded. `file` is relative to the project root. */
export interface ArchetypeDef {
  name: string;
  description?: string;
  requiredTraits: ArchetypeTraitDef[];
  optionalTraits: ArchetypeTraitDef[];
  readinessRule: ReadinessRule;
  file: string;
}

/** The `alerts` block, whichever way it was written (a list of sinks, or { repeatAfter, timeout, sinks }). */
export interface AlertsConfig {
  /** Seconds before an unchanged alert condition is sent again; 0 = every time. */
  repeatAfterSeconds: number;
  /** Seconds one batch of alerts may take to deliver, all sinks and retries included. */
  timeoutSeconds: number;
  /** In config order. A file sink's path is absolute. */
  sinks: AlertConfig[];
}

/**
 * interlock.yaml with defaults applied. Every path in it is absolute, resolved against the directory of
 * interlock.yaml: archetypeDirs, evaluatorDirs, pipelineDirs, calendarDirs, sqlite.path and file alerts' path.
 */
export type ProjectConfig = Omit<ProjectFile, 'alerts'> & { alerts: AlertsConfig };

export interface LoadedProject {
  /** Absolute directory of interlock.yaml; every relative path in config resolves against it. */
  root: string;
  /** Absolute path of interlock.yaml. */
  configFile: string;
  config: ProjectConfig;
  /** Archetypes without errors, by name. */
  archetypes: Map<string, ArchetypeDef>;
  /** Pipelines without errors (whose archetype has none either), by name. */
  pipelines: Map<string, PipelineSpec>;
  /**
   * Pipelines blocked by config errors, by name: their own file has errors, their archetype is invalid, or another
   * file defines the same name. Never evaluated or triggered; `problems` are the diagnostics that block them.
   */
  invalid: Map<string, InvalidPipeline>;
  /** Archetype, pipeline and calendar files with errors (relative to root), in load order. */
  invalidFiles: string[];
  /** Every problem found: structural (per file, in document order) first, then semantic. */
  diagnostics: Diagnostic[];
  /**
   * The watcher's view of each valid pipeline that has `schedules` (engine specs, by pipeline name). A pipeline
   * without schedules is on demand only and is absent here.
   */
  watch: Map<string, PipelineWatchConfig>;
  /** interlock.yaml's `timezone`, `calendarDirs` (absolute) and `watcher` block, with defaults. */
  watcher: ProjectWatcherConfig;
}
