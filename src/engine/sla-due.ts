// PURE: a window's SLA instants (evaluation/completion deadlines and their at-risk warnings, DST-correct in the
// schedule's timezone), which SLA alerts (SLA_AT_RISK, SLA_BREACHED, WINDOW_MISSED) are due at `now`, whether what was
// alerted has cleared (RECOVERED), and the next instant worth waking up for. Met-or-not is read from the record's own
// timestamps, so an alert fired late (a serve that was down) says what held at the instant, not at the late look.
import { addDays, localDate, localToInstant } from './local-time.js';
import type { SlaKind, SlaSpec } from './sla.js';
import type { TimeSpec } from './time-spec.js';
import { isWindowTerminal, type WindowRecord } from './window.js';

/** An alert fired more than this after its instant is "late" (details.late, details.delayMs). */
export const SLA_LATE_AFTER_MS = 1000;
/**
 * An instant older than this is history, not an alert: a watcher started on a store whose newest window breached a
 * week ago does not page for it (WINDOW_MISSED and the window record say it already).
 */
export const SLA_MAX_LATE_MS = 24 * 3_600_000;

export const SLA_KINDS: readonly SlaKind[] = ['evaluation', 'completion'];

/**
 * The instant of a deadline: a duration after the window opens, or the first instant at/after `openAt` at which the
 * wall clock in `tz` reads HH:MM (a time skipped by a spring-forward resolves to the end of the gap, a time that
 * occurs twice to its first occurrence: engine/local-time.ts).
 */
export function deadlineInstant(t: TimeSpec, openAt: number, tz: string): number {
  if (t.kind === 'offset') return openAt + t.ms;
  let date = localDate(openAt, tz);
  for (let i = 0; i < 3; i++) {
    const at = localToInstant(date, t.hour, t.minute, tz);
    if (at >= openAt) return at;
    date = addDays(date, 1);
  }
  return openAt + 86_400_000; // unreachable for real timezones
}

/** One deadline of a window: its instant and (with `atRisk`) the at-risk warning instant (never before open). */
export interface SlaInstant {
  kind: SlaKind;
  deadline: number;
  atRisk?: number;
}

/** The SLA instants of the window opening at `openAt` under `sla`, evaluation first. */
export function slaInstants(sla: SlaSpec | undefined, openAt: number, tz: string): SlaInstant[] {
  if (!sla) return [];
  const out: SlaInstant[] = [];
  for (const kind of SLA_KINDS) {
    const t = kind === 'evaluation' ? sla.evaluationDeadline : sla.completionDeadline;
    if (!t) continue;
    const deadline = deadlineInstant(t, openAt, tz);
    const i: SlaInstant = { kind, deadline };
    if (sla.atRiskMs !== undefined && sla.atRiskMs > 0) i.atRisk = Math.max(openAt, deadline - sla.atRiskMs);
    out.push(i);
  }
  return out;
}

/**
 * Whether the window had met `kind` by instant `t`: evaluation = an attempt was claimed (READY and triggered) or it was
 * recorded SHADOW (READY, would have triggered) by then; completion = COMPLETED by then.
 */
export function metBy(w: WindowRecord, kind: SlaKind, t: number): boolean {
  if (kind === 'evaluation') {
    if (w.attempts.some((a) => a.claimedAt <= t)) return true;
    return w.state === 'SHADOW' && w.terminal !== undefined && w.terminal.at <= t;
  }
  return w.state === 'COMPLETED' && w.terminal !== undefined && w.terminal.at <= t;
}

/** The SLA kinds a window is held to: none for EXCLUDED / SKIPPED; a shadow window never runs, so evaluation only. */
function kindsFor(w: WindowRecord): readonly SlaKind[] {
  if (w.state === 'EXCLUDED' || w.state === 'SKIPPED') return [];
  return w.mode === 'shadow' ? ['evaluation'] : SLA_KINDS;
}

/** An alert condition of one window, as the store's claim names it (`SLA_BREACHED:evaluation`, `WINDOW_MISSED`). */
export type SlaAlertId = `${'SLA_AT_RISK' | 'SLA_BREACHED'}:${SlaKind}` | 'WINDOW_MISSED';

/** One SLA alert due now. */
export interface SlaDueAlert {
  id: SlaAlertId;
  alert: 'SLA_AT_RISK' | 'SLA_BREACHED' | 'WINDOW_MISSED';
  /** Absent for WINDOW_MISSED. */
  kind?: SlaKind;
  /** The instant it is about: the at-risk instant, the deadline, or when the window went MISSED. */
  at: number;
  /** The deadline (at-risk and breach). */
  deadline?: number;
  /** now - at, when more than SLA_LATE_AFTER_MS (fired after the instant: nobody was watching then). */
  delayMs?: number;
  /** Still outstanding and the window still live: repeated per alerts.repeatAfter while so. */
  repeatable: boolean;
}

export interface SlaDueInput {
  window: WindowRecord;
  /** The window's schedule's effective sla (undefined: no deadlines; WINDOW_MISSED still applies). */
  sla?: SlaSpec;
  timezone: string;
  now: number;
}

export interface SlaDueResult {
  /** In instant order (at-risk before breach before MISSED at the same instant). */
  due: SlaDueAlert[];
  /** The next future SLA instant of this window (an at-risk warning or a deadline), if any. */
  nextAt?: number;
}

const ORDER: Record<SlaDueAlert['alert'], number> = { SLA_AT_RISK: 0, SLA_BREACHED: 1, WINDOW_MISSED: 2 };

/**
 * The SLA alerts of `window` whose instant has come by `now` (and is not older than SLA_MAX_LATE_MS), with the
 * condition holding: at-risk = not met at the at-risk instant nor now, the window still live and the deadline still
 * ahead; breach = not met by the deadline; WINDOW_MISSED = the window ended MISSED. The caller claims each in the store
 * (once per window and id, across replicas and restarts), so this may list an alert that was sent already.
 */
export function slaDue(input: SlaDueInput): SlaDueResult {
  const { window: w, now } = input;
  const due: SlaDueAlert[] = [];
  let nextAt: number | undefined;
  const later = (t: number) => {
    if (t > now && (nextAt === undefined || t < nextAt)) nextAt = t;
  };
  const live = !isWindowTerminal(w.state);
  const push = (a: Omit<SlaDueAlert, 'delayMs'>) => {
    const delay = now - a.at;
    due.push(delay > SLA_LATE_AFTER_MS ? { ...a, delayMs: delay } : a);
  };
  const kinds = kindsFor(w);
  for (const i of slaInstants(input.sla, w.openAt, input.timezone)) {
    if (!kinds.includes(i.kind)) continue;
    // Past its instant and met then: nothing to say or wait for.
    if (metBy(w, i.kind, Math.min(now, i.deadline))) continue;
    if (i.atRisk !== undefined && live && i.atRisk < i.deadline) {
      if (now < i.atRisk) later(i.atRisk);
      else if (now < i.deadline && !metBy(w, i.kind, i.atRisk) && now - i.atRisk <= SLA_MAX_LATE_MS) {
        push({
          id: `SLA_AT_RISK:${i.kind}`,
          alert: 'SLA_AT_RISK',
          kind: i.kind,
          at: i.atRisk,
          deadline: i.deadline,
          repeatable: false,
        });
      }
    }
    if (now < i.deadline) {
      later(i.deadline);
      continue;
    }
    if (now - i.deadline > SLA_MAX_LATE_MS) continue;
    // A window that ended MISSED/FAILED can no longer meet it: its breach is said once, not repeated.
    push({
      id: `SLA_BREACHED:${i.kind}`,
      alert: 'SLA_BREACHED',
      kind: i.kind,
      at: i.deadline,
      deadline: i.deadline,
      repeatable: live && !metBy(w, i.kind, now),
    });
  }
  if (w.state === 'MISSED' && w.terminal && now - w.terminal.at <= SLA_MAX_LATE_MS) {
    push({ id: 'WINDOW_MISSED', alert: 'WINDOW_MISSED', at: w.terminal.at, repeatable: false });
  }
  due.sort((a, b) => a.at - b.at || ORDER[a.alert] - ORDER[b.alert]);
  return nextAt === undefined ? { due } : { due, nextAt };
}

/**
 * The alert conditions of `window` that were due by `now` (so, claimed and sent: slaDue's rules looked back), for the
 * RECOVERED rule. At-risk counts only if its instant came before the window ended.
 */
export function slaAlerted(input: SlaDueInput): SlaAlertId[] {
  const { window: w, now } = input;
  const out: SlaAlertId[] = [];
  const kinds = kindsFor(w);
  const endedAt = w.terminal?.at ?? Number.POSITIVE_INFINITY;
  for (const i of slaInstants(input.sla, w.openAt, input.timezone)) {
    if (!kinds.includes(i.kind)) continue;
    if (i.atRisk !== undefined && i.atRisk < i.deadline && i.atRisk <= now && i.atRisk < endedAt) {
      if (!metBy(w, i.kind, i.atRisk)) out.push(`SLA_AT_RISK:${i.kind}`);
    }
    if (i.deadline <= now && !metBy(w, i.kind, i.deadline)) out.push(`SLA_BREACHED:${i.kind}`);
  }
  if (w.state === 'MISSED') out.push('WINDOW_MISSED');
  return out;
}

/**
 * RECOVERED: what was alerted for `window` has all cleared. For a live or COMPLETED window each condition clears when
 * met (evaluation: triggered; completion: COMPLETED); a window that ended MISSED or FAILED can no longer meet anything,
 * so its conditions clear when the pipeline is READY again (`readyNow`: the blocking evidence is gone). Returns the
 * conditions recovered (sorted: the claim's fingerprint, so a later, larger set recovers again), or undefined.
 */
export function slaRecovered(input: SlaDueInput & { readyNow: boolean }): SlaAlertId[] | undefined {
  const { window: w, now } = input;
  if (now - (w.terminal?.at ?? now) > SLA_MAX_LATE_MS) return undefined;
  const alerted = slaAlerted(input);
  if (alerted.length === 0) return undefined;
  const dead = isWindowTerminal(w.state) && w.state !== 'COMPLETED';
  const cleared = (id: SlaAlertId): boolean => {
    if (dead || id === 'WINDOW_MISSED') return input.readyNow;
    const kind = id.endsWith(':evaluation') ? 'evaluation' : 'completion';
    return metBy(w, kind, now);
  };
  return alerted.every(cleared) ? [...alerted].sort() : undefined;
}
