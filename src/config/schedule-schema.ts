// Zod schemas for the watcher's config blocks (pipeline `schedules`, `exclusions`, `watch`, `retry`, `mode`; a
// calendar file; interlock.yaml `timezone`, `calendarDirs`, `watcher`) and their normalisation into engine specs.
// schema.ts spreads PIPELINE_SCHEDULE_FIELDS / PROJECT_WATCHER_FIELDS into the pipeline and interlock.yaml shapes.
import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { NAME_MAX, NAME_PATTERN } from '../core/names.js';
import type { CalendarSpec, ExclusionSpec } from '../engine/exclusions.js';
import { isValidTimeZone, parseDate, WEEKDAYS } from '../engine/local-time.js';
import { DEFAULT_RETRY, type FailureCategory, RETRYABLE_CATEGORIES, type RetryPolicy } from '../engine/retry.js';
import { CATCHUP_POLICIES, compileSchedule, type ScheduleSpec, type TimeSpec } from '../engine/schedule.js';
import type { MonitorSpec, SlaSpec } from '../engine/sla.js';
import type { WindowMode } from '../engine/window.js';
import { type ConfigIssue, strict, whenPresent } from './schema-kit.js';

export const SCHEDULE_MESSAGES = {
  duration: 'expected a duration such as 30s, 15m, 1h or 1h30m (or a number of seconds)',
  positiveDuration: 'expected a duration greater than zero',
  timeOrDuration: 'expected HH:MM (local time, 00:00–23:59) or a duration such as 30m',
  timezone: 'expected an IANA timezone such as Europe/Berlin or UTC',
  date: 'expected a date YYYY-MM-DD',
  instant: 'expected an ISO 8601 instant with a UTC offset, e.g. 2026-01-01T00:00:00Z',
  cronOrEvery: 'a schedule needs exactly one of cron or every',
  scheduleName: 'name is required when a pipeline has more than one schedule',
  retryOn: `only ${RETRYABLE_CATEGORIES.join(' and ')} failures can be retried (PERMANENT never helps; UNKNOWN may already have started the job)`,
  backoffCap: 'maxBackoff must not be shorter than backoff',
} as const;

// ---------------------------------------------------------------- durations

/**
 * A duration (core/duration.ts forms: a number of seconds, or `30s`, `15m`, `1h30m`, `2d`) → ms. undefined for
 * anything else (incl. negative).
 */
export function parseDurationMs(v: unknown): number | undefined {
  const seconds = parseDuration(v);
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** `HH:MM` → local time; a duration → offset after open. */
export function parseTimeSpec(v: unknown): TimeSpec | undefined {
  if (typeof v === 'string') {
    const m = HHMM.exec(v.trim());
    if (m) return { kind: 'time', hour: Number(m[1]), minute: Number(m[2]) };
  }
  const ms = parseDurationMs(v);
  return ms === undefined ? undefined : { kind: 'offset', ms };
}

// ---------------------------------------------------------------- schema pieces

const name = () =>
  z
    .string()
    .max(NAME_MAX)
    .regex(NAME_PATTERN, {
      error: `must match ${NAME_PATTERN.source.replace(/^\^/, '').replace(/\$$/, '')} (at most ${NAME_MAX} characters)`,
    });

const durationSchema = (positive = false) =>
  z
    .union([z.number(), z.string()], { error: whenPresent(SCHEDULE_MESSAGES.duration) })
    .refine((v) => parseDurationMs(v) !== undefined, { error: SCHEDULE_MESSAGES.duration })
    .refine((v) => !positive || (parseDurationMs(v) ?? 1) > 0, { error: SCHEDULE_MESSAGES.positiveDuration });

const timeOrDurationSchema = () =>
  z
    .union([z.number(), z.string()], { error: whenPresent(SCHEDULE_MESSAGES.timeOrDuration) })
    .refine((v) => parseTimeSpec(v) !== undefined, { error: SCHEDULE_MESSAGES.timeOrDuration });

const timezoneSchema = () =>
  z.string({ error: whenPresent(SCHEDULE_MESSAGES.timezone) }).refine(isValidTimeZone, {
    error: (iss) => `unknown timezone '${String(iss.input)}'; ${SCHEDULE_MESSAGES.timezone}`,
  });

const dateSchema = () =>
  z.string({ error: whenPresent(SCHEDULE_MESSAGES.date) }).refine((s) => parseDate(s) !== undefined, {
    error: (iss) => `'${String(iss.input)}' is not a calendar date; ${SCHEDULE_MESSAGES.date}`,
  });

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const instantSchema = () =>
  z
    .string({ error: whenPresent(SCHEDULE_MESSAGES.instant) })
    .refine((s) => INSTANT.test(s) && Number.isFinite(Date.parse(s)), { error: SCHEDULE_MESSAGES.instant });

export const weekdaySchema = z.enum(WEEKDAYS);

export const DRIFT_ACTIONS = ['alert', 'rerun'] as const;
export const MONITOR_DEFAULTS = { onDrift: 'alert', maxReruns: 1 } as const;

/** Deadlines of a window (pipeline-wide, or per schedule: a schedule's keys win). */
export const slaSchema = strict({
  evaluationDeadline: timeOrDurationSchema()
    .optional()
    .describe(
      'READY by then, else SLA_BREACHED (kind evaluation): HH:MM in the schedule timezone (the next day when not after open) or a duration after the window opens.',
    ),
  completionDeadline: timeOrDurationSchema()
    .optional()
    .describe('COMPLETED by then, else SLA_BREACHED (kind completion): HH:MM or a duration after the window opens.'),
  atRisk: durationSchema(true)
    .optional()
    .describe('SLA_AT_RISK this long before each deadline while the window is still blocked / not yet completed.'),
  expectedDuration: durationSchema(true)
    .optional()
    .describe('A run TRIGGERING/RUNNING longer than this is stuck: RUN_STUCK once (no state change). Default: none.'),
}).describe('Deadlines: alerts fired by time, whether or not anything ran.');

/** After COMPLETED, keep checking that the evidence still holds. */
export const monitorSchema = strict({
  traits: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Traits re-checked after COMPLETED; default: every required trait.'),
  duration: durationSchema(true).describe('How long after COMPLETED the traits are re-checked.'),
  onDrift: z
    .enum(DRIFT_ACTIONS)
    .default(MONITOR_DEFAULTS.onDrift)
    .describe('alert: DRIFT_DETECTED; rerun: DRIFT_DETECTED and a new attempt of the same window (at most maxReruns).'),
  maxReruns: z
    .number()
    .int()
    .min(0)
    .default(MONITOR_DEFAULTS.maxReruns)
    .describe('onDrift rerun: at most this many reruns per window.'),
}).describe('Drift after completion: re-check traits for a while after the run COMPLETED.');

export const scheduleSchema = strict({
  name: name().optional().describe('[a-z0-9][a-z0-9._-]*, unique per pipeline; default "default" if only one.'),
  cron: z
    .string()
    .optional()
    .describe('When windows open: 5 fields, or 6 with seconds first (croner syntax), in `timezone`.'),
  every: durationSchema(true).optional().describe('Alternative to cron: a fixed interval from `anchor`.'),
  anchor: instantSchema().optional().describe('Where `every` counts from (default 1970-01-01T00:00:00Z).'),
  timezone: timezoneSchema().optional().describe('IANA timezone; default interlock.yaml `timezone`, else UTC.'),
  after: timeOrDurationSchema()
    .optional()
    .describe('Earliest trigger: HH:MM local time, or a duration after the window opens.'),
  deadline: timeOrDurationSchema()
    .optional()
    .describe(
      'The window closes; not triggered by then → MISSED. HH:MM (the next day when not after open) or a duration; default: when the next window opens.',
    ),
  catchup: z
    .enum(CATCHUP_POLICIES as ['skip', 'latest', 'all'])
    .default('latest')
    .describe(
      'After downtime: skip | latest (only the newest missed window, if before its deadline) | all (at most 50).',
    ),
  sla: slaSchema.optional().describe("This schedule's deadlines (its keys override the pipeline's sla)."),
}).superRefine((s, ctx) => {
  if ((s.cron === undefined) === (s.every === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message: SCHEDULE_MESSAGES.cronOrEvery,
      path: s.cron === undefined ? [] : ['every'],
    });
  }
  if (s.anchor !== undefined && s.every === undefined) {
    ctx.addIssue({ code: 'custom', message: 'anchor only applies to every', path: ['anchor'] });
  }
});

export const schedulesSchema = z.array(scheduleSchema).superRefine((list, ctx) => {
  const seen = new Map<string, number>();
  list.forEach((s, i) => {
    if (list.length > 1 && s.name === undefined) {
      ctx.addIssue({ code: 'custom', message: SCHEDULE_MESSAGES.scheduleName, path: [i, 'name'] });
    }
    const n = s.name ?? 'default';
    const first = seen.get(n);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `duplicate schedule name '${n}' (also schedules.${first})`,
        path: [i, 'name'],
      });
    } else seen.set(n, i);
  });
});

export const exclusionsSchema = strict({
  days: z.array(weekdaySchema).optional().describe('Weekdays whose windows are EXCLUDED (lowercase English names).'),
  dates: z.array(dateSchema()).optional().describe('Dates (YYYY-MM-DD, in the schedule timezone) that are EXCLUDED.'),
  calendar: z
    .union([name(), z.array(name())])
    .optional()
    .describe('Calendar name(s): calendars/<name>.yaml under interlock.yaml calendarDirs.'),
});

export const watchSchema = strict({
  reevaluate: durationSchema(true)
    .default('60s')
    .describe(
      'While a window is open and NOT_READY: re-run FAIL/STALE traits no more often than this (×2 backoff up to 10× while nothing changes, ±20% jitter).',
    ),
});

export const retrySchema = strict({
  maxAttempts: z
    .number()
    .int()
    .min(1)
    .default(DEFAULT_RETRY.maxAttempts)
    .describe('Attempts in total, the first included (1 = no retry).'),
  backoff: durationSchema().default('30s').describe('Delay before the second attempt.'),
  multiplier: z.number().min(1).default(DEFAULT_RETRY.multiplier).describe('Each further delay × this.'),
  maxBackoff: durationSchema().default('1h').describe('No delay is longer than this.'),
  on: z
    .array(z.string())
    .default([...DEFAULT_RETRY.on])
    .describe('Failure categories that are retried: TRANSIENT, TIMEOUT.'),
}).superRefine((r, ctx) => {
  r.on.forEach((c, i) => {
    if (!RETRYABLE_CATEGORIES.includes(c as FailureCategory)) {
      ctx.addIssue({ code: 'custom', message: `'${c}': ${SCHEDULE_MESSAGES.retryOn}`, path: ['on', i] });
    }
  });
  const b = parseDurationMs(r.backoff);
  const m = parseDurationMs(r.maxBackoff);
  if (b !== undefined && m !== undefined && m < b) {
    ctx.addIssue({ code: 'custom', message: SCHEDULE_MESSAGES.backoffCap, path: ['maxBackoff'] });
  }
});

export const MODES = ['live', 'shadow'] as const;

/** Pipeline keys this file adds; spread into the pipeline shape when wiring. */
export const PIPELINE_SCHEDULE_FIELDS = {
  schedules: schedulesSchema.optional().describe('When windows open; without it the pipeline is on demand only.'),
  exclusions: exclusionsSchema
    .optional()
    .describe('Windows opening on these days are EXCLUDED (recorded, never evaluated).'),
  watch: watchSchema.optional(),
  retry: retrySchema.optional().describe('When the trigger fails.'),
  mode: z
    .enum(MODES)
    .default('live')
    .describe('live: fire the trigger; shadow: evaluate and record "would trigger", never fire.'),
  sla: slaSchema.optional(),
  monitor: monitorSchema.optional(),
};

export const DEFAULT_SWEEP = '60s';

/** interlock.yaml keys this file adds; spread into the project shape when wiring. */
export const PROJECT_WATCHER_FIELDS = {
  timezone: timezoneSchema().default('UTC').describe('Default timezone of schedules.'),
  calendarDirs: z.array(z.string().min(1)).default(['./calendars']).describe('Directories of calendar YAML files.'),
  watcher: strict({
    enabled: z.boolean().default(true).describe('Run the watcher in `serve` when a pipeline has schedules.'),
    sweep: durationSchema(true)
      .default(DEFAULT_SWEEP)
      .describe('Reconcile every this often, for anything a lost notification missed.'),
  })
    .prefault({})
    .describe('The watcher that opens schedule windows and re-decides them.'),
};

/** A calendar file (calendars/<name>.yaml). */
export const calendarSchema = strict({
  name: name(),
  description: z.string().optional(),
  days: z.array(weekdaySchema).optional(),
  dates: z.array(dateSchema()).optional(),
}).describe('Interlock calendar: days off for exclusions.');

/** The pipeline blocks alone (their output type; schema.ts spreads the fields into pipelineSchema). */
export const pipelineScheduleBlocksSchema = strict(PIPELINE_SCHEDULE_FIELDS);
export const projectWatcherBlocksSchema = strict(PROJECT_WATCHER_FIELDS);

export type PipelineScheduleBlocks = z.output<typeof pipelineScheduleBlocksSchema>;
export type ProjectWatcherBlocks = z.output<typeof projectWatcherBlocksSchema>;
export type CalendarFile = z.output<typeof calendarSchema>;

// ---------------------------------------------------------------- normalise → engine specs

/** What the engine needs of one pipeline's watcher config. */
export interface PipelineWatchConfig {
  /** Each with its effective `sla` (the pipeline's, overridden key by key by the schedule's). */
  schedules: ScheduleSpec[];
  /** The pipeline-wide sla block as written (schedules carry the merged one). */
  sla?: SlaSpec;
  monitor?: MonitorSpec;
  exclusions?: ExclusionSpec;
  reevaluateMs: number;
  retry: RetryPolicy;
  mode: WindowMode;
}

export interface ProjectWatcherConfig {
  timezone: string;
  calendarDirs: string[];
  watcher: { enabled: boolean; sweepMs: number };
}

export function normaliseProjectWatcher(b: ProjectWatcherBlocks): ProjectWatcherConfig {
  return {
    timezone: b.timezone,
    calendarDirs: b.calendarDirs,
    watcher: { enabled: b.watcher.enabled, sweepMs: parseDurationMs(b.watcher.sweep) ?? 60_000 },
  };
}

/**
 * Validated pipeline blocks → engine specs. Calendars are looked up by name in `calendars` (loaded from
 * calendarDirs); an unknown calendar or a schedule croner rejects is an issue at its path. Semantic step, after
 * the schema passed.
 */
export function normalisePipelineWatch(
  b: PipelineScheduleBlocks,
  opts: { timezone: string; calendars: ReadonlyMap<string, CalendarFile> },
): { ok: true; value: PipelineWatchConfig } | { ok: false; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const schedules: ScheduleSpec[] = [];
  const pipelineSla = normaliseSla(b.sla);
  (b.schedules ?? []).forEach((s, i) => {
    const spec: ScheduleSpec = {
      name: s.name ?? 'default',
      timezone: s.timezone ?? opts.timezone,
      catchup: s.catchup,
    };
    if (s.cron !== undefined) spec.cron = s.cron;
    if (s.every !== undefined) spec.everyMs = parseDurationMs(s.every) as number;
    if (s.anchor !== undefined) spec.anchorMs = Date.parse(s.anchor);
    if (s.after !== undefined) spec.after = parseTimeSpec(s.after) as TimeSpec;
    if (s.deadline !== undefined) spec.deadline = parseTimeSpec(s.deadline) as TimeSpec;
    const sla = mergeSla(pipelineSla, normaliseSla(s.sla));
    if (sla) spec.sla = sla;
    const r = compileSchedule(spec);
    if (!r.ok) {
      const field = /^(?:invalid )?cron/.test(r.error)
        ? 'cron'
        : /^every/.test(r.error)
          ? 'every'
          : /^anchor/.test(r.error)
            ? 'anchor'
            : /^unknown timezone/.test(r.error)
              ? 'timezone'
              : /^deadline/.test(r.error)
                ? 'deadline'
                : /^after/.test(r.error)
                  ? 'after'
                  : undefined;
      issues.push({ path: ['schedules', i, ...(field ? [field] : [])], message: r.error, atKey: false });
    } else schedules.push(spec);
  });

  let exclusions: ExclusionSpec | undefined;
  if (b.exclusions) {
    const names = b.exclusions.calendar === undefined ? [] : [b.exclusions.calendar].flat();
    const calendars: CalendarSpec[] = [];
    names.forEach((n, i) => {
      const c = opts.calendars.get(n);
      const path: Array<string | number> = Array.isArray(b.exclusions?.calendar)
        ? ['exclusions', 'calendar', i]
        : ['exclusions', 'calendar'];
      if (!c) issues.push({ path, message: `unknown calendar '${n}' (not found in calendarDirs)`, atKey: false });
      else
        calendars.push({ name: c.name, ...(c.days ? { days: c.days } : {}), ...(c.dates ? { dates: c.dates } : {}) });
    });
    exclusions = {
      ...(b.exclusions.days ? { days: b.exclusions.days } : {}),
      ...(b.exclusions.dates ? { dates: b.exclusions.dates } : {}),
      ...(calendars.length > 0 ? { calendars } : {}),
    };
  }
  if (issues.length > 0) return { ok: false, issues };

  const rt = b.retry;
  const retry: RetryPolicy = rt
    ? {
        maxAttempts: rt.maxAttempts,
        backoffMs: parseDurationMs(rt.backoff) as number,
        multiplier: rt.multiplier,
        maxBackoffMs: parseDurationMs(rt.maxBackoff) as number,
        on: rt.on as FailureCategory[],
      }
    : DEFAULT_RETRY;
  const value: PipelineWatchConfig = {
    schedules,
    reevaluateMs: parseDurationMs(b.watch?.reevaluate ?? '60s') as number,
    retry,
    mode: b.mode,
  };
  if (exclusions) value.exclusions = exclusions;
  if (pipelineSla) value.sla = pipelineSla;
  if (b.monitor) {
    value.monitor = {
      durationMs: parseDurationMs(b.monitor.duration) as number,
      onDrift: b.monitor.onDrift,
      maxReruns: b.monitor.maxReruns,
    };
    if (b.monitor.traits) value.monitor.traits = b.monitor.traits;
  }
  return { ok: true, value };
}

type SlaBlock = z.output<typeof slaSchema>;

/** A validated sla block → engine spec (undefined when absent or empty). */
function normaliseSla(b: SlaBlock | undefined): SlaSpec | undefined {
  if (!b) return undefined;
  const sla: SlaSpec = {};
  if (b.evaluationDeadline !== undefined) sla.evaluationDeadline = parseTimeSpec(b.evaluationDeadline) as TimeSpec;
  if (b.completionDeadline !== undefined) sla.completionDeadline = parseTimeSpec(b.completionDeadline) as TimeSpec;
  if (b.atRisk !== undefined) sla.atRiskMs = parseDurationMs(b.atRisk) as number;
  if (b.expectedDuration !== undefined) sla.expectedDurationMs = parseDurationMs(b.expectedDuration) as number;
  return Object.keys(sla).length > 0 ? sla : undefined;
}

/** The pipeline's sla with a schedule's keys on top. */
function mergeSla(pipeline: SlaSpec | undefined, schedule: SlaSpec | undefined): SlaSpec | undefined {
  if (!pipeline && !schedule) return undefined;
  return { ...pipeline, ...schedule };
}
