// Use-case: `interlock add-pipeline` — write a validated pipelines/<name>.yaml, never overwriting.
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { assertValid, findConfigFile, loadProject } from '../config/index.js';
import { InterlockError } from '../core/errors.js';
import { BUILTIN_PREFIX, PUSH_EVALUATOR } from '../core/lists.js';
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
  /**
   * Required traits whose check-<trait> evaluator exists but declares no config template (no `interlock-config:`
   * line): not wired, since what it needs is unknown; they stay NOT_READY (NO_EVALUATOR) until wired by hand.
   */
  undeclaredEvaluators: string[];
  /** Config fields written as `<…>` placeholders (`<trait>.config.<key>`): NOT_READY until each is replaced. */
  placeholders: string[];
}

/** The line an evaluator script declares its config with: `# interlock-config: {"path": "<…>"}` (or `//`). */
const CONFIG_LINE = /^\s*(?:#|\/\/)\s*interlock-config:\s*(\{.*\})\s*$/m;

/** A `<…>` string: a value the user still has to fill in (the scaffold evaluators FAIL on it, naming the key). */
export function isPlaceholder(v: unknown): boolean {
  return typeof v === 'string' && /^<.*>$/.test(v.trim());
}

/**
 * The config template an evaluator script declares in its first 4 KiB (`interlock-config: {…}`), or undefined
 * when it declares none or the declaration is not a JSON object.
 */
export function declaredConfig(file: string): Record<string, unknown> | undefined {
  let head: string;
  try {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(4096);
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const m = CONFIG_LINE.exec(head);
  if (!m) return undefined;
  try {
    const v: unknown = JSON.parse(m[1]);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `<trait>.config.<key>` for every placeholder in a config (lists included: `key[0]`). */
function placeholdersIn(trait: string, config: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(config)) {
    if (isPlaceholder(v)) out.push(`${trait}.config.${k}`);
    else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) if (isPlaceholder(x)) out.push(`${trait}.config.${k}[${i}]`);
    }
  }
  return out;
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

  // Wire evaluators/check-<trait> for each required trait, with the config it declares: the keys the archetype's
  // defaultConfig does not already give, `<…>` placeholders included. An evaluator that declares no config is not
  // wired (a pipeline that passes validate but can never be READY helps no one); the trait stays NO_EVALUATOR.
  const traits: Record<string, { evaluator: string; config?: Record<string, unknown> }> = {};
  const missingEvaluators: string[] = [];
  const undeclaredEvaluators: string[] = [];
  const placeholders: string[] = [];
  for (const t of archetype.requiredTraits) {
    // The archetype says its results are pushed, or names a builtin: nothing to wire (a check-<trait> beside it
    // would override that).
    if (t.evaluator === PUSH_EVALUATOR || t.evaluator?.startsWith(BUILTIN_PREFIX)) continue;
    const name = `check-${t.type}`;
    const dir = project.config.evaluatorDirs.find((d) => existsSync(join(d, name)));
    if (dir === undefined) {
      missingEvaluators.push(t.type);
      continue;
    }
    const declared = declaredConfig(join(dir, name));
    if (declared === undefined) {
      undeclaredEvaluators.push(t.type);
      continue;
    }
    const config = Object.fromEntries(Object.entries(declared).filter(([k]) => !(k in (t.defaultConfig ?? {}))));
    traits[t.type] = Object.keys(config).length ? { evaluator: name, config } : { evaluator: name };
    placeholders.push(...placeholdersIn(t.type, config));
  }

  const doc: Record<string, unknown> = { name: o.name, archetype: o.archetype };
  if (o.tier !== undefined) doc.tier = o.tier;
  doc.traits = traits;
  if (trigger) doc.trigger = trigger;

  const dir = project.config.pipelineDirs[0];
  const file = join(dir, `${o.name}.yaml`);
  const schemaRef = relative(dir, join(project.root, 'schemas', 'pipeline.schema.json'));
  const unwired = [...missingEvaluators, ...undeclaredEvaluators];
  const todo =
    (unwired.length
      ? `# No evaluator wired for: ${unwired.join(', ')}. Add one per trait, e.g.\n#   ${unwired[0]}:\n#     evaluator: ./evaluators/my-check\n`
      : '') +
    (placeholders.length
      ? `# Replace every "<…>" placeholder (${placeholders.join(', ')}): until then the trait FAILs naming the key.\n`
      : '');
  const text = `# yaml-language-server: $schema=${schemaRef}\n${todo}${stringify(doc, { lineWidth: 0 })}`;

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
  return { file, missingEvaluators, undeclaredEvaluators, placeholders };
}
