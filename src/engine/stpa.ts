// STPA of one pipeline (Leveson): its control structure (controller = readiness rule over its traits, actuator = its
// trigger, feedback = evaluators, pushes, callbacks) and, for each of the four unsafe-control-action types, whether
// this pipeline's config guards against it and by what. Pure: a function of the specs and the alert sinks.
import type { AlertKind, PipelineSpec, UcaCategory } from '../core/types.js';
import { DEFAULT_MAX_RUN_SECONDS } from './run-state.js';
import type { ScheduleSpec, TimeSpec } from './schedule.js';
import type { MonitorSpec } from './sla.js';

export type AlertLevel = 'info' | 'warning' | 'error' | 'critical';
const LEVELS: readonly AlertLevel[] = ['info', 'warning', 'error', 'critical'];

/** An alert sink as far as STPA cares: which kinds reach it. */
export interface StpaSink {
  /** `slack`, `webhook #2`, … */
  name: string;
  kinds?: readonly AlertKind[];
  minLevel?: AlertLevel;
}

export interface StpaInput {
  pipeline: PipelineSpec;
  /** Its schedules, each with its effective sla (none: on demand only). */
  schedules: readonly ScheduleSpec[];
  mode?: 'live' | 'shadow';
  monitor?: MonitorSpec;
  sinks: readonly StpaSink[];
  /** Each alert kind's default level (alert/uca.ts). */
  levels: Readonly<Record<AlertKind, AlertLevel>>;
}

export type GuardStatus = 'guarded' | 'partly guarded' | 'NOT GUARDED' | 'not applicable';

export interface UcaAnalysis {
  type: UcaCategory;
  /** The unsafe control action in words, for this pipeline. */
  title: string;
  status: GuardStatus;
  /** What guards, in config terms: "schedules.daily.deadline 09:00", "slack sink receives WINDOW_MISSED". */
  guards: string[];
  /** What is missing (empty when guarded). */
  gaps: string[];
}

export interface StpaReport {
  pipeline: string;
  scheduled: boolean;
  controlStructure: {
    controller: string;
    controlAction: string;
    actuator: string;
    feedback: string[];
  };
  ucas: UcaAnalysis[];
}

const hhmm = (t: TimeSpec) =>
  t.kind === 'time'
    ? `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`
    : `+${formatMs(t.ms)} after open`;

function formatMs(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/** Whether an alert of `kind` reaches `sink` (its kinds and minLevel filters). */
export function sinkReceives(sink: StpaSink, kind: AlertKind, level: AlertLevel): boolean {
  if (sink.kinds && !sink.kinds.includes(kind)) return false;
  if (sink.minLevel && LEVELS.indexOf(level) < LEVELS.indexOf(sink.minLevel)) return false;
  return true;
}

function statusOf(guards: readonly string[], gaps: readonly string[], keyMissing: boolean): GuardStatus {
  if (keyMissing || guards.length === 0) return 'NOT GUARDED';
  return gaps.length === 0 ? 'guarded' : 'partly guarded';
}

/** The analysis. Every UCA type appears once, in UCA_CATEGORIES order. */
export function analyseStpa(input: StpaInput): StpaReport {
  const { pipeline: p, schedules } = input;
  const scheduled = schedules.length > 0;
  const rule = p.readinessRule;
  const counted = rule.type === 'all-required-pass' ? p.traits.filter((t) => t.required) : p.traits;
  const heard = (kind: AlertKind) =>
    input.sinks.filter((s) => sinkReceives(s, kind, input.levels[kind])).map((s) => s.name);
  const hearing = (kind: AlertKind): string | undefined => {
    const who = heard(kind);
    return who.length ? `${who.join(', ')} ${who.length > 1 ? 'sinks receive' : 'sink receives'} ${kind}` : undefined;
  };
  const trigger = p.trigger;

  const feedback: string[] = [];
  for (const t of p.traits) {
    const how = t.push
      ? 'pushed results'
      : t.builtin !== undefined
        ? `builtin:${t.builtin}`
        : (t.evaluatorRef ?? 'no evaluator');
    feedback.push(
      `trait ${t.type}${t.required ? ' (required)' : ''}: ${how}${t.ttlSeconds !== undefined ? `, ttl ${t.ttlSeconds}s` : ''}`,
    );
  }
  if (trigger) feedback.push('run state: completion callbacks (POST /api/runs/{id}/complete) and trigger outcomes');
  if (input.monitor) feedback.push(`monitor: traits re-checked ${formatMs(input.monitor.durationMs)} after COMPLETED`);

  const ruleText =
    rule.type === 'all-required-pass'
      ? `all-required-pass over ${counted.length ? counted.map((t) => t.type).join(', ') : 'no required traits'}`
      : `${rule.type} over ${p.traits.map((t) => t.type).join(', ') || 'no traits'}`;
  const controlStructure = {
    controller: `readiness rule ${ruleText}`,
    controlAction: 'trigger the pipeline',
    actuator: trigger
      ? `${trigger.type} trigger`
      : 'none (a gate only: callers ask for readiness and run it themselves)',
    feedback,
  };

  const ucas: UcaAnalysis[] = [];

  // 1. not provided when needed: a window passes without the trigger, and nobody hears of it.
  {
    const title = 'not provided when needed (the trigger never fires, or does not reach the pipeline)';
    if (!scheduled || !trigger) {
      ucas.push({
        type: 'not-provided',
        title,
        status: 'not applicable',
        guards: [],
        gaps: [
          !trigger ? 'no trigger: nothing to provide' : 'no schedules: runs on demand, whoever runs it decides when',
        ],
      });
    } else {
      const guards: string[] = [];
      const gaps: string[] = [];
      for (const s of schedules) {
        guards.push(
          s.deadline
            ? `schedules.${s.name}.deadline ${hhmm(s.deadline)} (MISSED, never fired late)`
            : `schedules.${s.name}: the window closes at the next opening (no deadline set)`,
        );
        if (s.sla?.evaluationDeadline)
          guards.push(`sla.evaluationDeadline ${hhmm(s.sla.evaluationDeadline)} (${s.name})`);
      }
      const missed = hearing('WINDOW_MISSED');
      const breached = schedules.some((s) => s.sla?.evaluationDeadline) ? hearing('SLA_BREACHED') : undefined;
      if (missed) guards.push(missed);
      if (breached) guards.push(breached);
      if (!missed && !breached)
        gaps.push('no alert sink receives WINDOW_MISSED or SLA_BREACHED: a missed window is only recorded');
      const failed = hearing('TRIGGER_FAILED');
      if (failed) guards.push(failed);
      else gaps.push('no alert sink receives TRIGGER_FAILED');
      if (input.mode === 'shadow') gaps.push('mode: shadow — the trigger is never fired');
      ucas.push({ type: 'not-provided', title, status: statusOf(guards, gaps, !missed && !breached), guards, gaps });
    }
  }

  // 2. provided when unsafe: fired on evidence that is missing, failed or stale — or fired twice.
  {
    const title = 'provided when unsafe (fired without good evidence, or twice)';
    const guards: string[] = [];
    const gaps: string[] = [];
    if (counted.length === 0) gaps.push(`the readiness rule counts no traits: READY without any evidence`);
    else guards.push(`readiness rule ${ruleText}`);
    guards.push(
      'fail closed: an evaluator error, timeout, crash or bad output is FAIL, a missing or expired result STALE',
    );
    const withTtl = counted.filter((t) => t.ttlSeconds !== undefined);
    if (withTtl.length) guards.push(`ttl: ${withTtl.map((t) => `${t.type} ${t.ttlSeconds}s`).join(', ')}`);
    for (const t of counted)
      if (t.ttlSeconds === undefined) gaps.push(`trait ${t.type} has no ttl: a PASS counts forever`);
    if (trigger) {
      guards.push('run lock: one active run per pipeline');
      if (scheduled)
        guards.push('window run keys (<window>#<attempt>): each attempt fires at most once, on every store');
    }
    if (input.monitor) {
      const traits = input.monitor.traits?.join(', ') ?? 'every required trait';
      guards.push(
        `monitor: ${traits} re-checked for ${formatMs(input.monitor.durationMs)} after COMPLETED (onDrift ${input.monitor.onDrift})`,
      );
    }
    ucas.push({ type: 'provided-unsafe', title, status: statusOf(guards, gaps, counted.length === 0), guards, gaps });
  }

  // 3. wrong timing: too early (before `after`, before READY) or too late (completion past the SLA).
  {
    const title = 'provided too early or too late';
    const guards: string[] = ['not before READY (the readiness rule)'];
    const gaps: string[] = [];
    let keyMissing = false;
    if (!scheduled) {
      ucas.push({ type: 'wrong-timing', title, status: 'guarded', guards, gaps: [] });
    } else {
      for (const s of schedules) {
        if (s.after) guards.push(`schedules.${s.name}.after ${hhmm(s.after)} (not earlier)`);
        const c = s.sla?.completionDeadline;
        if (c) guards.push(`sla.completionDeadline ${hhmm(c)} (${s.name})`);
        else {
          gaps.push(`no completionDeadline (${s.name}): a run that ends late is not noticed`);
          keyMissing = true;
        }
        if (s.sla?.atRiskMs !== undefined) guards.push(`sla.atRisk ${formatMs(s.sla.atRiskMs)} (${s.name})`);
      }
      if (schedules.some((s) => s.sla?.completionDeadline || s.sla?.evaluationDeadline)) {
        const breached = hearing('SLA_BREACHED');
        if (breached) guards.push(breached);
        else gaps.push('no alert sink receives SLA_BREACHED');
      }
      ucas.push({ type: 'wrong-timing', title, status: statusOf(guards, gaps, keyMissing), guards, gaps });
    }
  }

  // 4. wrong duration: the run stops too soon (fails) or is applied too long (hangs).
  {
    const title = 'stopped too soon or applied too long (the run fails, hangs or overruns)';
    if (!trigger) {
      ucas.push({ type: 'wrong-duration', title, status: 'not applicable', guards: [], gaps: ['no trigger: no run'] });
    } else {
      const guards: string[] = [];
      const gaps: string[] = [];
      const max = trigger.maxRunSeconds;
      if (max !== undefined) guards.push(`trigger.maxRunSeconds ${max}s (RUN_TIMED_OUT)`);
      else gaps.push(`no trigger.maxRunSeconds: a hung run holds the lock for the default ${DEFAULT_MAX_RUN_SECONDS}s`);
      const expected = schedules.map((s) => s.sla?.expectedDurationMs).find((x) => x !== undefined);
      if (expected !== undefined) guards.push(`sla.expectedDuration ${formatMs(expected)} (RUN_STUCK)`);
      for (const kind of ['RUN_FAILED', 'RUN_TIMED_OUT'] as const) {
        const h = hearing(kind);
        if (h) guards.push(h);
        else gaps.push(`no alert sink receives ${kind}`);
      }
      const keyMissing = max === undefined && expected === undefined;
      ucas.push({ type: 'wrong-duration', title, status: statusOf(guards, gaps, keyMissing), guards, gaps });
    }
  }

  return { pipeline: p.name, scheduled, controlStructure, ucas };
}
