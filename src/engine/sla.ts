// PURE: what a pipeline's `sla` and `monitor` blocks say, as engine specs (durations in ms, times as TimeSpec). The
// deadline math (instants of a window's deadlines and at-risk warnings) and the watchdog/drift rules build on these.
import type { TimeSpec } from './time-spec.js';

/** A window's deadlines and its runs' expected duration (the pipeline's sla with a schedule's keys on top). */
export interface SlaSpec {
  /** READY by then, else SLA_BREACHED kind evaluation. */
  evaluationDeadline?: TimeSpec;
  /** COMPLETED by then, else SLA_BREACHED kind completion. */
  completionDeadline?: TimeSpec;
  /** SLA_AT_RISK this long before each deadline while the window is not yet READY / COMPLETED. */
  atRiskMs?: number;
  /** A run TRIGGERING/RUNNING longer than this is stuck: RUN_STUCK once, no state change. */
  expectedDurationMs?: number;
}

export type DriftAction = 'alert' | 'rerun';

/** After COMPLETED, keep re-checking the evidence for `durationMs`. */
export interface MonitorSpec {
  /** The traits re-checked; absent = every required trait. */
  traits?: string[];
  durationMs: number;
  onDrift: DriftAction;
  /** onDrift rerun: at most this many reruns of one window. */
  maxReruns: number;
}

/** Which deadline an SLA alert is about. */
export type SlaKind = 'evaluation' | 'completion';
