// Redis store (ioredis): each atomic state change is one Lua script over one hash slot (a pipeline's, or the
// watcher's for windows and leases); cluster-safe. Writes publish the change feed from inside their scripts.

import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { type Clock, offsetClock, systemClock } from '../../core/clock.js';
import { InterlockError } from '../../core/errors.js';
import { isTerminal, RUN_STATUSES } from '../../core/run-status.js';
import { withTimeout } from '../../core/timeout.js';
import type { DecisionRecord, PipelineSpec, Readiness, RunEvent, RunState, TraitResult } from '../../core/types.js';
import { isWindowTerminal, type WindowRecord } from '../../engine/window.js';
import { parseRecord } from '../records.js';
import {
  addCounts,
  emptyCounts,
  type PruneCounts,
  type PruneRequest,
  runPrunable,
  windowPrunable,
} from '../retention.js';
import { type AlertKey, releasesLock, windowHeadsOf, windowListFilter } from '../rules.js';
import type { Lease, LeaseFence, LeaseResult, StoreChange, WindowListOptions, WindowWriteResult } from '../types.js';
import {
  type AlertClaim,
  type CasOptions,
  type CasResult,
  type CreateRunResult,
  type DeleteResult,
  type EvaluationWrite,
  type ListOptions,
  runEvent,
  type Store,
  type StoredPipeline,
} from '../types.js';
import { CODE, readReply, type ScriptReply, throwIfError } from './codes.js';
import { errorText, openClient, type RedisClient, type RedisConnectionOptions } from './connection.js';
import { assertNoEviction } from './eviction.js';
import { checkIdentity } from './identity.js';
import { KeyLayout, keyPipeline, type PipelineKeys } from './keys.js';
import { Scripts } from './scripts.js';

/*
 * What is atomic, and what is not (and why that is safe):
 *
 * - saveEvaluation, createRun, casRun and claimAlert are each ONE Lua script whose keys share one hash slot
 *   ({<pipeline>}), so each is all-or-nothing on a single server and on a cluster.
 * - getRun(runId) needs runId -> pipeline, which lives in one global hash (P run-index) outside the pipeline's
 *   slot. createRun writes that entry BEFORE the create script: a crash between the two, or a refused create,
 *   leaves an entry pointing at a pipeline that has no such run, and getRun reads the pipeline's run-data, finds
 *   nothing and answers undefined. A refused create deletes its own entry again (best effort; a leftover is
 *   harmless). Nothing ever reads the index without checking run-data. Before writing the entry, createRun
 *   refuses (ALREADY_EXISTS) a runId the index maps to ANOTHER pipeline that really stores it; two concurrent
 *   creates of one runId in two pipelines could both pass that check, but run ids are unique by construction
 *   (the same pipeline is covered by the script itself).
 * - casRun uses next.pipeline to find the run; a run never changes pipeline, so a next naming another pipeline
 *   finds no run and is refused, as for an unknown runId.
 * - Registered pipelines (P pipelines) are single-key commands: atomic on their own. deletePipeline must also be
 *   atomic with the pipeline's lock, which lives in another slot: it takes the lock with a marker (lock-for-delete,
 *   refused while a run holds it), deletes the registration, then drops the marker (unlock-delete). While the marker
 *   is there create-run refuses (DELETING) and getActiveRun sees no run; it expires by itself (DELETE_MARKER_TTL_MS)
 *   if the process dies in between. A run that takes the lock afterwards re-reads its spec and finds none.
 * - Reads of several keys (getTraitResults: SMEMBERS then MGET; getActiveRun: GET then HGET; getRun) are not
 *   snapshots. Each record read is itself whole, records are only replaced, never half-written, and run records
 *   are never deleted, so a read sees either the old or the new value of each. The list reads (decisions, runs,
 *   events) are one read-only script each, so a page is consistent.
 * - Run keys (createRun's claim, getRunByKey) live in the pipeline's slot (P{<p>}:run-keys), in create-run's script:
 *   claim and create are one step. That can hold "a run key is claimed once, across ALL pipelines" only because a
 *   run key names its pipeline (`<pipeline>@<schedule>@<instant>#<attempt>`, attemptKey in engine/window-key.ts)
 *   and createRun refuses (INTERNAL) a run whose key names another pipeline: a key can only ever be claimed in the
 *   one slot it names, so the per-pipeline index is a global one. The watcher only claims a window's attempts
 *   under the window's own pipeline.
 * - Windows and leases share ONE slot ({!watch}, keys.ts): a fenced window write must read its lease in the same
 *   atomic step, and one lease fences the windows of every pipeline, so the lease and every window record must be
 *   in one slot for create-window / cas-window to be single-slot scripts. The alternatives were worse: per-pipeline
 *   copies of the lease epoch cannot be bumped atomically with the lease (a stale leader could write to a pipeline
 *   the new one had not touched yet), and a check before the write races the handover. The price: on a cluster
 *   every window lives on the node that owns that slot (window writes are a few per window, not per evaluation).
 *   windowHeads() of all pipelines reads the slot's set of pipelines, then one read-only script per 500 of them.
 * - Leases are reckoned on the server's clock (TIME in acquire-lease): the caller's `now` is ignored, so hosts with
 *   wrong clocks still agree on when a lease ends. A lease is never deleted: release expires it (expiresAt 0) and
 *   keeps its epoch, so epochs only grow.
 * - The change feed is Redis pub/sub on P changes: every write script PUBLISHes {"kind","pipeline"} in the same
 *   step as its write (putPipeline and deletePipeline too, as one-command scripts), so no write goes unannounced
 *   while the subscriber is connected. A dedicated subscriber connection (a duplicate of the client) is opened on
 *   the first listener and closed with the last one (or close()); it reconnects by itself and subscribes again on
 *   every 'ready'. Pub/sub keeps nothing: a notification sent while the subscriber is down (or before its first
 *   SUBSCRIBE is answered) is lost, which the port allows (subscribers reconcile). On a cluster a PUBLISH reaches
 *   the subscribers of every node.
 * - A write whose reply is lost (connection dropped, commandTimeoutMs passed) fails with STORE_UNAVAILABLE and
 *   may or may not have been applied. The client never re-sends it on its own (autoResendUnfulfilledCommands is
 *   off): a second createRun/casRun would turn the first one's success into a refusal.
 */

export interface RedisStoreOptions extends RedisConnectionOptions {
  /** Prepended to every key; default 'interlock:'. Must not contain '{' or '}'. */
  keyPrefix?: string;
  /**
   * Accept a server whose maxmemory-policy is not noeviction (or cannot be read). Off by default: an evicted
   * `…:active` key frees a run's lock while its job still runs.
   */
  allowEviction?: boolean;
  /**
   * Where this project remembers the store's id (`<project>/.interlock`). When set, a Redis whose id is gone or
   * changed since (data lost: FLUSHALL, eviction, a restart without persistence) is refused at connect.
   */
  stateDir?: string;
}

export const DEFAULT_KEY_PREFIX = 'interlock:';
/** How long deletePipeline's lock marker lives at most (a crash between taking and dropping it). */
const DELETE_MARKER_TTL_MS = 10_000;

/** What a change-feed notification may say (anything else on the channel is dropped). */
const CHANGE_KINDS: ReadonlySet<string> = new Set(['evaluation', 'run', 'window', 'pipeline']);

/** The statuses that hold a lock, as create-run takes them (',A,B,'). */
const ACTIVE_STATUSES = `,${RUN_STATUSES.filter((s) => !isTerminal(s)).join(',')},`;

/** A store over Redis (standalone or cluster). Open it with `RedisStore.connect()`. */
/** How long a window's or a run's alert mark is kept after it was last sent (Redis expires it). */
export const ALERT_MARK_TTL_MS = 100 * 86_400_000;

export class RedisStore implements Store {
  readonly kind = 'redis';
  private closed = false;
  private readonly listeners = new Set<(c: StoreChange) => void>();
  /** The change feed's connection, while anyone listens. */
  private subscriber: RedisClient | undefined;
  private readonly scripts: Scripts;
  /** Redis' clock minus this host's, ms: sampled at connect and again on every ping (serve's health checks). */
  private offsetMs = 0;
  /**
   * The Redis server's clock, as seen from here (this host's clock + the measured offset, within half a round
   * trip): every host reckons run deadlines, TTLs and timestamps on one clock, however wrong its own is.
   */
  readonly clock: Clock;

  private constructor(
    private readonly client: RedisClient,
    readonly keys: KeyLayout,
    /** Where it is connected (password redacted), for messages. */
    readonly target: string,
    /** This host's clock (its timers are the store clock's timers). */
    private readonly hostClock: Clock,
  ) {
    this.scripts = new Scripts(client);
    this.clock = offsetClock(hostClock, () => this.offsetMs);
  }

  /**
   * Connects, or rejects within `connectTimeoutMs` (default 5000) with STORE_UNAVAILABLE
   * "cannot reach redis at <addr>: <reason>". Never hangs. Then refuses (STORE_UNAVAILABLE) a server that may
   * evict keys (maxmemory-policy other than noeviction) unless `allowEviction`.
   */
  static async connect(opts: RedisStoreOptions = {}): Promise<RedisStore> {
    const keys = new KeyLayout(opts.keyPrefix ?? DEFAULT_KEY_PREFIX);
    const { client, target } = await openClient(opts);
    const store = new RedisStore(client, keys, target, opts.clock ?? systemClock);
    try {
      if (!opts.allowEviction) await assertNoEviction(client, target);
      if (opts.stateDir) await checkIdentity(client, keys.identity, target, keys.prefix, opts.stateDir);
      await store.syncClock();
    } catch (e) {
      await store.close();
      throw e instanceof InterlockError
        ? e
        : new InterlockError('STORE_UNAVAILABLE', `redis at ${target}: ${errorText(e)}`, { cause: e, addr: target });
    }
    return store;
  }

  /** The underlying client, for tests and diagnostics. */
  get redis(): RedisClient {
    return this.client;
  }

  /** Runs a driver call, turning driver errors into InterlockErrors (below the port). */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new InterlockError('STORE_UNAVAILABLE', 'redis store is closed');
    try {
      return await fn();
    } catch (cause) {
      if (cause instanceof InterlockError) throw cause;
      const reason = errorText(cause);
      if (/^WRONGTYPE/.test(reason)) {
        throw new InterlockError('STORE_CORRUPT', `redis ${what}: a key holds an unexpected type (${reason})`, {
          cause,
        });
      }
      throw new InterlockError('STORE_UNAVAILABLE', `redis ${what} failed at ${this.target}: ${plainReason(reason)}`, {
        cause,
        addr: this.target,
      });
    }
  }

  private p(pipeline: string): PipelineKeys {
    return this.keys.pipeline(pipeline);
  }

  // ---------------------------------------------------------------- pipelines

  async putPipeline(spec: PipelineSpec): Promise<void> {
    const reply = readReply(
      'put-pipeline',
      await this.guard('putPipeline', () =>
        this.scripts.run(
          'put-pipeline',
          [this.keys.pipelines],
          [spec.name, JSON.stringify(spec), ...this.change('pipeline', spec.name)],
        ),
      ),
    );
    throwIfError(reply, `pipeline ${spec.name}`, { pipeline: spec.name });
  }
  async getPipeline(name: string): Promise<StoredPipeline | undefined> {
    const json = await this.guard('getPipeline', () => this.client.hget(this.keys.pipelines, name));
    return json === null ? undefined : { name, json };
  }
  async listPipelines(): Promise<StoredPipeline[]> {
    const all = await this.guard('listPipelines', () => this.client.hgetall(this.keys.pipelines));
    return Object.keys(all)
      .sort((a, b) => a.localeCompare(b))
      .map((name) => ({ name, json: all[name] as string }));
  }
  async deletePipeline(name: string): Promise<DeleteResult> {
    const k = this.p(name);
    const marker = `!delete:${randomUUID()}`;
    const taken = readReply(
      'lock-for-delete',
      await this.guard('deletePipeline', () =>
        this.scripts.run(
          'lock-for-delete',
          [k.active, k.runData, k.runs],
          [marker, DELETE_MARKER_TTL_MS, ACTIVE_STATUSES],
        ),
      ),
    );
    throwIfError(taken, `pipeline ${name}`, { pipeline: name });
    if (taken.code !== CODE.OK) {
      if (taken.payload === undefined)
        throw new InterlockError('STORE_CORRUPT', `the lock of ${name} names a run that has no record`);
      return { ok: false, active: parse<RunState>(taken.payload, 'run') };
    }
    try {
      const reply = readReply(
        'delete-pipeline',
        await this.guard('deletePipeline', () =>
          this.scripts.run('delete-pipeline', [this.keys.pipelines], [name, ...this.change('pipeline', name)]),
        ),
      );
      throwIfError(reply, `pipeline ${name}`, { pipeline: name });
      return { ok: true, deleted: reply.code === CODE.OK };
    } finally {
      // Best effort: the marker expires by itself if this fails.
      await this.scripts.run('unlock-delete', [k.active], [marker]).catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------- evaluations

  async saveEvaluation(w: EvaluationWrite): Promise<void> {
    // Everything goes under the readiness' pipeline (as in the reference store), so it is one hash slot.
    const k = this.p(w.readiness.pipeline);
    // "now" for the TTL is the evaluation's own time, not this host's clock: a result lives expiresAt - decidedAt
    // ms in Redis, whatever the clock skew between hosts (and under a test's fake clock).
    const now = w.readiness.decidedAt;
    const keys = [k.traits, k.readiness, k.seq, k.decisions, k.decisionData];
    const args: Array<string | number> = [
      JSON.stringify(w.readiness),
      w.decision.decidedAt,
      JSON.stringify(w.decision),
      ...this.change('evaluation', w.readiness.pipeline),
    ];
    for (const r of w.results) {
      keys.push(k.trait(r.trait), k.traitTomb(r.trait));
      args.push(r.trait, JSON.stringify(r), ttlMs(r.expiresAt, now));
    }
    const reply = readReply(
      'save-evaluation',
      await this.guard('saveEvaluation', () => this.scripts.run('save-evaluation', keys, args)),
    );
    throwIfError(reply, `evaluation of ${w.readiness.pipeline}`, { pipeline: w.readiness.pipeline });
  }
  async getTraitResults(pipeline: string): Promise<TraitResult[]> {
    const k = this.p(pipeline);
    const found = await this.guard('getTraitResults', async (): Promise<Array<TraitResult | undefined>> => {
      const names = (await this.client.smembers(k.traits)).sort((a, b) => a.localeCompare(b));
      if (names.length === 0) return [];
      // One MGET: all trait keys share the pipeline's hash tag. Live keys first, then their tombstones.
      const values = await this.client.mget([...names.map((n) => k.trait(n)), ...names.map((n) => k.traitTomb(n))]);
      return names.map((_, i) => liveOrTomb(values[i], values[names.length + i]));
    });
    return found.filter((r): r is TraitResult => r !== undefined);
  }
  async getTraitResult(pipeline: string, trait: string): Promise<TraitResult | undefined> {
    const k = this.p(pipeline);
    const [live, tomb] = await this.guard('getTraitResult', () => this.client.mget(k.trait(trait), k.traitTomb(trait)));
    return liveOrTomb(live, tomb);
  }
  async getReadiness(pipeline: string): Promise<Readiness | undefined> {
    const raw = await this.guard('getReadiness', () => this.client.get(this.p(pipeline).readiness));
    return raw === null ? undefined : parse<Readiness>(raw, 'readiness');
  }
  async listDecisions(pipeline: string, opts: ListOptions = {}): Promise<DecisionRecord[]> {
    const k = this.p(pipeline);
    return this.list<DecisionRecord>('listDecisions', k.decisions, k.decisionData, opts, 'decision record');
  }

  // ---------------------------------------------------------------- runs

  async createRun(run: RunState): Promise<CreateRunResult> {
    const k = this.p(run.pipeline);
    const index = this.keys.runIndex;
    if (run.runKey !== undefined && keyPipeline(run.runKey) !== run.pipeline) {
      // The claim index is the pipeline's (one slot): a key naming another pipeline could be claimed twice.
      throw new InterlockError(
        'INTERNAL',
        `run key '${run.runKey}' does not name the run's pipeline '${run.pipeline}' (a run key is <pipeline>@…)`,
        { pipeline: run.pipeline, runId: run.runId, runKey: run.runKey },
      );
    }
    const reply = await this.guard('createRun', async () => {
      // Cross-slot, so not in the script: the index entry goes first; a dangling one is harmless (see top).
      const owner = await this.client.hget(index, run.runId);
      if (owner !== null && owner !== run.pipeline && (await this.client.hexists(this.p(owner).runData, run.runId))) {
        throw new InterlockError('ALREADY_EXISTS', `run ${run.runId} already exists (pipeline ${owner})`, {
          pipeline: owner,
        });
      }
      await this.client.hset(index, run.runId, run.pipeline);
      const ev = runEvent(run, null);
      return readReply(
        'create-run',
        await this.scripts.run(
          'create-run',
          [k.runData, k.runs, k.active, k.seq, k.events, k.eventData, k.runKeys],
          [
            run.runId,
            JSON.stringify(run),
            run.createdAt,
            JSON.stringify(ev),
            ev.at,
            ACTIVE_STATUSES,
            run.runKey ?? '',
            ...this.change('run', run.pipeline),
          ],
        ),
      );
    });
    throwIfError(reply, `run ${run.runId}`, { pipeline: run.pipeline, runId: run.runId });
    if (reply.code === CODE.OK) return { ok: true };
    // REFUSED or CLAIMED. When this runId is not stored, its index entry is dangling: tidy it (a failure changes
    // nothing).
    if (reply.extra === 0) await this.client.hdel(index, run.runId).catch(() => undefined);
    const other = parse<RunState>(reply.payload ?? '', 'run');
    return reply.code === CODE.CLAIMED ? { ok: false, claimed: other } : { ok: false, active: other };
  }

  async getRunByKey(runKey: string): Promise<RunState | undefined> {
    const pipeline = keyPipeline(runKey);
    // A key naming no pipeline was never claimed (createRun refuses it).
    if (pipeline === undefined) return undefined;
    const k = this.p(pipeline);
    const raw = await this.guard('getRunByKey', async () => {
      const id = await this.client.hget(k.runKeys, runKey);
      if (id === null) return null;
      const run = await this.client.hget(k.runData, id);
      if (run === null)
        throw new InterlockError('STORE_CORRUPT', `run key ${runKey} names run ${id}, which has no record`);
      return run;
    });
    return raw === null ? undefined : parse<RunState>(raw, 'run');
  }

  async casRun(next: RunState, expectedVersion: number, opts: CasOptions = {}): Promise<CasResult> {
    const k = this.p(next.pipeline);
    // The event's `from` is the stored status, known only inside the script: send the event without it.
    const { from: _from, ...eventWithoutFrom } = runEvent(next, null);
    const reply = readReply(
      'cas-run',
      await this.guard('casRun', () =>
        this.scripts.run(
          'cas-run',
          [k.runData, k.active, k.seq, k.events, k.eventData],
          [
            next.runId,
            expectedVersion,
            next.version,
            JSON.stringify(next),
            releasesLock(next) ? '1' : '0',
            JSON.stringify(eventWithoutFrom),
            next.updatedAt,
            opts.ifOverdue ? '1' : '0',
            ...this.change('run', next.pipeline),
          ],
        ),
      ),
    );
    throwIfError(reply, `run ${next.runId}`, { pipeline: next.pipeline, runId: next.runId });
    if (reply.code === CODE.OK) return { ok: true };
    if (reply.code === CODE.STALE) return { ok: false, current: parse<RunState>(reply.payload ?? '', 'run') };
    return { ok: false };
  }

  async releaseLock(pipeline: string, runId: string, version: number): Promise<boolean> {
    const k = this.p(pipeline);
    const reply = readReply(
      'release-lock',
      await this.guard('releaseLock', () =>
        this.scripts.run('release-lock', [k.active, k.runData], [runId, version, ...this.change('run', pipeline)]),
      ),
    );
    throwIfError(reply, `run ${runId}`, { pipeline, runId });
    return reply.code === CODE.OK;
  }

  async getRun(runId: string): Promise<RunState | undefined> {
    const raw = await this.guard('getRun', async () => {
      const pipeline = await this.client.hget(this.keys.runIndex, runId);
      return pipeline === null ? null : this.client.hget(this.p(pipeline).runData, runId);
    });
    return raw === null ? undefined : parse<RunState>(raw, 'run');
  }
  async getActiveRun(pipeline: string): Promise<RunState | undefined> {
    const k = this.p(pipeline);
    const raw = await this.guard('getActiveRun', async () => {
      const id = await this.client.get(k.active);
      // null: free; '!…': a delete's marker (see deletePipeline), no run.
      if (id === null || id.startsWith('!')) return null;
      const run = await this.client.hget(k.runData, id);
      if (run === null) throw new InterlockError('STORE_CORRUPT', `active run ${id} of ${pipeline} has no record`);
      return run;
    });
    return raw === null ? undefined : parse<RunState>(raw, 'run');
  }
  async listRuns(pipeline: string, opts: ListOptions = {}): Promise<RunState[]> {
    const k = this.p(pipeline);
    return this.list<RunState>('listRuns', k.runs, k.runData, opts, 'run');
  }
  async listRunEvents(pipeline: string, opts: ListOptions = {}): Promise<RunEvent[]> {
    const k = this.p(pipeline);
    return this.list<RunEvent>('listRunEvents', k.events, k.eventData, opts, 'run event');
  }

  // ---------------------------------------------------------------- alerts

  async claimAlert(key: AlertKey, fingerprint: string, now: number, repeatAfterMs: number): Promise<AlertClaim> {
    // A window's or a run's marks are not pruned with it (they live in other slots): they expire by themselves,
    // long after the window or run can raise anything again. At worst an expired mark lets an alert repeat.
    const ttl = key.kind === 'window' || key.kind === 'run' ? Math.max(ALERT_MARK_TTL_MS, 2 * repeatAfterMs) : 0;
    const raw = await this.guard('claimAlert', () =>
      this.scripts.run('claim-alert', [this.keys.alert(key)], [fingerprint, now, repeatAfterMs, ttl]),
    );
    if (!Array.isArray(raw) || (raw[0] !== 0 && raw[0] !== 1)) {
      throw new InterlockError('INTERNAL', 'redis script claim-alert returned an unexpected reply', { reply: raw });
    }
    const fire = raw[0] === 1;
    return raw[1] === undefined || raw[1] === null ? { fire } : { fire, previous: String(raw[1]) };
  }

  // ---------------------------------------------------------------- windows

  async createWindow(w: WindowRecord, fence?: LeaseFence): Promise<WindowWriteResult> {
    const reply = readReply(
      'create-window',
      await this.guard('createWindow', () =>
        this.scripts.run('create-window', this.windowKeys(w.pipeline, fence), [
          w.key,
          JSON.stringify(w),
          w.openAt,
          w.schedule,
          isWindowTerminal(w.state) ? '0' : '1',
          w.pipeline,
          fence === undefined ? '' : String(fence.epoch),
          ...this.change('window', w.pipeline),
        ]),
      ),
    );
    return this.windowReply(reply, w.key);
  }

  async casWindow(next: WindowRecord, expectedVersion: number, fence?: LeaseFence): Promise<WindowWriteResult> {
    const reply = readReply(
      'cas-window',
      await this.guard('casWindow', () =>
        this.scripts.run('cas-window', this.windowKeys(next.pipeline, fence), [
          next.key,
          expectedVersion,
          next.version,
          JSON.stringify(next),
          next.openAt,
          next.schedule,
          isWindowTerminal(next.state) ? '0' : '1',
          next.pipeline,
          fence === undefined ? '' : String(fence.epoch),
          ...this.change('window', next.pipeline),
        ]),
      ),
    );
    return this.windowReply(reply, next.key);
  }

  async getWindow(key: string): Promise<WindowRecord | undefined> {
    const raw = await this.guard('getWindow', () => this.client.hget(this.keys.watch.windowData, key));
    return raw === null ? undefined : parse<WindowRecord>(raw, 'window');
  }

  async listWindows(pipeline: string, opts: WindowListOptions = {}): Promise<WindowRecord[]> {
    const wk = this.keys.watch;
    const max = opts.before === undefined ? '+inf' : `(${opts.before}`;
    const limit = opts.limit === undefined ? -1 : Math.max(0, Math.floor(opts.limit));
    const raw = await this.guard('listWindows', () =>
      this.scripts.run(
        'list-windows',
        [wk.windows(pipeline), wk.windowData],
        [max, limit, opts.state ?? '', opts.schedule ?? ''],
      ),
    );
    // The script filtered and ordered already; applying the TS rule again costs little and keeps them equal.
    return windowListFilter(this.windowRecords('listWindows', raw), opts);
  }

  async windowHeads(pipeline?: string): Promise<WindowRecord[]> {
    const wk = this.keys.watch;
    const pipelines =
      pipeline === undefined ? await this.guard('windowHeads', () => this.client.smembers(wk.pipelines)) : [pipeline];
    const found: WindowRecord[] = [];
    // 500 pipelines (1001 keys) per read-only script: no single call grows with the number of pipelines.
    for (let i = 0; i < pipelines.length; i += 500) {
      const keys = [wk.windowData];
      for (const p of pipelines.slice(i, i + 500)) keys.push(wk.live(p), wk.newest(p));
      const raw = await this.guard('windowHeads', () => this.scripts.run('window-heads', keys, []));
      found.push(...this.windowRecords('windowHeads', raw));
    }
    return windowHeadsOf(found);
  }

  /** create-window's and cas-window's keys: the pipeline's window indexes and the fence's lease, one slot. */
  private windowKeys(pipeline: string, fence: LeaseFence | undefined): string[] {
    const wk = this.keys.watch;
    return [
      wk.windowData,
      wk.windows(pipeline),
      wk.live(pipeline),
      wk.newest(pipeline),
      wk.pipelines,
      wk.lease(fence?.name ?? ''),
    ];
  }

  private windowReply(reply: ScriptReply, key: string): WindowWriteResult {
    throwIfError(reply, `window ${key}`, { window: key });
    const current = reply.payload === undefined ? undefined : parse<WindowRecord>(reply.payload, 'window');
    if (reply.code === CODE.OK) return { ok: true };
    if (reply.code === CODE.FENCED) return current ? { ok: false, fenced: true, current } : { ok: false, fenced: true };
    return current ? { ok: false, current } : { ok: false };
  }

  private windowRecords(what: string, raw: unknown): WindowRecord[] {
    if (!Array.isArray(raw)) throw new InterlockError('INTERNAL', `redis ${what} returned an unexpected reply`);
    return raw.map((v) => parse<WindowRecord>(String(v), 'window'));
  }

  // ---------------------------------------------------------------- leases

  async acquireLease(name: string, holder: string, ttlMs: number, _now: number): Promise<LeaseResult> {
    // `now` is the caller's clock: expiry is reckoned on the server's (TIME in the script) instead.
    if (!Number.isFinite(ttlMs))
      throw new InterlockError('INTERNAL', `lease ${name}: ttl ${ttlMs} is not a number of ms`);
    const raw = await this.guard('acquireLease', () =>
      this.scripts.run('acquire-lease', [this.keys.watch.lease(name)], [holder, Math.max(0, Math.ceil(ttlMs))]),
    );
    const reply = readReply('acquire-lease', raw);
    throwIfError(reply, `lease ${name}`, { lease: name });
    const lease = leaseOf(name, (raw as unknown[]).slice(1));
    return reply.code === CODE.OK ? { ok: true, lease } : { ok: false, lease };
  }

  async releaseLease(name: string, holder: string, epoch: number): Promise<boolean> {
    const reply = readReply(
      'release-lease',
      await this.guard('releaseLease', () =>
        this.scripts.run('release-lease', [this.keys.watch.lease(name)], [holder, epoch]),
      ),
    );
    throwIfError(reply, `lease ${name}`, { lease: name });
    return reply.code === CODE.OK;
  }

  async getLease(name: string): Promise<Lease | undefined> {
    const fields = await this.guard('getLease', () =>
      this.client.hmget(this.keys.watch.lease(name), 'holder', 'epoch', 'expiresAt'),
    );
    if (fields.every((f) => f === null)) return undefined;
    return leaseOf(name, fields);
  }

  // ---------------------------------------------------------------- change feed

  // ---------------------------------------------------------------- retention

  async prune(req: PruneRequest): Promise<PruneCounts> {
    let counts = emptyCounts();
    for (const p of req.pipelines)
      counts = addCounts(counts, await this.guard('prune', () => this.prunePipeline(p, req)));
    return counts;
  }

  /**
   * One pipeline: read the candidates (by age, from the sorted sets), choose by the rules in retention.ts, then
   * delete in two single-slot scripts that re-check what could have changed — windows first (the watcher's slot),
   * then decisions and runs (the pipeline's slot), then the run index. Chosen records never change again, so a
   * prune cut short between the steps leaves nothing inconsistent that matters: the next one carries on.
   */
  private async prunePipeline(p: string, req: PruneRequest): Promise<PruneCounts> {
    const { now, policy, limit } = req;
    const k = this.p(p);
    const wk = this.keys.watch;
    const counts = emptyCounts();
    const decode = <T>(raw: string | null, what: string): T | undefined => {
      if (raw === null) return undefined;
      try {
        return parse<T>(raw, what);
      } catch {
        return undefined; // a corrupt record is left for someone to look at, never deleted blind
      }
    };

    // Decisions: never the newest one.
    const [newestDecision] = await this.client.zrevrange(k.decisions, 0, 0);
    const decisionSeqs = (
      await this.client.zrangebyscore(k.decisions, '-inf', `(${now - policy.decisionsMs}`, 'LIMIT', 0, limit + 1)
    )
      .filter((seq) => seq !== newestDecision)
      .slice(0, limit);
    counts.decisions = decisionSeqs.length;

    // Windows: candidates opened before the cutoff (a window ends after it opens); the rules check when it ended.
    const newest = new Set(await this.client.hvals(wk.newest(p)));
    const windowKeys = (
      await this.client.zrangebyscore(wk.windows(p), '-inf', `(${now - policy.windowsMs}`, 'LIMIT', 0, limit * 4)
    ).filter((key) => !newest.has(key));
    const windows =
      windowKeys.length === 0
        ? []
        : (await this.client.hmget(wk.windowData, ...windowKeys))
            .map((raw) => decode<WindowRecord>(raw, 'window'))
            .filter((w): w is WindowRecord => w !== undefined);
    const attemptIds = [...new Set(windows.flatMap((w) => w.attempts.map((a) => a.runId)))];
    const attemptRuns = new Map<string, RunState>();
    if (attemptIds.length > 0) {
      const raws = await this.client.hmget(k.runData, ...attemptIds);
      attemptIds.forEach((id, i) => {
        const run = decode<RunState>(raws[i] ?? null, 'run');
        if (run) attemptRuns.set(id, run);
      });
    }
    const goneWindows = windows
      .filter((w) =>
        windowPrunable(w, { isNewest: newest.has(w.key), runOf: (id) => attemptRuns.get(id), now, policy }),
      )
      .slice(0, limit)
      .map((w) => w.key);
    counts.windows = goneWindows.length;

    // Runs: candidates created before the cutoff; a window's attempt only once its window is gone.
    const active = (await this.client.get(k.active)) ?? undefined;
    const runIds = await this.client.zrangebyscore(k.runs, '-inf', `(${now - policy.runsMs}`, 'LIMIT', 0, limit * 4);
    const runs =
      runIds.length === 0
        ? []
        : (await this.client.hmget(k.runData, ...runIds))
            .map((raw) => decode<RunState>(raw, 'run'))
            .filter((r): r is RunState => r !== undefined);
    const windowOf = [...new Set(runs.flatMap((r) => (r.window ? [r.window.key] : [])))];
    const gone = new Set(goneWindows);
    const present = new Set<string>();
    if (windowOf.length > 0) {
      const raws = await this.client.hmget(wk.windowData, ...windowOf);
      windowOf.forEach((key, i) => {
        if (raws[i] !== null && !gone.has(key)) present.add(key);
      });
    }
    const goneRuns = runs
      .filter((r) => runPrunable(r, { activeRunId: active, windowExists: (key) => present.has(key), now, policy }))
      .slice(0, limit);
    counts.runs = goneRuns.length;
    if (req.dryRun) {
      for (const r of goneRuns) {
        const seqs = await this.client.zrangebyscore(k.events, r.createdAt, r.updatedAt);
        const data = seqs.length === 0 ? [] : await this.client.hmget(k.eventData, ...seqs);
        counts.runEvents += data.filter((raw) => decode<RunEvent>(raw, 'run event')?.runId === r.runId).length;
      }
      return counts;
    }

    counts.windows =
      goneWindows.length === 0
        ? 0
        : Number(
            await this.scripts.run(
              'prune-windows',
              [wk.windowData, wk.windows(p), wk.live(p), wk.newest(p)],
              goneWindows,
            ),
          );
    if (decisionSeqs.length > 0 || goneRuns.length > 0) {
      const reply = (await this.scripts.run(
        'prune-runs',
        [k.decisions, k.decisionData, k.runs, k.runData, k.runKeys, k.active, k.events, k.eventData],
        [decisionSeqs.length, ...decisionSeqs, ...goneRuns.map((r) => r.runId)],
      )) as Array<number | string>;
      counts.decisions = Number(reply[0]);
      counts.runs = Number(reply[1]);
      counts.runEvents = Number(reply[2]);
      const deleted = reply.slice(3).map(String);
      if (deleted.length > 0) await this.client.hdel(this.keys.runIndex, ...deleted);
    }
    return counts;
  }

  watchChanges(listener: (change: StoreChange) => void): () => void {
    if (this.closed) return () => undefined;
    this.listeners.add(listener);
    this.startFeed();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.listeners.delete(listener);
      if (this.listeners.size === 0) void this.stopFeed();
    };
  }

  /** The channel and payload a write script publishes (publish-change.lua). */
  private change(kind: StoreChange['kind'], pipeline: string): [string, string] {
    return [this.keys.changes, JSON.stringify({ kind, pipeline })];
  }

  /** Opens the subscriber connection (once): a duplicate of the client that waits for Redis rather than failing. */
  private startFeed(): void {
    if (this.subscriber) return;
    const client = this.client;
    const sub: RedisClient = client.isCluster
      ? (client as Cluster).duplicate(undefined, {
          enableOfflineQueue: true,
          redisOptions: { ...(client as Cluster).options.redisOptions, maxRetriesPerRequest: null },
        })
      : (client as Redis).duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, lazyConnect: true });
    this.subscriber = sub;
    // Kept for the connection's life: an ioredis 'error' without a listener is printed to the console; the retry
    // strategy reconnects by itself.
    sub.on('error', () => undefined);
    sub.on('node error', () => undefined);
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.keys.changes) this.dispatch(message);
    });
    // Subscribe on every (re)connection; a second SUBSCRIBE of the same channel is harmless.
    const subscribe = () => {
      if (this.subscriber === sub) sub.subscribe(this.keys.changes).catch(() => undefined);
    };
    sub.on('ready', subscribe);
    if (sub.status === 'wait') sub.connect().catch(() => undefined);
    subscribe();
  }

  /** Closes the subscriber connection, if open. */
  private async stopFeed(): Promise<void> {
    const sub = this.subscriber;
    if (!sub) return;
    this.subscriber = undefined;
    sub.removeAllListeners('message');
    sub.disconnect();
  }

  /** Hands one notification to every listener. What arrives on the channel is untrusted: anything else is dropped. */
  private dispatch(message: string): void {
    let change: StoreChange;
    try {
      const v = JSON.parse(message) as { kind?: unknown; pipeline?: unknown };
      if (typeof v.pipeline !== 'string' || typeof v.kind !== 'string' || !CHANGE_KINDS.has(v.kind)) return;
      change = { kind: v.kind as StoreChange['kind'], pipeline: v.pipeline };
    } catch {
      return;
    }
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  async ping(): Promise<void> {
    await this.guard('ping', () => this.client.ping());
    await this.guard('ping', () => this.syncClock());
  }

  /** Measures Redis' clock against this host's (TIME, midpoint of the round trip). */
  private async syncClock(): Promise<void> {
    const before = this.hostClock.now();
    const [sec, usec] = (await this.client.call('TIME')) as [string, string];
    const after = this.hostClock.now();
    const serverMs = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    if (Number.isFinite(serverMs)) this.offsetMs = serverMs - Math.round((before + after) / 2);
  }

  /** Quits politely when connected, then drops the connection and stops reconnecting. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await this.stopFeed();
    const client = this.client;
    const ended = new Promise<void>((resolve) => {
      if (client.status === 'end') resolve();
      else client.once('end', () => resolve());
    });
    if (client.status === 'ready')
      await this.within(
        1000,
        client.quit().catch(() => undefined),
      );
    client.disconnect();
    // Resolve once the socket is really gone, so a closed store holds no handle; bounded, never a hang.
    await this.within(1000, ended);
  }

  // ---------------------------------------------------------------- helpers

  /** Waits for `p`, at most `ms` (a close that must never hang). */
  private async within(ms: number, p: Promise<unknown>): Promise<void> {
    await withTimeout(p, ms, this.hostClock, () => undefined);
  }

  /** One page of an index (newest first) with its records, read by one read-only script. */
  private async list<T>(what: string, index: string, data: string, opts: ListOptions, kind: string): Promise<T[]> {
    const max = opts.before === undefined ? '+inf' : `(${opts.before}`;
    const limit = opts.limit === undefined ? -1 : Math.max(0, Math.floor(opts.limit));
    const raw = await this.guard(what, () => this.scripts.run('list', [index, data], [max, limit]));
    if (!Array.isArray(raw)) throw new InterlockError('INTERNAL', `redis ${what} returned an unexpected reply`);
    return raw.map((v) => parse<T>(String(v), kind));
  }
}

/** ioredis' words for "down" and "no reply", said plainly; anything else is passed on as is. */
function plainReason(reason: string): string {
  if (/Stream isn't writeable|enableOfflineQueue|Connection is closed|isn't ready|MaxRetriesPerRequest/i.test(reason)) {
    return `not connected (${reason}); reconnecting in the background`;
  }
  if (/Command timed out/i.test(reason)) {
    return `no reply in time (${reason}); a write may or may not have been applied`;
  }
  return reason;
}

/** Time to live of a result for the save-evaluation script: 0 = none, < 0 = already expired. */
function ttlMs(expiresAt: number | undefined, now: number): number {
  if (expiresAt === undefined) return 0;
  const left = Math.ceil(expiresAt - now);
  return left > 0 ? left : -1;
}

/**
 * A trait's result from its live key, or, once Redis dropped that at its TTL (or evicted it), from its tombstone:
 * then marked `expired`, so it reads STALE ("expired at …") whatever the reader's clock says.
 */
function liveOrTomb(live: string | null | undefined, tomb: string | null | undefined): TraitResult | undefined {
  if (live !== null && live !== undefined) return parse<TraitResult>(live, 'trait result');
  if (tomb === null || tomb === undefined) return undefined;
  return { ...parse<TraitResult>(tomb, 'trait result'), expired: true };
}

/**
 * A lease from its stored fields [holder, epoch, expiresAt] (a hash, or acquire-lease's reply): STORE_CORRUPT when
 * they are not what acquire-lease writes (a forged epoch must never fence a real leader out, or let a stale one in).
 */
function leaseOf(name: string, fields: unknown[]): Lease {
  const [holder, epoch, expiresAt] = fields.map((f) => (f === null || f === undefined ? undefined : String(f)));
  const e = Number(epoch);
  const x = Number(expiresAt);
  if (holder === undefined || !Number.isSafeInteger(e) || e < 1 || expiresAt === '' || !Number.isFinite(x)) {
    throw new InterlockError('STORE_CORRUPT', `stored lease ${name} is not a lease (holder, epoch, expiresAt)`, {
      lease: name,
    });
  }
  return { name, holder, epoch: e, expiresAt: x };
}

/** A stored record, checked: STORE_CORRUPT when it is not what this store writes. */
function parse<T>(json: string, what: string): T {
  return parseRecord<T>(json, what);
}
