// Semantic rules of the sla blocks of a pipeline document, checked on each schedule's effective sla (the pipeline's
// keys under the schedule's). Only what is provably wrong or pointless is flagged: an atRisk with no deadline to warn
// before (warning), a completionDeadline before the evaluationDeadline when both count from the open (error), an
// evaluationDeadline after the window's own deadline (warning), an atRisk not shorter than a duration deadline
// (warning). HH:MM deadlines are never compared: their instants depend on the open and the timezone.
import type { ScheduleSpec } from '../engine/schedule.js';
import type { SlaSpec } from '../engine/sla.js';
import type { TimeSpec } from '../engine/time-spec.js';
import type { RuleProblem } from './pipeline-rules.js';
import type { PipelineWatchConfig } from './schedule-schema.js';

type SlaKey = 'evaluationDeadline' | 'completionDeadline' | 'atRisk';

/** The sla keys as written: the pipeline's block and each schedule's (to point at the key that takes effect). */
export interface WrittenSla {
  sla?: object | null;
  schedules?: ReadonlyArray<{ sla?: object | null } | null | undefined>;
}

/** "90s", "20m", "2h", "1h30m". */
export function durationWords(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s === 0 || s % 60 !== 0) return `${ms / 1000}s`;
  const m = s / 60;
  if (m % 60 !== 0) return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${m % 60}m`;
  return `${m / 60}h`;
}

const offsetMs = (t: TimeSpec | undefined): number | undefined => (t?.kind === 'offset' ? t.ms : undefined);

/** The problems of the effective sla of every schedule of one pipeline (each message names its schedule). */
export function slaProblems(watch: PipelineWatchConfig | undefined, written: WrittenSla): RuleProblem[] {
  if (!watch) return [];
  return watch.schedules.flatMap((s, i) => {
    const own = written.schedules?.[i]?.sla ?? undefined;
    const at = (key: SlaKey): Array<string | number> =>
      own && Object.hasOwn(own, key) ? ['schedules', i, 'sla', key] : ['sla', key];
    return scheduleSlaProblems(s, s.sla, at);
  });
}

function scheduleSlaProblems(
  s: ScheduleSpec,
  sla: SlaSpec | undefined,
  at: (key: SlaKey) => Array<string | number>,
): RuleProblem[] {
  if (!sla) return [];
  const out: RuleProblem[] = [];
  const of = `schedule '${s.name}'`;
  const evaluation = offsetMs(sla.evaluationDeadline);
  const completion = offsetMs(sla.completionDeadline);
  if (sla.atRiskMs !== undefined && !sla.evaluationDeadline && !sla.completionDeadline) {
    out.push({
      path: at('atRisk'),
      message: `atRisk has no effect without evaluationDeadline or completionDeadline (${of})`,
      severity: 'warning',
    });
  }
  if (evaluation !== undefined && completion !== undefined && completion < evaluation) {
    out.push({
      path: at('completionDeadline'),
      message: `completionDeadline ${durationWords(completion)} is before evaluationDeadline ${durationWords(evaluation)} (${of}): a window cannot complete before it is triggered`,
      severity: 'error',
    });
  }
  const close = offsetMs(s.deadline);
  if (evaluation !== undefined && close !== undefined && evaluation > close) {
    out.push({
      path: at('evaluationDeadline'),
      message: `evaluationDeadline ${durationWords(evaluation)} is later than the window's deadline ${durationWords(close)} (${of}): nothing triggers after the window closes, so the part after ${durationWords(close)} can never be met (the SLA still fires at ${durationWords(evaluation)} for a window that missed)`,
      severity: 'warning',
    });
  }
  if (sla.atRiskMs !== undefined && sla.atRiskMs > 0) {
    const atRisk = sla.atRiskMs;
    for (const [key, ms] of [
      ['evaluationDeadline', evaluation],
      ['completionDeadline', completion],
    ] as const) {
      if (ms === undefined || atRisk < ms) continue;
      out.push({
        path: at('atRisk'),
        message: `atRisk ${durationWords(atRisk)} is not shorter than ${key} ${durationWords(ms)} (${of}): SLA_AT_RISK would fire as the window opens`,
        severity: 'warning',
      });
    }
  }
  return out;
}
