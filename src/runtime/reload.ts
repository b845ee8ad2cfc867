// Use-case: reload the project (SIGHUP, a changed config file): load it again, merge it with the running one so that
// what broke fails closed, swap ctx.project in one step, and say what changed (event, log line, alert).
import { makeAlert } from '../alert/index.js';
import { type LoadedProject, loadProject, projectFileErrors } from '../config/index.js';
import { type Diagnostic, formatDiagnostic } from '../core/errors.js';
import type { Alert, InvalidPipeline, PipelineSpec } from '../core/types.js';
import { withAlerts } from './alerting.js';
import { alertDispatcher } from './context.js';
import type { Context } from './context-type.js';
import type { ProjectReload } from './events.js';

/**
 * interlock.yaml settings a running process cannot change: the store it opened, the address it listens on and its
 * token, the API's registration policy, the evaluator pool's size. A reload keeps the running values and says a
 * restart is needed.
 */
export const RESTART_ONLY_SETTINGS = ['provider', 'sqlite', 'redis', 'server', 'evaluatorConcurrency'] as const;

/** What reloadProject did: the event it published, and its one-line summary. */
export interface ReloadResult extends ProjectReload {
  /** One line: `config reloaded (SIGHUP): 1 added (x), …` or why it failed. */
  summary: string;
}

/** mergeReload's answer: the project to run on, and how it differs from the running one. */
export type ReloadMerge = Pick<
  ProjectReload,
  'project' | 'added' | 'removed' | 'changed' | 'invalid' | 'failed' | 'problems' | 'restartNeeded'
>;

/** The files a pipeline is defined in (an INVALID one may name several, comma-separated). */
function sourcesOf(p: PipelineSpec | InvalidPipeline): string[] {
  return p.source.split(', ').filter((f) => f !== '' && f !== 'api');
}

function entries(p: LoadedProject): Map<string, PipelineSpec | InvalidPipeline> {
  return new Map<string, PipelineSpec | InvalidPipeline>([...p.pipelines, ...p.invalid]);
}

/** What a pipeline's definition is, for "did it change": its spec or INVALID problems, and its watcher config. */
function fingerprint(p: LoadedProject, name: string): string {
  return JSON.stringify([p.pipelines.get(name) ?? p.invalid.get(name) ?? null, p.watch.get(name) ?? null]);
}

const sorted = (names: Iterable<string>) => [...names].sort((a, b) => a.localeCompare(b));

/**
 * The merge rule of a reload whose interlock.yaml loaded without errors (pure; `next` is not changed):
 *
 * - every pipeline takes its new definition: a valid one runs on it at once, an INVALID one (its file or its
 *   archetype has errors) is INVALID with the new diagnostics — never evaluated or triggered, never left running on
 *   its old definition;
 * - a pipeline the running project defines whose file now has errors so bad that no name can be read from it (a YAML
 *   syntax error, a truncated file) stays known by its old name and becomes INVALID with that file's diagnostics,
 *   instead of vanishing (and letting a registered pipeline of that name, or nothing, take its place);
 * - a pipeline whose file is gone, or valid and defining other names, is removed;
 * - the settings in RESTART_ONLY_SETTINGS keep their running values (listed in `restartNeeded` when they changed).
 */
export function mergeReload(previous: LoadedProject, next: LoadedProject): ReloadMerge {
  const errorsByFile = new Map<string, Diagnostic[]>();
  for (const d of next.diagnostics) {
    if (d.severity === 'error') errorsByFile.set(d.file, [...(errorsByFile.get(d.file) ?? []), d]);
  }
  const broken = new Set(next.invalidFiles);
  const invalid = new Map(next.invalid);
  const known = entries(next);
  for (const [name, p] of entries(previous)) {
    if (known.has(name)) continue;
    const files = sourcesOf(p).filter((f) => broken.has(f));
    if (files.length === 0) continue;
    const problems = files.flatMap((f) => errorsByFile.get(f) ?? []);
    invalid.set(name, { name, status: 'INVALID', source: files.join(', '), problems });
  }

  const restartNeeded: string[] = [];
  const config = { ...next.config };
  for (const key of RESTART_ONLY_SETTINGS) {
    if (JSON.stringify(previous.config[key]) === JSON.stringify(next.config[key])) continue;
    restartNeeded.push(key);
    (config as Record<string, unknown>)[key] = previous.config[key];
  }
  const project: LoadedProject = { ...next, config, invalid };

  const before = entries(previous);
  const after = entries(project);
  const added = sorted([...after.keys()].filter((n) => !before.has(n)));
  const removed = sorted([...before.keys()].filter((n) => !after.has(n)));
  const changed = sorted(
    [...after.keys()].filter((n) => before.has(n) && fingerprint(previous, n) !== fingerprint(project, n)),
  );
  const failed = sorted(
    [...invalid.keys()].filter((n) => {
      const was = previous.invalid.get(n);
      return was === undefined || JSON.stringify(was.problems) !== JSON.stringify(invalid.get(n)?.problems);
    }),
  );
  return {
    project,
    added,
    removed,
    changed,
    invalid: sorted(invalid.keys()),
    failed,
    problems: next.diagnostics.filter((d) => d.severity === 'error'),
    restartNeeded,
  };
}

/** The last project-level failure alerted per context: the same broken interlock.yaml saved again alerts once. */
const lastProjectFailure = new WeakMap<Context, string>();

const list = (names: string[], max = 5) =>
  names.length === 0 ? '' : ` (${names.slice(0, max).join(', ')}${names.length > max ? ', …' : ''})`;

function summaryOf(r: ProjectReload): string {
  const head = `config reload (${r.reason})`;
  if (!r.applied) return `${head} failed: ${r.error}; kept the last good config for every pipeline`;
  const parts = [
    `${r.added.length} added${list(r.added)}`,
    `${r.removed.length} removed${list(r.removed)}`,
    `${r.changed.length} changed${list(r.changed)}`,
  ];
  let line = `${head}: ${parts.join(', ')}`;
  if (r.failed.length > 0) {
    const first = r.project.invalid.get(r.failed[0] as string)?.problems[0];
    const why = first ? `: ${first.file ? `${first.file}:${first.line}:${first.col} ` : ''}${first.message}` : '';
    line += `; failed for ${r.failed.length === 1 ? 'pipeline' : 'pipelines'} ${r.failed.join(', ')}, now INVALID (never triggered until fixed)${why}`;
  } else if (r.invalid.length > 0) {
    line += `; ${r.invalid.length} INVALID${list(r.invalid)}`;
  }
  if (r.restartNeeded.length > 0) {
    line += `; ${r.restartNeeded.join(', ')} changed in interlock.yaml: kept the running values, restart to apply`;
  }
  return line;
}

function failureAlerts(r: ProjectReload, now: number): Alert[] {
  if (!r.applied) {
    return [
      makeAlert(
        'CONFIG_RELOAD_FAILED',
        {
          pipeline: '*',
          message: `config reload failed: ${r.error}; every pipeline keeps its last good config`,
          details: { reason: r.reason, problems: r.problems },
        },
        now,
      ),
    ];
  }
  return r.failed.map((name) => {
    const p = r.project.invalid.get(name) as InvalidPipeline;
    const n = p.problems.length;
    return makeAlert(
      'CONFIG_RELOAD_FAILED',
      {
        pipeline: name,
        message: `${name} is INVALID after a config reload (${n} ${n === 1 ? 'problem' : 'problems'} in ${p.source}): it is never evaluated or triggered until fixed`,
        details: { reason: r.reason, source: p.source, problems: p.problems },
      },
      now,
    );
  });
}

/**
 * Loads the project again from ctx.project.configFile and swaps ctx.project (see mergeReload for the rule). When
 * interlock.yaml cannot be read or has errors, nothing changes: the whole last good project is kept. The load, the
 * merge and the swap happen in one synchronous step, so a request sees either the old project or the new one, never
 * a mix; requests already running keep the specs they read. A changed `alerts` block takes effect at once.
 *
 * Publishes `project.reloaded` (every attempt, `applied` says whether it took), raises one CONFIG_RELOAD_FAILED
 * alert per pipeline this reload made INVALID (or one for the project, pipeline `*`, when interlock.yaml failed; the
 * same failure again is not re-alerted), and logs the summary: a warning when anything failed or needs a restart,
 * debug otherwise (the caller reports a good reload as it sees fit: `result.summary`). Never throws.
 */
export async function reloadProject(ctx: Context, opts: { reason?: string } = {}): Promise<ReloadResult> {
  const reason = opts.reason ?? 'reload';
  const previous = ctx.project;
  let event: ProjectReload;
  let next: LoadedProject | undefined;
  let error: string | undefined;
  try {
    next = loadProject(previous.configFile, { env: ctx.env });
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const ownErrors = next ? projectFileErrors(next) : [];
  if (!next || ownErrors.length > 0) {
    const first = ownErrors[0];
    const n = ownErrors.length;
    event = {
      reason,
      applied: false,
      error:
        error ??
        `${n} ${n === 1 ? 'error' : 'errors'} in ${first?.file ?? 'interlock.yaml'}${first ? ` (${formatDiagnostic(first)})` : ''}`,
      previous,
      project: previous,
      added: [],
      removed: [],
      changed: [],
      invalid: sorted(previous.invalid.keys()),
      failed: [],
      problems: ownErrors,
      restartNeeded: [],
    };
  } else {
    const merged = mergeReload(previous, next);
    // The swap: one assignment each, in the same tick as the load (no await in between).
    ctx.project = merged.project;
    if (JSON.stringify(previous.config.alerts) !== JSON.stringify(merged.project.config.alerts)) {
      ctx.alerts = alertDispatcher(merged.project.config.alerts, (m) => ctx.log.warn(m), ctx.events, {
        env: ctx.env,
        publicUrl: merged.project.config.server.publicUrl,
      });
      ctx.repeatAfterMs = merged.project.config.alerts.repeatAfterSeconds * 1000;
    }
    event = { reason, applied: true, previous, ...merged };
  }

  let alerts = failureAlerts(event, ctx.clock.now());
  if (!event.applied) {
    const key = `${event.error}\n${JSON.stringify(event.problems)}`;
    if (lastProjectFailure.get(ctx) === key) alerts = [];
    lastProjectFailure.set(ctx, key);
  } else {
    lastProjectFailure.delete(ctx);
  }

  const result: ReloadResult = { ...event, summary: summaryOf(event) };
  if (!event.applied || event.failed.length > 0 || event.restartNeeded.length > 0) {
    ctx.log.warn(result.summary);
  } else {
    ctx.log.debug(result.summary);
  }
  try {
    await withAlerts(ctx, async () => {
      for (const alert of alerts) await ctx.events.publish('alert.raised', { alert });
    });
    await ctx.events.publish('project.reloaded', event);
  } catch (err) {
    // Feedback only: a failing subscriber or sink never undoes the reload (the bus already logs subscriber errors).
    ctx.log.warn(`after the config reload: ${err instanceof Error ? err.message : String(err)}`);
  }
  return result;
}
