// Use-case: `interlock schedule <pipeline>` — the next windows of a pipeline's schedules, from config alone (no store):
// open, `after` and deadline instants in the schedule's timezone and in UTC, and which windows exclusions skip.

import { assertUsable, findConfigFile, type LoadedProject, loadProject } from '../config/index.js';
import { InterlockError } from '../core/errors.js';
import { type ExclusionMatch, exclusionFor } from '../engine/exclusions.js';
import { isoUtc, localParts, offsetAt, weekdayOf } from '../engine/local-time.js';
import { mustCompileSchedule, nextWindows, type ScheduleSpec, type TimeSpec } from '../engine/schedule.js';
import { windowKey } from '../engine/window-key.js';
import { invalidPipelineError } from './context.js';

/** One instant, both ways: `utc` ISO 8601 with Z, `local` ISO 8601 with the schedule timezone's offset. */
export interface PreviewInstant {
  utc: string;
  local: string;
}

export interface PreviewWindow {
  /** The window record's key the watcher would write: `<pipeline>@<schedule>@<open, UTC ISO 8601>`. */
  key: string;
  /** YYYY-MM-DD of the opening in the schedule's timezone (what exclusions and INTERLOCK_WINDOW_DATE use). */
  date: string;
  /** Lowercase English weekday of `date`. */
  weekday: string;
  open: PreviewInstant;
  after: PreviewInstant;
  deadline: PreviewInstant;
  /** The window opens on an excluded day: the watcher records it EXCLUDED and never evaluates it. */
  excluded: boolean;
  /** Which rule excluded it (only when excluded). */
  exclusion?: ExclusionMatch;
}

export interface PreviewSchedule {
  name: string;
  cron?: string;
  /** `every` in ms. */
  everyMs?: number;
  anchor?: string;
  timezone: string;
  after?: TimeSpec;
  deadline?: TimeSpec;
  catchup: ScheduleSpec['catchup'];
  windows: PreviewWindow[];
}

export interface SchedulePreview {
  pipeline: string;
  /** Windows opening strictly after this instant (UTC ISO 8601). */
  from: string;
  /** live | shadow; undefined for an on-demand pipeline. */
  mode?: 'live' | 'shadow';
  /** Empty for a pipeline without schedules (on demand only). */
  schedules: PreviewSchedule[];
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** ISO 8601 of `ms` on the wall clock of `tz`, with its UTC offset: 2026-03-29T05:00:00+02:00. */
export function localIso(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  const off = Math.round(offsetAt(ms, tz) / 60_000);
  const sign = off < 0 ? '-' : '+';
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

/** The project from --config / the current directory, without opening its store. interlock.yaml errors stop here. */
export function loadForPreview(cwd: string, configPath?: string, env?: NodeJS.ProcessEnv): LoadedProject {
  const project = loadProject(findConfigFile(cwd, configPath), env ? { env } : {});
  assertUsable(project);
  return project;
}

/**
 * The next `count` windows of each schedule of pipeline `name`, opening strictly after `from` (epoch ms).
 * @throws InterlockError PIPELINE_NOT_FOUND (naming the known pipelines), CONFIG_INVALID for an INVALID pipeline.
 */
export function previewSchedule(project: LoadedProject, name: string, from: number, count: number): SchedulePreview {
  const invalid = project.invalid.get(name);
  if (invalid) throw invalidPipelineError(invalid);
  if (!project.pipelines.has(name)) {
    const known = [...project.pipelines.keys(), ...project.invalid.keys()].sort();
    const hint = known.length
      ? ` (known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})`
      : ' (no pipelines defined)';
    throw new InterlockError('PIPELINE_NOT_FOUND', `unknown pipeline '${name}'${hint}`, { pipeline: name });
  }
  const watch = project.watch.get(name);
  if (!watch) return { pipeline: name, from: isoUtc(from), schedules: [] };
  const preview: SchedulePreview = { pipeline: name, from: isoUtc(from), mode: watch.mode, schedules: [] };
  for (const spec of watch.schedules) {
    const tz = spec.timezone;
    const both = (ms: number): PreviewInstant => ({ utc: isoUtc(ms), local: localIso(ms, tz) });
    const windows = nextWindows(mustCompileSchedule(spec), from, count).map((w): PreviewWindow => {
      const match = exclusionFor(w.date, watch.exclusions);
      const out: PreviewWindow = {
        key: windowKey(name, spec.name, w.openAt),
        date: w.date,
        weekday: weekdayOf(w.date),
        open: both(w.openAt),
        after: both(w.afterAt),
        deadline: both(w.deadlineAt),
        excluded: match !== undefined,
      };
      if (match) out.exclusion = match;
      return out;
    });
    preview.schedules.push({
      name: spec.name,
      ...(spec.cron !== undefined ? { cron: spec.cron } : {}),
      ...(spec.everyMs !== undefined ? { everyMs: spec.everyMs, anchor: isoUtc(spec.anchorMs ?? 0) } : {}),
      timezone: tz,
      ...(spec.after ? { after: spec.after } : {}),
      ...(spec.deadline ? { deadline: spec.deadline } : {}),
      catchup: spec.catchup,
      windows,
    });
  }
  return preview;
}

/** Three-letter weekday of a date (for human output). */
export function shortWeekday(date: string): string {
  const d = weekdayOf(date);
  return `${d.slice(0, 1).toUpperCase()}${d.slice(1, 3)}`;
}
