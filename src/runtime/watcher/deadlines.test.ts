// SLA deadlines by timer, with the fake clock on the memory store: SLA_AT_RISK and SLA_BREACHED at their instants
// (nothing else happening), WINDOW_MISSED, each once per window and kind across a replica handover and a restart,
// late after downtime, on a DST day; every alert naming the blocking trait; RECOVERED when it clears. Real evaluator
// and trigger subprocesses.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { openGateContext, recordAlerts, writeGateProject } from '../../../test/support/runtime-context.js';
import type { PipelineWatchConfig } from '../../config/index.js';
import type { Alert } from '../../core/types.js';
import { DEFAULT_RETRY, type ScheduleSpec, type SlaSpec } from '../../engine/index.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import type { Context } from '../context.js';
import { evaluateWithAlerts } from '../evaluate.js';
import { Watcher } from './watcher.js';

const T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const MIN = 60_000;
const HOUR = 60 * MIN;
const OPEN1 = Math.ceil(T0 / HOUR) * HOUR; // 23:00Z, the first window after the skipped one
const SLA: SlaSpec = { evaluationDeadline: { kind: 'offset', ms: 30 * MIN }, atRiskMs: 10 * MIN };
const SLA_KINDS = new Set(['SLA_AT_RISK', 'SLA_BREACHED', 'WINDOW_MISSED', 'RECOVERED']);

const dirs: string[] = [];
const open: Array<{ ctx: Context; watcher: Watcher }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.watcher.stop();
    await o.ctx.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(schedule: Partial<ScheduleSpec> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'interlock-sla-'));
  dirs.push(root);
  writeGateProject(root, {
    config: 'provider: memory\n',
    trait: 'gate',
    files: {
      'evaluators/gate': `#!/bin/sh\nif [ -e '${join(root, 'gate')}' ]; then echo '{"status":"PASS"}'; else echo '{"status":"FAIL","reason":"marker gate missing"}'; fi\n`,
      'pipelines/p.yaml': [
        'name: p',
        'archetype: gate',
        'traits:',
        '  gate:',
        '    evaluator: gate',
        '    ttl: 600',
        'trigger:',
        '  type: command',
        `  command: "echo $INTERLOCK_RUN_KEY >> '${join(root, 'fired')}'; exit $(cat '${join(root, 'exit-code')}' 2>/dev/null || echo 0)"`,
        '',
      ].join('\n'),
    },
  });
  const watch: PipelineWatchConfig = {
    schedules: [{ name: 'hourly', cron: '0 * * * *', timezone: 'UTC', catchup: 'skip', sla: SLA, ...schedule }],
    reevaluateMs: 60_000,
    retry: { ...DEFAULT_RETRY },
    mode: 'live',
  };
  return { root, watch };
}

async function replica(root: string, watch: PipelineWatchConfig, store: MemoryStore, clock: FakeClock, holder: string) {
  const { ctx } = await openGateContext(root, { store, clock });
  ctx.project.watch.set('p', watch);
  const sent = recordAlerts(ctx);
  const watcher = new Watcher(ctx, { holder, random: () => 0.5 });
  open.push({ ctx, watcher });
  return { ctx, watcher, sent };
}

async function setup(schedule: Partial<ScheduleSpec> = {}, start = T0) {
  const { root, watch } = project(schedule);
  const store = new MemoryStore();
  const clock = new FakeClock(start);
  const a = await replica(root, watch, store, clock, 'A');
  return {
    ...a,
    root,
    store,
    clock,
    watch,
    fires: () => (existsSync(join(root, 'fired')) ? readFileSync(join(root, 'fired'), 'utf8').trim().split('\n') : []),
    unblock: () => writeFileSync(join(root, 'gate'), ''),
  };
}

async function settle(...ws: Watcher[]): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    await Promise.all(ws.map((w) => w.idle()));
    await new Promise((r) => setImmediate(r));
    if (ws.every((w) => w.busy === 0)) return;
  }
}

async function advanceTo(clock: FakeClock, t: number, ...ws: Watcher[]): Promise<void> {
  await settle(...ws);
  while (clock.now() < t) {
    const next = clock.nextTimerAt();
    clock.advance((next !== undefined && next <= t ? Math.max(next, clock.now()) : t) - clock.now());
    await settle(...ws);
  }
}

/** The SLA alerts among `sent`, as `KIND@offset-from-open1` (seconds) for one window. */
const slaOf = (sent: Alert[], window?: string) =>
  sent.filter((a) => SLA_KINDS.has(a.kind) && (window === undefined || a.window === window));

function crash(w: Watcher): void {
  const inner = w as unknown as {
    stopped: boolean;
    leadership: { stopped: boolean; timer: unknown };
    queue: { clear(): void };
    unsubscribe: Array<() => void>;
    sweepTimer: unknown;
    ctx: Context;
  };
  inner.stopped = true;
  inner.leadership.stopped = true;
  inner.ctx.clock.clearTimeout(inner.leadership.timer as never);
  inner.ctx.clock.clearTimeout(inner.sweepTimer as never);
  inner.queue.clear();
  for (const u of inner.unsubscribe.splice(0)) u();
}

const KEY1 = 'p@hourly@2023-11-14T23:00:00Z';

describe('SLA deadlines by timer', () => {
  it('a window never unblocked: SLA_AT_RISK, SLA_BREACHED, WINDOW_MISSED at their instants, each once, naming the trait; unblocking sends RECOVERED', async () => {
    const s = await setup();
    await s.watcher.start();
    await advanceTo(s.clock, OPEN1 + 20 * MIN - 1, s.watcher);
    expect(slaOf(s.sent)).toEqual([]);
    await advanceTo(s.clock, OPEN1 + HOUR + 5 * MIN, s.watcher);
    const got = slaOf(s.sent, KEY1);
    expect(got.map((a) => [a.kind, a.timestamp - OPEN1])).toEqual([
      ['SLA_AT_RISK', 20 * MIN],
      ['SLA_BREACHED', 30 * MIN],
      ['WINDOW_MISSED', HOUR],
    ]);
    const [risk, breach, missed] = got;
    expect(risk?.details).toMatchObject({ kind: 'evaluation', deadline: '2023-11-14T23:30:00Z', cause: 'blocked' });
    expect(breach?.details).toMatchObject({ kind: 'evaluation', deadline: '2023-11-14T23:30:00Z', state: 'OPEN' });
    expect(breach?.details?.late).toBeUndefined();
    for (const a of got) {
      // The MISSED one is on the next local day: the since says the date too.
      expect(a.message).toMatch(/gate FAIL since (2023-11-14 )?23:00: marker gate missing/);
      expect(a.details?.blocking).toEqual([
        {
          trait: 'gate',
          state: 'FAIL',
          reasonCode: 'EVALUATOR_FAIL',
          reason: 'marker gate missing',
          since: '2023-11-14T23:00:00Z',
        },
      ]);
    }
    expect(breach?.message).toBe(
      'window hourly 2023-11-14: evaluation deadline 23:30 passed, not READY: gate FAIL since 23:00: marker gate missing',
    );
    expect(missed?.message).toContain('MISSED at 00:00');

    // Unblocked: the MISSED window (no longer the newest) recovers; the next window triggers.
    s.unblock();
    await evaluateWithAlerts(s.ctx, 'p', { source: 'cli' });
    await settle(s.watcher);
    const rec = slaOf(s.sent, KEY1).filter((a) => a.kind === 'RECOVERED');
    expect(rec).toHaveLength(1);
    expect(rec[0]?.details?.recovered).toEqual(['SLA_AT_RISK:evaluation', 'SLA_BREACHED:evaluation', 'WINDOW_MISSED']);
    // Nothing repeats afterwards.
    await advanceTo(s.clock, OPEN1 + 2 * HOUR - 1, s.watcher);
    expect(slaOf(s.sent, KEY1).map((a) => a.kind)).toEqual([
      'SLA_AT_RISK',
      'SLA_BREACHED',
      'WINDOW_MISSED',
      'RECOVERED',
    ]);
  });

  it('two replicas: the leader dies between at-risk and breach; the other fires the breach (late by the lease), at-risk not again', async () => {
    const s = await setup();
    const b = await replica(s.root, s.watch, s.store, s.clock, 'B');
    await s.watcher.start();
    await b.watcher.start();
    await advanceTo(s.clock, OPEN1 + 25 * MIN, s.watcher, b.watcher);
    expect(slaOf(s.sent).map((a) => a.kind)).toEqual(['SLA_AT_RISK']);
    // A dies 1 s before the deadline, its lease left in the store: B takes over when it runs out (15 s).
    await advanceTo(s.clock, OPEN1 + 30 * MIN - 1000, s.watcher, b.watcher);
    crash(s.watcher);
    await advanceTo(s.clock, OPEN1 + 31 * MIN, b.watcher);
    expect(b.watcher.status().leading).toBe(true);
    const all = [...slaOf(s.sent), ...slaOf(b.sent)];
    expect(all.map((a) => a.kind)).toEqual(['SLA_AT_RISK', 'SLA_BREACHED']);
    const breach = slaOf(b.sent)[0];
    const delay = (breach?.timestamp ?? 0) - (OPEN1 + 30 * MIN);
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(15_000 + 1000);
    expect(breach?.details).toMatchObject({ late: true, delayMs: delay });
  });

  it('a restart between at-risk and breach: the new process fires the breach on time and not the at-risk again', async () => {
    const s = await setup();
    await s.watcher.start();
    await advanceTo(s.clock, OPEN1 + 22 * MIN, s.watcher);
    await s.watcher.stop(); // gives the lease up
    const b = await replica(s.root, s.watch, s.store, s.clock, 'B');
    await b.watcher.start();
    await advanceTo(s.clock, OPEN1 + 40 * MIN, b.watcher);
    expect(slaOf(s.sent).map((a) => a.kind)).toEqual(['SLA_AT_RISK']);
    expect(slaOf(b.sent).map((a) => [a.kind, a.timestamp - OPEN1])).toEqual([['SLA_BREACHED', 30 * MIN]]);
  });

  it('a serve down over the deadline fires the breach when it comes back, marked late with the delay', async () => {
    const s = await setup();
    await s.watcher.start();
    await advanceTo(s.clock, OPEN1 + 5 * MIN, s.watcher);
    await s.watcher.stop();
    s.clock.advance(30 * MIN); // down over at-risk (23:20) and the deadline (23:30): back at 23:35
    const b = await replica(s.root, s.watch, s.store, s.clock, 'B');
    await b.watcher.start();
    await settle(b.watcher);
    const got = slaOf(b.sent);
    expect(got.map((a) => a.kind)).toEqual(['SLA_BREACHED']);
    expect(got[0]?.details).toMatchObject({ late: true, delayMs: 5 * MIN });
    expect(got[0]?.message).toContain('noticed 5m late');
  });

  it('unblocked between breach and window deadline: triggered, RECOVERED (evaluation) with the window key; completion met', async () => {
    const s = await setup({ sla: { ...SLA, completionDeadline: { kind: 'offset', ms: 50 * MIN } } });
    await s.watcher.start();
    await advanceTo(s.clock, OPEN1 + 35 * MIN, s.watcher);
    s.unblock();
    await evaluateWithAlerts(s.ctx, 'p', { source: 'cli' }); // evidence changed: READY, fired, COMPLETED
    await advanceTo(s.clock, OPEN1 + 55 * MIN, s.watcher);
    expect(s.fires()).toEqual([`${KEY1}#1`]);
    expect(slaOf(s.sent, KEY1).map((a) => a.kind)).toEqual(['SLA_AT_RISK', 'SLA_BREACHED', 'RECOVERED']);
    const rec = slaOf(s.sent, KEY1)[2];
    expect(rec?.window).toBe(KEY1);
    expect(rec?.details?.recovered).toEqual(['SLA_AT_RISK:evaluation', 'SLA_BREACHED:evaluation']);
  });

  it('completion: a FAILED window breaches its completion deadline, saying why', async () => {
    const s = await setup({ sla: { completionDeadline: { kind: 'offset', ms: 40 * MIN } } });
    s.unblock();
    writeFileSync(join(s.root, 'exit-code'), '1'); // PERMANENT: FAILED, not retried
    await s.watcher.start();
    await advanceTo(s.clock, OPEN1 + 45 * MIN, s.watcher);
    const got = slaOf(s.sent, KEY1);
    expect(got.map((a) => [a.kind, a.details?.kind, a.timestamp - OPEN1])).toEqual([
      ['SLA_BREACHED', 'completion', 40 * MIN],
    ]);
    expect(got[0]?.message).toMatch(/completion deadline 23:40 passed, not COMPLETED: failed: attempt 1 failed/);
  });

  it('a DST day: 03:30 Europe/Berlin on 2026-03-29 is 01:30Z; at-risk 30 min before is 01:00Z', async () => {
    // Daily at 01:00 Berlin (00:00Z on that day, still CET); it is 2026-03-28T23:30Z (00:30 CET) at start.
    const s = await setup(
      {
        name: 'daily',
        cron: '0 1 * * *',
        timezone: 'Europe/Berlin',
        sla: { evaluationDeadline: { kind: 'time', hour: 3, minute: 30 }, atRiskMs: 30 * MIN },
      },
      Date.parse('2026-03-28T23:30:00Z'),
    );
    await s.watcher.start();
    await advanceTo(s.clock, Date.parse('2026-03-29T02:00:00Z'), s.watcher);
    const got = slaOf(s.sent, 'p@daily@2026-03-29T00:00:00Z');
    expect(got.map((a) => [a.kind, new Date(a.timestamp).toISOString()])).toEqual([
      ['SLA_AT_RISK', '2026-03-29T01:00:00.000Z'],
      ['SLA_BREACHED', '2026-03-29T01:30:00.000Z'],
    ]);
    expect(got[1]?.message).toContain('deadline 03:30 passed');
  });
});
