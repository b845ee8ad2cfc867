// In-memory store: the reference implementation of the store port (tests, and `provider: memory`).
import { InterlockError } from '../../core/errors.js';
import type { DecisionRecord, PipelineSpec, Readiness, RunEvent, RunState, TraitResult } from '../../core/types.js';
import type { WindowRecord } from '../../engine/window.js';
import { isWindowTerminal } from '../../engine/window.js';
import {
  emptyCounts,
  type PruneCounts,
  type PruneRequest,
  runAlertPrefix,
  runPrunable,
  windowAlertPrefix,
  windowPrunable,
} from '../retention.js';
import {
  type AlertKey,
  alertKeyId,
  casApplies,
  leaseGrant,
  releasesLock,
  shouldSendAlert,
  windowCasApplies,
  windowHeadsOf,
  windowListFilter,
} from '../rules.js';
import {
  type AlertClaim,
  type CasOptions,
  type CasResult,
  type CreateRunResult,
  type DeleteResult,
  type EvaluationWrite,
  type Lease,
  type LeaseFence,
  type LeaseResult,
  type ListOptions,
  runEvent,
  type Store,
  type StoreChange,
  type StoredPipeline,
  type WindowListOptions,
  type WindowWriteResult,
} from '../types.js';

// Deep copies keep callers from mutating stored state, as a real backend would.
const copy = <T>(v: T): T => structuredClone(v);

export class MemoryStore implements Store {
  readonly kind = 'memory';
  private pipelines = new Map<string, string>();
  private traits = new Map<string, Map<string, TraitResult>>();
  private readiness = new Map<string, Readiness>();
  private decisions = new Map<string, DecisionRecord[]>();
  private runs = new Map<string, RunState>();
  private active = new Map<string, string>();
  private events: RunEvent[] = [];
  private alerts = new Map<string, { fingerprint: string; sentAt: number }>();
  private runKeys = new Map<string, string>();
  private windows = new Map<string, WindowRecord>();
  private leases = new Map<string, Lease>();
  private listeners = new Set<(c: StoreChange) => void>();
  private closed = false;

  /** Notifies change-feed listeners after the current write (asynchronously, as a real feed would). */
  private changed(pipeline: string, kind: StoreChange['kind']): void {
    if (this.listeners.size === 0) return;
    const change = { pipeline, kind };
    queueMicrotask(() => {
      for (const l of this.listeners) {
        try {
          l(change);
        } catch {
          // A listener's failure is its own.
        }
      }
    });
  }
  private fenceHolds(fence: LeaseFence | undefined): boolean {
    return fence === undefined || this.leases.get(fence.name)?.epoch === fence.epoch;
  }

  async putPipeline(spec: PipelineSpec): Promise<void> {
    this.pipelines.set(spec.name, JSON.stringify(spec));
    this.changed(spec.name, 'pipeline');
  }
  async getPipeline(name: string): Promise<StoredPipeline | undefined> {
    const json = this.pipelines.get(name);
    return json === undefined ? undefined : { name, json };
  }
  async listPipelines(): Promise<StoredPipeline[]> {
    return [...this.pipelines.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, json]) => ({ name, json }));
  }
  async deletePipeline(name: string): Promise<DeleteResult> {
    const activeId = this.active.get(name);
    if (activeId !== undefined) return { ok: false, active: copy(this.runs.get(activeId) as RunState) };
    const deleted = this.pipelines.delete(name);
    if (deleted) this.changed(name, 'pipeline');
    return { ok: true, deleted };
  }

  async saveEvaluation(w: EvaluationWrite): Promise<void> {
    const pipeline = w.readiness.pipeline;
    let m = this.traits.get(pipeline);
    if (!m) this.traits.set(pipeline, (m = new Map()));
    for (const r of w.results) m.set(r.trait, copy(r));
    this.readiness.set(pipeline, copy(w.readiness));
    const list = this.decisions.get(pipeline) ?? [];
    list.push(copy(w.decision));
    this.decisions.set(pipeline, list);
    this.changed(pipeline, 'evaluation');
  }
  async getTraitResults(pipeline: string): Promise<TraitResult[]> {
    return [...(this.traits.get(pipeline)?.values() ?? [])].sort((a, b) => a.trait.localeCompare(b.trait)).map(copy);
  }
  async getTraitResult(pipeline: string, trait: string): Promise<TraitResult | undefined> {
    const r = this.traits.get(pipeline)?.get(trait);
    return r && copy(r);
  }
  async getReadiness(pipeline: string): Promise<Readiness | undefined> {
    const r = this.readiness.get(pipeline);
    return r && copy(r);
  }
  async listDecisions(pipeline: string, opts: ListOptions = {}): Promise<DecisionRecord[]> {
    const all = (this.decisions.get(pipeline) ?? [])
      .filter((d) => opts.before === undefined || d.decidedAt < opts.before)
      .sort((a, b) => b.decidedAt - a.decidedAt || (a.id < b.id ? 1 : -1));
    return all.slice(0, opts.limit ?? all.length).map(copy);
  }

  async createRun(run: RunState): Promise<CreateRunResult> {
    const claimedId = run.runKey === undefined ? undefined : this.runKeys.get(run.runKey);
    if (claimedId !== undefined) return { ok: false, claimed: copy(this.runs.get(claimedId) as RunState) };
    const activeId = this.active.get(run.pipeline);
    if (activeId !== undefined) return { ok: false, active: copy(this.runs.get(activeId) as RunState) };
    this.runs.set(run.runId, copy(run));
    if (run.runKey !== undefined) this.runKeys.set(run.runKey, run.runId);
    this.active.set(run.pipeline, run.runId);
    this.events.push(runEvent(run, null));
    this.changed(run.pipeline, 'run');
    return { ok: true };
  }
  async getRunByKey(runKey: string): Promise<RunState | undefined> {
    const id = this.runKeys.get(runKey);
    return id === undefined ? undefined : copy(this.runs.get(id));
  }
  async casRun(next: RunState, expectedVersion: number, opts: CasOptions = {}): Promise<CasResult> {
    const current = this.runs.get(next.runId);
    if (!current) return { ok: false };
    // One host, one clock: the caller's now (next.updatedAt) is the store's.
    if (!casApplies(current, next, expectedVersion, opts.ifOverdue, next.updatedAt)) {
      return { ok: false, current: copy(current) };
    }
    this.runs.set(next.runId, copy(next));
    if (releasesLock(next) && this.active.get(next.pipeline) === next.runId) this.active.delete(next.pipeline);
    this.events.push(runEvent(next, current.status));
    this.changed(next.pipeline, 'run');
    return { ok: true };
  }
  async releaseLock(pipeline: string, runId: string, version: number): Promise<boolean> {
    if (this.active.get(pipeline) !== runId || this.runs.get(runId)?.version !== version) return false;
    this.active.delete(pipeline);
    return true;
  }
  async getRun(runId: string): Promise<RunState | undefined> {
    const r = this.runs.get(runId);
    return r && copy(r);
  }
  async getActiveRun(pipeline: string): Promise<RunState | undefined> {
    const id = this.active.get(pipeline);
    return id === undefined ? undefined : copy(this.runs.get(id) as RunState);
  }
  async listRuns(pipeline: string, opts: ListOptions = {}): Promise<RunState[]> {
    const all = [...this.runs.values()]
      .filter((r) => r.pipeline === pipeline && (opts.before === undefined || r.createdAt < opts.before))
      .sort((a, b) => b.createdAt - a.createdAt || (a.runId < b.runId ? 1 : -1));
    return all.slice(0, opts.limit ?? all.length).map(copy);
  }
  async listRunEvents(pipeline: string, opts: ListOptions = {}): Promise<RunEvent[]> {
    const all = this.events
      .map((e, seq) => ({ e, seq }))
      .filter(({ e }) => e.pipeline === pipeline && (opts.before === undefined || e.at < opts.before))
      .sort((a, b) => b.e.at - a.e.at || b.seq - a.seq)
      .map(({ e }) => e);
    return all.slice(0, opts.limit ?? all.length).map(copy);
  }
  async claimAlert(key: AlertKey, fingerprint: string, now: number, repeatAfterMs: number): Promise<AlertClaim> {
    const id = alertKeyId(key);
    const prev = this.alerts.get(id);
    const fire = shouldSendAlert(prev, fingerprint, now, repeatAfterMs);
    if (fire) this.alerts.set(id, { fingerprint, sentAt: now });
    return prev ? { fire, previous: prev.fingerprint } : { fire };
  }

  async createWindow(w: WindowRecord, fence?: LeaseFence): Promise<WindowWriteResult> {
    const current = this.windows.get(w.key);
    if (!this.fenceHolds(fence))
      return current ? { ok: false, fenced: true, current: copy(current) } : { ok: false, fenced: true };
    if (current) return { ok: false, current: copy(current) };
    this.windows.set(w.key, copy(w));
    this.changed(w.pipeline, 'window');
    return { ok: true };
  }
  async casWindow(next: WindowRecord, expectedVersion: number, fence?: LeaseFence): Promise<WindowWriteResult> {
    const current = this.windows.get(next.key);
    if (!this.fenceHolds(fence))
      return current ? { ok: false, fenced: true, current: copy(current) } : { ok: false, fenced: true };
    if (!current) return { ok: false };
    if (!windowCasApplies(current, next, expectedVersion)) return { ok: false, current: copy(current) };
    this.windows.set(next.key, copy(next));
    this.changed(next.pipeline, 'window');
    return { ok: true };
  }
  async getWindow(key: string): Promise<WindowRecord | undefined> {
    const w = this.windows.get(key);
    return w && copy(w);
  }
  async listWindows(pipeline: string, opts: WindowListOptions = {}): Promise<WindowRecord[]> {
    return windowListFilter(
      [...this.windows.values()].filter((w) => w.pipeline === pipeline),
      opts,
    ).map(copy);
  }
  async windowHeads(pipeline?: string): Promise<WindowRecord[]> {
    const all = [...this.windows.values()].filter((w) => pipeline === undefined || w.pipeline === pipeline);
    return windowHeadsOf(all).map(copy);
  }

  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<LeaseResult> {
    const r = leaseGrant(this.leases.get(name), name, holder, ttlMs, now);
    if (r.ok) this.leases.set(name, copy(r.lease));
    return r;
  }
  async releaseLease(name: string, holder: string, epoch: number): Promise<boolean> {
    const l = this.leases.get(name);
    if (!l || l.holder !== holder || l.epoch !== epoch) return false;
    // Keep the epoch (it only grows): expire the lease now instead of deleting it.
    this.leases.set(name, { ...l, expiresAt: 0 });
    return true;
  }
  async getLease(name: string): Promise<Lease | undefined> {
    const l = this.leases.get(name);
    return l && copy(l);
  }

  async prune(req: PruneRequest): Promise<PruneCounts> {
    const counts = emptyCounts();
    const { now, policy, limit } = req;
    for (const p of req.pipelines) {
      // Decisions: the newest one (the latest saved, and the latest by time) always stays.
      const list = this.decisions.get(p) ?? [];
      const latest = new Set([list.at(-1), [...list].sort((a, b) => b.decidedAt - a.decidedAt)[0]]);
      const oldDecisions = new Set(
        list.filter((d) => !latest.has(d) && d.decidedAt < now - policy.decisionsMs).slice(0, limit),
      );
      counts.decisions += oldDecisions.size;

      // Windows first: a window's runs can go only once the window has.
      const mine = [...this.windows.values()].filter((w) => w.pipeline === p);
      const newest = new Set(
        windowHeadsOf(mine)
          .filter((w) => isWindowTerminal(w.state))
          .map((w) => w.key),
      );
      const goneWindows = new Set(
        mine
          .filter((w) =>
            windowPrunable(w, { isNewest: newest.has(w.key), runOf: (id) => this.runs.get(id), now, policy }),
          )
          .sort((a, b) => a.openAt - b.openAt)
          .slice(0, limit)
          .map((w) => w.key),
      );
      counts.windows += goneWindows.size;

      const activeRunId = this.active.get(p);
      const windowExists = (key: string) => this.windows.has(key) && !goneWindows.has(key);
      const goneRuns = new Set(
        [...this.runs.values()]
          .filter((r) => r.pipeline === p && runPrunable(r, { activeRunId, windowExists, now, policy }))
          .sort((a, b) => a.createdAt - b.createdAt)
          .slice(0, limit)
          .map((r) => r.runId),
      );
      counts.runs += goneRuns.size;
      const goneEvents = this.events.filter((e) => e.pipeline === p && goneRuns.has(e.runId));
      counts.runEvents += goneEvents.length;
      const prefixes = [
        ...[...goneWindows].map((k) => windowAlertPrefix(p, k)),
        ...[...goneRuns].map((id) => runAlertPrefix(p, id)),
      ];
      const goneMarks = [...this.alerts.keys()].filter((id) => prefixes.some((x) => id.startsWith(x)));
      counts.alertMarks += goneMarks.length;
      if (req.dryRun) continue;

      if (oldDecisions.size > 0)
        this.decisions.set(
          p,
          list.filter((d) => !oldDecisions.has(d)),
        );
      for (const k of goneWindows) this.windows.delete(k);
      for (const id of goneRuns) {
        const run = this.runs.get(id);
        if (run?.runKey !== undefined) this.runKeys.delete(run.runKey);
        this.runs.delete(id);
      }
      if (goneEvents.length > 0) this.events = this.events.filter((e) => !(e.pipeline === p && goneRuns.has(e.runId)));
      for (const id of goneMarks) this.alerts.delete(id);
    }
    return counts;
  }

  watchChanges(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async ping(): Promise<void> {
    if (this.closed) throw new InterlockError('STORE_UNAVAILABLE', 'memory store is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}
