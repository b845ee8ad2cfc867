// Use-case: `interlock add-pipeline` — write a validated pipelines/<name>.yaml, never overwriting.
import { existsSync, linkSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { assertValid, findConfigFile, loadProject } from '../config/index.js';
import { InterlockError } from '../core/errors.js';
import { isValidName, NAME_MAX } from '../core/names.js';
import type { TriggerSpec } from '../core/types.js';

export interface AddPipelineOptions {
  cwd: string;
  configPath?: string;
  name: string;
  archetype: string;
  tier?: number;
  triggerType?: 'command' | 'http';
  triggerCommand?: string;
  triggerUrl?: string;
}

export interface AddPipelineResult {
  file: string;
  /** Required traits for which no evaluator was found (the pipeline stays NOT_READY until they get one). */
  missingEvaluators: string[];
}

function usage(message: string): InterlockError {
  return new InterlockError('USAGE', message);
}

function triggerFrom(o: AddPipelineOptions): TriggerSpec | undefined {
  const type =
    o.triggerType ?? (o.triggerCommand !== undefined ? 'command' : o.triggerUrl !== undefined ? 'http' : undefined);
  if (type === undefined) return undefined;
  if (o.triggerCommand !== undefined && o.triggerUrl !== undefined) {
    throw usage('give either --trigger-command or --trigger-url, not both');
  }
  if (type === 'command') {
    if (!o.triggerCommand) throw usage('--trigger-type command needs --trigger-command "<shell command>"');
    return { type: 'command', command: o.triggerCommand };
  }
  if (type === 'http') {
    if (!o.triggerUrl) throw usage('--trigger-type http needs --trigger-url <url>');
    return { type: 'http', method: 'POST', url: o.triggerUrl };
  }
  throw usage(`unknown trigger type '${String(type)}' (supported: command, http)`);
}

export function addPipeline(o: AddPipelineOptions): AddPipelineResult {
  if (!isValidName(o.name)) {
    throw usage(`invalid pipeline name '${o.name}': must match [a-z0-9][a-z0-9._-]* (at most ${NAME_MAX} characters)`);
  }
  if (o.tier !== undefined && (!Number.isInteger(o.tier) || o.tier < 0))
    throw usage('--tier must be a whole number ≥ 0');
  const trigger = triggerFrom(o);
  const configFile = findConfigFile(o.cwd, o.configPath);
  const project = loadProject(configFile);
  assertValid(project);

  const existing = project.pipelines.get(o.name);
  if (existing) {
    throw new InterlockError('ALREADY_EXISTS', `pipeline '${o.name}' already exists (${existing.source})`, {
      pipeline: o.name,
    });
  }
  const archetype = project.archetypes.get(o.archetype);
  if (!archetype) {
    const known = [...project.archetypes.keys()].join(', ') || 'none';
    throw new InterlockError('ARCHETYPE_NOT_FOUND', `unknown archetype '${o.archetype}' (known: ${known})`);
  }

  // Fill in an evaluator for each required trait when evaluators/check-<trait> exists.
  const traits: Record<string, { evaluator: string }> = {};
  const missingEvaluators: string[] = [];
  for (const t of archetype.requiredTraits) {
    const name = `check-${t.type}`;
    if (project.config.evaluatorDirs.some((d) => existsSync(join(d, name)))) traits[t.type] = { evaluator: name };
    else missingEvaluators.push(t.type);
  }

  const doc: Record<string, unknown> = { name: o.name, archetype: o.archetype };
  if (o.tier !== undefined) doc.tier = o.tier;
  doc.traits = traits;
  if (trigger) doc.trigger = trigger;

  const dir = project.config.pipelineDirs[0];
  const file = join(dir, `${o.name}.yaml`);
  const schemaRef = relative(dir, join(project.root, 'schemas', 'pipeline.schema.json'));
  const todo = missingEvaluators.length
    ? `# No evaluator found for: ${missingEvaluators.join(', ')}. Add one per trait, e.g.\n#   ${missingEvaluators[0]}:\n#     evaluator: ./evaluators/my-check\n`
    : '';
  const text = `# yaml-language-server: $schema=${schemaRef}\n${todo}${stringify(doc)}`;

  // Write beside the target, then hard-link into place: link() fails if the target exists, so nothing is overwritten.
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, text, { flag: 'wx' });
    linkSync(tmp, file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new InterlockError('ALREADY_EXISTS', `${relative(o.cwd, file) || file} already exists; not overwriting`);
    throw new InterlockError('IO_ERROR', `cannot write ${file}: ${(cause as Error).message}`, { cause });
  } finally {
    try {
      unlinkSync(tmp);
    } catch {}
  }

  // Re-validate the project with the new file; take it back out if it breaks anything.
  const after = loadProject(configFile);
  if (after.diagnostics.some((d) => d.severity === 'error')) {
    unlinkSync(file);
    assertValid(after);
  }
  return { file, missingEvaluators };
}
