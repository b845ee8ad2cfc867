// The store port: everything Interlock persists, behind one interface that every backend implements.
import type { Clock } from '../core/clock.js';
import type { DecisionRecord, PipelineSpec, Readiness, RunEvent, RunState, TraitResult } from '../core/types.js';
import type { WindowRecord } from '../engine/window.js';
import type { PruneCounts, PruneRequest } from './retention.js';
import type { AlertKey } from './rules.js';
import type { Lease, LeaseFence, LeaseResult, WindowListOptions, WindowWriteResult } from './watch-types.js';

export type { PruneCounts, PruneRequest, RetentionPolicy } from './retention.js';
export type { AlertKey } from './rules.js';
export type { Lease, LeaseFence, LeaseResult, WindowListOptions, WindowWriteResult } from './watch-types.js';

/** One evaluation, written atomically: latest trait results, the readiness, and its decision record. */
export interface EvaluationWrite {
  results: TraitResult[];
  readiness: Readiness;
  decision: DecisionRecord;
}

export interface ListOptions {
  /** Newest first; at most this many. */
  limit?: number;
  /** Only records decided strictly before this epoch ms. */
  before?: number;
}

/**
 * The store port. Implementations: memory, sqlite (later redis, …).
 * Semantics are defined by the conformance suite in test/store-conformance.ts.
 */
export interface Store {
  readonly kind: string;

  /**
   * Registered pipelines (the API registers them; YAML-defined ones are not stored here). What comes back is the
   * stored text, unparsed and untrusted: whoever can write to the store can write anything there, so the runtime
   * checks every entry like a new registration each time it reads one (runtime/register.ts).
   */
  putPipeline(spec: PipelineSpec): Promise<void>;
  getPipeline(name: string): Promise<StoredPipeline | undefined>;
  /** By name. */
  listPipelines(): Promise<StoredPipeline[]>;
  /**
   * Deletes a registered pipeline, atomically with a check of its active-run lock: refused (`ok: false`, with the
   * run holding it) while any run holds the lock, so a run that has taken the lock never loses its pipeline, and a
   * run that takes the lock after the delete finds no spec. `deleted` is false when nothing was registered.
   */
  deletePipeline(name: string): Promise<DeleteResult>;

  /** Atomically records one evaluation: replaces each trait's latest result, the readiness, appends the decision. */
  saveEvaluation(write: EvaluationWrite): Promise<void>;
  /**
   * Latest result per trait of a pipeline. A backend may drop results past `expiresAt` (Redis does, natively);
   * callers must treat both a missing and an expired result as STALE.
   */
  getTraitResults(pipeline: string): Promise<TraitResult[]>;
  getTraitResult(pipeline: string, trait: string): Promise<TraitResult | undefined>;
  /** The readiness of the latest evaluation, as decided then. */
  getReadiness(pipeline: string): Promise<Readiness | undefined>;
  /** Decision records, newest first. */
  listDecisions(pipeline: string, opts?: ListOptions): Promise<DecisionRecord[]>;

  /**
   * Creates a PENDING run (version 1) and takes the pipeline's active-run lock, atomically.
   * Refused while another non-terminal run holds the lock: then `active` is that run. A run with a `runKey` is
   * also refused when any run (of any state, ever) already has that key: then `claimed` is that run. Both checks
   * and the create are one atomic step: this is the fence that makes one window attempt fire at most once.
   */
  createRun(run: RunState): Promise<CreateRunResult>;
  /** The run created under `runKey`, if any. */
  getRunByKey(runKey: string): Promise<RunState | undefined>;
  /**
   * Compare-and-swap: stores `next` only if the stored run's version is `expectedVersion` (and next.version is
   * expectedVersion + 1). A terminal `next` releases the pipeline's lock when this run holds it, unless
   * `next.lockHeldUntil` is set (see `releasesLock` in rules.ts). The transition event is appended in the same atomic step. On a
   * lost race, `current` is the stored run.
   */
  casRun(next: RunState, expectedVersion: number, opts?: CasOptions): Promise<CasResult>;
  /**
   * Releases the pipeline's lock, atomically, only if it still names `runId` and that run's stored version is still
   * `version` (so the caller's reading of the run — ended, its hold over — is still true). true when released.
   */
  releaseLock(pipeline: string, runId: string, version: number): Promise<boolean>;
  getRun(runId: string): Promise<RunState | undefined>;
  /** The run holding the pipeline's lock, if any. */
  getActiveRun(pipeline: string): Promise<RunState | undefined>;
  /** Runs of a pipeline, newest first (by creation; ties by runId). `before` filters on createdAt. */
  listRuns(pipeline: string, opts?: ListOptions): Promise<RunState[]>;
  /** Run transitions of a pipeline, newest first. `before` filters on `at`. */
  listRunEvents(pipeline: string, opts?: ListOptions): Promise<RunEvent[]>;

  /**
   * Alert de-duplication, atomic across processes: records `fingerprint` for `key` and says whether to send.
   * fire = the fingerprint differs from the stored one, or the stored one was sent at least `repeatAfterMs` ago
   * (`shouldSendAlert` in rules.ts). `previous` is the fingerprint stored before this call.
   */
  claimAlert(key: AlertKey, fingerprint: string, now: number, repeatAfterMs: number): Promise<AlertClaim>;

  /**
   * Schedule windows. Creates the record (version 1) only if no record has its key; otherwise refused with the
   * stored one as `current`. With a `fence`, also refused (`fenced`) unless the named lease's epoch is still
   * `fence.epoch` (a replica that lost its lease cannot write).
   */
  createWindow(window: WindowRecord, fence?: LeaseFence): Promise<WindowWriteResult>;
  /**
   * Compare-and-swap of a window: stores `next` only if the stored version is `expectedVersion` and
   * next.version = expectedVersion + 1 (and the fence holds, as for createWindow). On a lost race `current` is the
   * stored record.
   */
  casWindow(next: WindowRecord, expectedVersion: number, fence?: LeaseFence): Promise<WindowWriteResult>;
  getWindow(key: string): Promise<WindowRecord | undefined>;
  /** A pipeline's windows, newest `openAt` first (ties by key, descending). */
  listWindows(pipeline: string, opts?: WindowListOptions): Promise<WindowRecord[]>;
  /**
   * What the watcher needs to carry on: every non-terminal window, plus the newest window of each
   * (pipeline, schedule), of one pipeline or (without `pipeline`) of all. Order unspecified.
   */
  windowHeads(pipeline?: string): Promise<WindowRecord[]>;

  /**
   * Leases (watcher leadership). Takes or renews `name` for `holder` until now + ttlMs: granted when it is free,
   * expired, or already held by `holder` (a renewal keeps the epoch; a new holder gets epoch + 1, so epochs only
   * grow). Otherwise refused with the current lease. `now` is the caller's clock; a store with its own clock
   * (Redis) reckons expiry on that instead.
   */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<LeaseResult>;
  /** Gives the lease up if `holder` still holds it at `epoch` (another replica may take it at once). */
  releaseLease(name: string, holder: string, epoch: number): Promise<boolean>;
  getLease(name: string): Promise<Lease | undefined>;

  /**
   * The change feed: calls `listener` after writes by ANY process or connection on this store's data (trait
   * results, evaluations, runs, windows, pipelines), with the pipeline written. Best effort and at-least-once-ish:
   * a notification may be late, duplicated or (on an outage) lost, so a subscriber also reconciles periodically.
   * Writes through this same handle may be notified too. Returns the unsubscribe function.
   */
  watchChanges(listener: (change: StoreChange) => void): () => void;

  /**
   * Retention: deletes, for each of `pipelines`, at most `limit` old decisions, ended windows and ended runs (with
   * their transition events and alert marks) that the rules in retention.ts allow — never an active run, a run
   * holding the lock, a window that is open or the newest of its schedule, or the latest decision of a pipeline.
   * Records that became prunable stay so (they never change again), so a prune interrupted between steps loses
   * nothing that matters and the next one carries on. `dryRun` counts instead.
   */
  prune(req: PruneRequest): Promise<PruneCounts>;

  /**
   * Health check: resolves when the backend answers a trivial query, rejects (STORE_UNAVAILABLE) when it does not,
   * including after close(). Cheap enough to call on every health request.
   */
  ping(): Promise<void>;

  /**
   * The store's clock, when it is not this host's: Redis has one clock for every host (its TIME), and run
   * deadlines, TTLs and timestamps are reckoned on it. undefined = the host clock (SQLite, memory: one host).
   */
  readonly clock?: Clock;

  /** Idempotent. */
  close(): Promise<void>;
}

/** A registered pipeline as stored: its key and the JSON text under it (not parsed, not checked). */
export interface StoredPipeline {
  name: string;
  json: string;
}

/** Conditions a casRun checks inside its atomic step, besides the version. */
export interface CasOptions {
  /**
   * Apply only if the stored run is past its `deadlineAt` by the store's own clock (Redis: the server's TIME, so a
   * host whose clock runs ahead cannot time out a run early; SQLite and memory: `next.updatedAt`, one host).
   * Otherwise refused like a lost race, with `current` = the stored run.
   */
  ifOverdue?: boolean;
}

export type CreateRunResult =
  | { ok: true }
  /** The pipeline's lock is held by `active`. */
  | { ok: false; active: RunState; claimed?: undefined }
  /** A run with this run key exists already (the occurrence was claimed): nothing was created. */
  | { ok: false; claimed: RunState; active?: undefined };

/** What a change-feed notification says. */
export interface StoreChange {
  pipeline: string;
  kind: 'evaluation' | 'run' | 'window' | 'pipeline';
}
export type DeleteResult = { ok: true; deleted: boolean } | { ok: false; active: RunState };

export type CasResult = { ok: true } | { ok: false; current?: RunState };
export interface AlertClaim {
  fire: boolean;
  previous?: string;
}

/** The event a transition to `next` appends (from = null for a new run). */
export function runEvent(next: RunState, from: RunState['status'] | null): RunEvent {
  const e: RunEvent = {
    runId: next.runId,
    pipeline: next.pipeline,
    from,
    to: next.status,
    version: next.version,
    at: next.updatedAt,
  };
  if (next.reason !== undefined) e.reason = next.reason;
  return e;
}
