// Redis store (ioredis): each atomic state change is one Lua script over one pipeline's hash slot; cluster-safe.

import { randomUUID } from 'node:crypto';
import { type Clock, offsetClock, systemClock } from '../../core/clock.js';
import { InterlockError } from '../../core/errors.js';
import { isTerminal, RUN_STATUSES } from '../../core/run-status.js';
import { withTimeout } from '../../core/timeout.js';
import type { DecisionRecord, PipelineSpec, Readiness, RunEvent, RunState, TraitResult } from '../../core/types.js';
import type { WindowRecord } from '../../engine/window.js';
import { parseRecord } from '../records.js';
import { type AlertKey, releasesLock } from '../rules.js';
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
import { CODE, readReply, throwIfError } from './codes.js';
import { errorText, openClient, type RedisClient, type RedisConnectionOptions } from './connection.js';
import { assertNoEviction } from './eviction.js';
import { checkIdentity } from './identity.js';
import { KeyLayout, type PipelineKeys } from './keys.js';
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

/** The statuses that hold a lock, as create-run takes them (',A,B,'). */
const ACTIVE_STATUSES = `,${RUN_STATUSES.filter((s) => !isTerminal(s)).join(',')},`;

/** A store over Redis (standalone or cluster). Open it with `RedisStore.connect()`. */
export class RedisStore implements Store {
  // Watcher storage: not implemented on this backend yet (fails closed: the watcher cannot run on it).
  private notYet(): never {
    throw new InterlockError(
      'STORE_UNAVAILABLE',
      `the ${this.kind} store does not keep windows, run keys or leases yet`,
    );
  }
  async getRunByKey(_runKey: string): Promise<RunState | undefined> {
    return this.notYet();
  }
  async createWindow(_w: WindowRecord, _fence?: LeaseFence): Promise<WindowWriteResult> {
    return this.notYet();
  }
  async casWindow(_w: WindowRecord, _v: number, _fence?: LeaseFence): Promise<WindowWriteResult> {
    return this.notYet();
  }
  async getWindow(_key: string): Promise<WindowRecord | undefined> {
    return this.notYet();
  }
  async listWindows(_p: string, _o?: WindowListOptions): Promise<WindowRecord[]> {
    return this.notYet();
  }
  async windowHeads(_p?: string): Promise<WindowRecord[]> {
    return this.notYet();
  }
  async acquireLease(_n: string, _h: string, _t: number, _now: number): Promise<LeaseResult> {
    return this.notYet();
  }
  async releaseLease(_n: string, _h: string, _e: number): Promise<boolean> {
    return this.notYet();
  }
  async getLease(_n: string): Promise<Lease | undefined> {
    return this.notYet();
  }
  watchChanges(_l: (c: StoreChange) => void): () => void {
    return () => undefined;
  }

  readonly kind = 'redis';
  private closed = false;
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
    await this.guard('putPipeline', () => this.client.hset(this.keys.pipelines, spec.name, JSON.stringify(spec)));
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
      const n = await this.guard('deletePipeline', () => this.client.hdel(this.keys.pipelines, name));
      return { ok: true, deleted: n > 0 };
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
          [k.runData, k.runs, k.active, k.seq, k.events, k.eventData],
          [run.runId, JSON.stringify(run), run.createdAt, JSON.stringify(ev), ev.at, ACTIVE_STATUSES],
        ),
      );
    });
    throwIfError(reply, `run ${run.runId}`, { pipeline: run.pipeline, runId: run.runId });
    if (reply.code === CODE.OK) return { ok: true };
    // REFUSED. When this runId is not stored, its index entry is dangling: tidy it (a failure changes nothing).
    if (reply.extra === 0) await this.client.hdel(index, run.runId).catch(() => undefined);
    return { ok: false, active: parse<RunState>(reply.payload ?? '', 'run') };
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
      await this.guard('releaseLock', () => this.scripts.run('release-lock', [k.active, k.runData], [runId, version])),
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
    const raw = await this.guard('claimAlert', () =>
      this.scripts.run('claim-alert', [this.keys.alert(key)], [fingerprint, now, repeatAfterMs]),
    );
    if (!Array.isArray(raw) || (raw[0] !== 0 && raw[0] !== 1)) {
      throw new InterlockError('INTERNAL', 'redis script claim-alert returned an unexpected reply', { reply: raw });
    }
    const fire = raw[0] === 1;
    return raw[1] === undefined || raw[1] === null ? { fire } : { fire, previous: String(raw[1]) };
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

/** A stored record, checked: STORE_CORRUPT when it is not what this store writes. */
function parse<T>(json: string, what: string): T {
  return parseRecord<T>(json, what);
}
