// config: find and load interlock.yaml, archetypes and pipelines → PipelineSpecs + Diagnostics; JSON Schema export.

export {
  JSON_SCHEMA_FILES,
  type JsonSchemas,
  jsonSchemaFileContents,
  jsonSchemas,
  writeJsonSchemas,
} from './json-schema.js';
export {
  type AlertsConfig,
  type ArchetypeDef,
  assertUsable,
  assertValid,
  CONFIG_FILE_NAME,
  findConfigFile,
  type LoadedProject,
  type LoadOptions,
  loadProject,
  type ProjectConfig,
  projectFileErrors,
} from './load.js';
export {
  checkPipelineDocument,
  type DocumentProblem,
  type PipelineDocumentCheck,
  triggerEnvProblems,
} from './pipeline-rules.js';
export type { CalendarFile, PipelineWatchConfig, ProjectWatcherConfig } from './schedule-schema.js';
export {
  ALERT_DEFAULTS,
  type AlertConfig,
  type ArchetypeFile,
  archetypeSchema,
  type CheckResult,
  type ConfigIssue,
  checkSchema,
  durationSchema,
  HTTP_METHODS,
  MESSAGES,
  nameSchema,
  type PipelineFile,
  PROVIDERS,
  type ProjectFile,
  pipelineSchema,
  projectSchema,
  READINESS_RULES,
} from './schema.js';
export {
  checkYaml,
  diagnosticAt,
  formatPath,
  parseYaml,
  positionOf,
  sortDiagnostics,
  type YamlSource,
} from './yaml-source.js';
