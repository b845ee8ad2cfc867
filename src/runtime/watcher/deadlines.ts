// The watcher's SLA part: on every pass over a pipeline, which SLA alerts of its windows are due (engine/sla-due.ts),
// each claimed in the store once per (window, alert) across replicas and restarts (again per alerts.repeatAfter while
// a live window still breaches), built with its why (alert-why.ts) and sent in order in the background; RECOVERED
// when what was alerted has cleared. Returns the next SLA instant, so the watcher's timer wakes for it.
import { makeAlert } from '../../alert/index.js';
import type { Alert, PipelineSpec, TraitResult } from '../../core/types.js';
import {
  decideReadiness,
  isoUtc,
  isWindowTerminal,
  localHHMM,
  type Schedule,
  SLA_MAX_LATE_MS,
  type SlaDueAlert,
  slaAlerted,
  slaDue,
  slaRecovered,
  type WindowRecord,
} from '../../engine/index.js';
import { windowWhy } from '../alert-why.js';
import { sendAlerts } from '../alerting.js';
import type { Context } from '../context-type.js';

/** repeatAfter for an alert said once (an ended window's breach, an at-risk warning, MISSED, RECOVERED). */
const ONCE_MS = 100 * 365 * 86_400_000;
/** After a failed look (the store down), look again this soon: a deadline must not wait for the sweep. */
const ERROR_RETRY_MS = 1000;

/** What the SLA pass needs of a watched pipeline. */
export interface SlaWatched {
  spec: PipelineSpec;
  schedules: readonly Schedule[];
}

/** An alert condition this process has claimed (sent or seen sent): look again only for a repeat. */
interface Claimed {
  repeatAt?: number;
}

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m}m` : `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
}

export class SlaDeadlines {
  /** Per pipeline: the conditions claimed, by `<window key>\u0000<alert id>`. */
  private claimed = new Map<string, Map<string, Claimed>>();
  /**
   * Per pipeline: windows seen that may still owe an alert (live, a deadline to come, or alerted and not recovered).
   * A window leaves the store's heads when it ends while a newer one exists (or as the next one opens): it is looked
   * at from here until nothing is owed. In memory: after a restart only the heads are looked at.
   */
  private known = new Map<string, Map<string, WindowRecord>>();
  /** Alerts go out one dispatch after another, in the order raised (at-risk, breach, MISSED, RECOVERED). */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: Context) {}

  /** Resolves once every alert raised so far has been handed to the sinks (and they finished or ran out of time). */
  settled(): Promise<void> {
    return this.chain;
  }

  /**
   * Looks at the pipeline's window heads at `now`: claims and sends what is due. Returns the next SLA instant (or a
   * retry soon after a store failure) and the sending in progress, if any. Never throws.
   */
  async check(
    w: SlaWatched,
    records: readonly WindowRecord[],
    results: readonly TraitResult[],
    now: number,
  ): Promise<{ nextAt?: number; sending?: Promise<void> }> {
    const p = w.spec.name;
    const before = this.claimed.get(p) ?? new Map<string, Claimed>();
    const kept = new Map<string, Claimed>();
    const alerts: Alert[] = [];
    let nextAt: number | undefined;
    const wake = (t: number | undefined) => {
      if (t !== undefined && (nextAt === undefined || t < nextAt)) nextAt = t;
    };
    const known = this.known.get(p) ?? new Map<string, WindowRecord>();
    const keep = new Map<string, WindowRecord>();
    try {
      const heads = new Set(records.map((r) => r.key));
      const all = [...records];
      for (const [key, r] of known) {
        if (heads.has(key)) continue;
        if (isWindowTerminal(r.state)) all.push(r);
        else {
          const fresh = await this.ctx.store.getWindow(key);
          if (fresh) all.push(fresh);
        }
      }
      for (const rec of all) {
        const schedule = w.schedules.find((s) => s.spec.name === rec.schedule);
        const tz = schedule?.spec.timezone ?? 'UTC';
        const input = { window: rec, ...(schedule?.spec.sla ? { sla: schedule.spec.sla } : {}), timezone: tz, now };
        const r = slaDue(input);
        wake(r.nextAt);
        let owed = !isWindowTerminal(rec.state) || r.nextAt !== undefined;
        for (const d of r.due) {
          const id = `${rec.key}\u0000${d.id}`;
          const seen = before.get(id);
          if (seen && (seen.repeatAt === undefined || now < seen.repeatAt)) {
            kept.set(id, seen);
            wake(seen.repeatAt);
            continue;
          }
          const repeatMs = d.repeatable ? this.ctx.repeatAfterMs : ONCE_MS;
          const claim = await this.ctx.store.claimAlert(
            { pipeline: p, kind: 'window', window: rec.key, alert: d.id },
            'due',
            now,
            repeatMs,
          );
          const mark: Claimed = d.repeatable ? { repeatAt: now + repeatMs } : {};
          kept.set(id, mark);
          wake(mark.repeatAt);
          if (claim.fire)
            alerts.push(await this.slaAlert(w.spec, rec, d, results, now, tz, claim.previous !== undefined));
        }
        // RECOVERED, once per set of cleared conditions.
        const dead = rec.state === 'MISSED' || rec.state === 'FAILED';
        const readyNow =
          dead && decideReadiness(p, w.spec.traits, results, w.spec.readinessRule, now).outcome === 'READY';
        const recovered = slaRecovered({ ...input, readyNow });
        if (!recovered && slaAlerted(input).length > 0 && now - (rec.terminal?.at ?? now) <= SLA_MAX_LATE_MS) {
          owed = true;
        }
        if (owed) keep.set(rec.key, rec);
        if (recovered) {
          const fingerprint = recovered.join(',');
          const id = `${rec.key}\u0000RECOVERED:${fingerprint}`;
          const seen = before.get(id);
          if (seen) kept.set(id, seen);
          else {
            const claim = await this.ctx.store.claimAlert(
              { pipeline: p, kind: 'window', window: rec.key, alert: 'RECOVERED' },
              fingerprint,
              now,
              ONCE_MS,
            );
            kept.set(id, {});
            if (claim.fire) alerts.push(this.recoveredAlert(rec, recovered, now, tz, readyNow));
          }
        }
      }
    } catch (err) {
      this.ctx.log.warn(`watcher: ${p}: SLA deadlines: ${(err as Error).message}; looking again shortly`);
      for (const [k, v] of before) if (!kept.has(k)) kept.set(k, v);
      for (const [k, v] of known) if (!keep.has(k)) keep.set(k, v);
      wake(now + ERROR_RETRY_MS);
    }
    this.claimed.set(p, kept);
    this.known.set(p, keep);
    if (alerts.length === 0) return nextAt === undefined ? {} : { nextAt };
    for (const a of alerts) {
      this.ctx.log.info(`watcher: ${a.window ?? p}: ${a.kind}: ${a.message}`, { window: a.window, alert: a.kind });
    }
    const sending = (this.chain = this.chain.then(async () => {
      for (const a of alerts) await sendAlerts(this.ctx, [a]);
    }));
    return nextAt === undefined ? { sending } : { nextAt, sending };
  }

  private async slaAlert(
    spec: PipelineSpec,
    rec: WindowRecord,
    d: SlaDueAlert,
    results: readonly TraitResult[],
    now: number,
    tz: string,
    repeat: boolean,
  ): Promise<Alert> {
    const why = await windowWhy(this.ctx, spec, rec, results, now, tz);
    const win = `${rec.schedule} ${rec.date}`;
    const late =
      d.delayMs !== undefined ? ` (noticed ${fmtDuration(d.delayMs)} late: no watcher was running then)` : '';
    let message: string;
    if (d.alert === 'WINDOW_MISSED') {
      message = `window ${win} MISSED at ${localHHMM(d.at, tz)}: ${why.why}${late}`;
    } else {
      const dl = localHHMM(d.deadline ?? d.at, tz);
      const goal = d.kind === 'evaluation' ? 'READY' : 'COMPLETED';
      message =
        d.alert === 'SLA_AT_RISK'
          ? `window ${win}: ${d.kind} deadline ${dl} in ${fmtDuration((d.deadline ?? now) - now)}, not ${goal}: ${why.why}${late}`
          : `window ${win}: ${d.kind} deadline ${dl} passed, not ${goal}: ${why.why}${late}`;
    }
    const details: Record<string, unknown> = {
      ...(d.kind !== undefined ? { kind: d.kind } : {}),
      ...(d.deadline !== undefined ? { deadline: isoUtc(d.deadline) } : {}),
      ...(d.alert === 'SLA_AT_RISK' ? { atRisk: isoUtc(d.at) } : {}),
      ...(d.alert === 'WINDOW_MISSED' ? { missedAt: isoUtc(d.at) } : {}),
      ...(d.delayMs !== undefined ? { late: true, delayMs: d.delayMs } : {}),
      ...(repeat ? { repeat: true } : {}),
      state: rec.state,
      schedule: rec.schedule,
      timezone: tz,
      cause: why.cause,
      why: why.why,
      blocking: why.blocking,
      ...(rec.mode === 'shadow' ? { mode: 'shadow' } : {}),
    };
    return makeAlert(d.alert, { pipeline: rec.pipeline, window: rec.key, message, details }, now);
  }

  private recoveredAlert(rec: WindowRecord, ids: string[], now: number, tz: string, readyNow: boolean): Alert {
    const last = rec.attempts[rec.attempts.length - 1];
    const how = readyNow
      ? 'the pipeline is READY again'
      : rec.state === 'COMPLETED'
        ? `COMPLETED at ${localHHMM(rec.terminal?.at ?? now, tz)}`
        : last
          ? `READY and triggered at ${localHHMM(last.claimedAt, tz)} (run ${last.runId})`
          : `${rec.state}`;
    const message = `window ${rec.schedule} ${rec.date} recovered: ${how} (clears ${ids.join(', ')})`;
    return makeAlert(
      'RECOVERED',
      {
        pipeline: rec.pipeline,
        window: rec.key,
        message,
        details: { recovered: ids, state: rec.state, schedule: rec.schedule, timezone: tz },
      },
      now,
    );
  }
}
