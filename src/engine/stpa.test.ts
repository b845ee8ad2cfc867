// STPA analysis (pure): the control structure of a pipeline, and for each UCA type guarded / partly / NOT GUARDED
// with the config that guards it — deadlines, sla, sinks that receive the alert kinds, TTLs, maxRunSeconds.
import { describe, expect, it } from 'vitest';
import { defaultLevel } from '../alert/uca.js';
import { ALERT_KINDS, UCA_CATEGORIES } from '../core/lists.js';
import type { AlertKind, PipelineSpec } from '../core/types.js';
import type { ScheduleSpec } from './schedule.js';
import { type AlertLevel, analyseStpa, type StpaInput } from './stpa.js';

const LEVELS = Object.fromEntries(ALERT_KINDS.map((k) => [k, defaultLevel(k)])) as Record<AlertKind, AlertLevel>;

const spec = (over: Partial<PipelineSpec> = {}): PipelineSpec => ({
  name: 'orders',
  archetype: 'etl',
  source: 'pipelines/orders.yaml',
  readinessRule: { type: 'all-required-pass' },
  traits: [
    {
      type: 'landed',
      required: true,
      builtin: 'file',
      evaluatorRef: 'builtin:file',
      config: {},
      ttlSeconds: 600,
      timeoutSeconds: 5,
    },
    { type: 'rows', required: true, evaluatorRef: 'rows', evaluator: '/x/rows', config: {}, timeoutSeconds: 5 },
  ],
  trigger: { type: 'command', command: 'true', maxRunSeconds: 3600 } as PipelineSpec['trigger'],
  ...over,
});

const daily = (over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
  name: 'daily',
  cron: '0 5 * * *',
  timezone: 'Europe/Berlin',
  catchup: 'latest',
  after: { kind: 'time', hour: 5, minute: 30 },
  deadline: { kind: 'time', hour: 9, minute: 0 },
  ...over,
});

const input = (over: Partial<StpaInput> = {}): StpaInput => ({
  pipeline: spec(),
  schedules: [daily()],
  sinks: [{ name: 'slack' }],
  levels: LEVELS,
  ...over,
});

const uca = (r: ReturnType<typeof analyseStpa>, type: string) => {
  const u = r.ucas.find((x) => x.type === type);
  if (!u) throw new Error(type);
  return u;
};

describe('STPA analysis', () => {
  it('names the control structure and covers the four UCA types in order', () => {
    const r = analyseStpa(input());
    expect(r.ucas.map((u) => u.type)).toEqual([...UCA_CATEGORIES]);
    expect(r.controlStructure.controller).toBe('readiness rule all-required-pass over landed, rows');
    expect(r.controlStructure.actuator).toBe('command trigger');
    expect(r.controlStructure.feedback).toContain('trait landed (required): builtin:file, ttl 600s');
    expect(r.controlStructure.feedback.some((f) => f.startsWith('run state: completion callbacks'))).toBe(true);
  });

  it('not provided: guarded by the deadline, evaluationDeadline and a sink that receives WINDOW_MISSED', () => {
    const r = analyseStpa(
      input({ schedules: [daily({ sla: { evaluationDeadline: { kind: 'time', hour: 6, minute: 30 } } })] }),
    );
    const u = uca(r, 'not-provided');
    expect(u.status).toBe('guarded');
    expect(u.guards).toEqual([
      'schedules.daily.deadline 09:00 (MISSED, never fired late)',
      'sla.evaluationDeadline 06:30 (daily)',
      'slack sink receives WINDOW_MISSED',
      'slack sink receives SLA_BREACHED',
      'slack sink receives TRIGGER_FAILED',
    ]);
  });

  it('not provided: NOT GUARDED when no sink receives WINDOW_MISSED (kinds and minLevel filters count)', () => {
    for (const sinks of [
      [],
      [{ name: 'slack', kinds: ['RUN_FAILED'] as AlertKind[] }],
      [{ name: 'pagerduty', minLevel: 'critical' as const }],
    ]) {
      const u = uca(analyseStpa(input({ sinks })), 'not-provided');
      expect(u.status).toBe('NOT GUARDED');
      expect(u.gaps[0]).toContain('no alert sink receives WINDOW_MISSED or SLA_BREACHED');
    }
  });

  it('too late: NOT GUARDED without a completionDeadline; guarded with one and a sink for SLA_BREACHED', () => {
    let u = uca(analyseStpa(input()), 'wrong-timing');
    expect(u.status).toBe('NOT GUARDED');
    expect(u.gaps).toEqual(['no completionDeadline (daily): a run that ends late is not noticed']);
    expect(u.guards).toContain('schedules.daily.after 05:30 (not earlier)');
    u = uca(
      analyseStpa(
        input({
          schedules: [daily({ sla: { completionDeadline: { kind: 'time', hour: 8, minute: 0 }, atRiskMs: 900_000 } })],
        }),
      ),
      'wrong-timing',
    );
    expect(u.status).toBe('guarded');
    expect(u.guards).toEqual([
      'not before READY (the readiness rule)',
      'schedules.daily.after 05:30 (not earlier)',
      'sla.completionDeadline 08:00 (daily)',
      'sla.atRisk 15m (daily)',
      'slack sink receives SLA_BREACHED',
    ]);
  });

  it('provided unsafe: partly guarded while a required trait has no ttl; NOT GUARDED when no trait counts', () => {
    let u = uca(analyseStpa(input()), 'provided-unsafe');
    expect(u.status).toBe('partly guarded');
    expect(u.gaps).toEqual(['trait rows has no ttl: a PASS counts forever']);
    expect(u.guards).toContain('window run keys (<window>#<attempt>): each attempt fires at most once, on every store');
    expect(u.guards).toContain('run lock: one active run per pipeline');
    u = uca(analyseStpa(input({ pipeline: spec({ traits: [] }) })), 'provided-unsafe');
    expect(u.status).toBe('NOT GUARDED');
    const monitored = analyseStpa(input({ monitor: { durationMs: 7_200_000, onDrift: 'alert', maxReruns: 1 } }));
    expect(uca(monitored, 'provided-unsafe').guards).toContain(
      'monitor: every required trait re-checked for 2h after COMPLETED (onDrift alert)',
    );
  });

  it('wrong duration: maxRunSeconds or expectedDuration guards; neither is NOT GUARDED', () => {
    expect(uca(analyseStpa(input()), 'wrong-duration').status).toBe('guarded');
    const none = spec({ trigger: { type: 'command', command: 'true' } as PipelineSpec['trigger'] });
    let u = uca(analyseStpa(input({ pipeline: none })), 'wrong-duration');
    expect(u.status).toBe('NOT GUARDED');
    expect(u.gaps[0]).toContain('no trigger.maxRunSeconds');
    u = uca(
      analyseStpa(input({ pipeline: none, schedules: [daily({ sla: { expectedDurationMs: 1_800_000 } })] })),
      'wrong-duration',
    );
    expect(u.status).toBe('partly guarded');
    expect(u.guards).toContain('sla.expectedDuration 30m (RUN_STUCK)');
  });

  it('on demand and gate-only pipelines: the window UCAs do not apply', () => {
    const onDemand = analyseStpa(input({ schedules: [] }));
    expect(onDemand.scheduled).toBe(false);
    expect(uca(onDemand, 'not-provided').status).toBe('not applicable');
    expect(uca(onDemand, 'wrong-timing').status).toBe('guarded');
    const gate = analyseStpa(input({ pipeline: spec({ trigger: undefined }) }));
    expect(gate.controlStructure.actuator).toContain('none');
    expect(uca(gate, 'wrong-duration').status).toBe('not applicable');
  });

  it('shadow mode is a gap of not-provided', () => {
    const u = uca(analyseStpa(input({ mode: 'shadow' })), 'not-provided');
    expect(u.gaps).toContain('mode: shadow — the trigger is never fired');
    expect(u.status).toBe('partly guarded');
  });
});
