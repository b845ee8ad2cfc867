// The live event stream of one process (GET /api/events): the domain events of ctx.events and the store's change
// feed turned into numbered stream events, kept in a bounded ring buffer for resumption, fanned out to listeners.
import type { StoreChange } from '../store/index.js';
import type { Context } from './context-type.js';

/** The event names of the stream, in the order the README lists them. */
export const STREAM_EVENTS = [
  'evaluation.decided',
  'trait.pushed',
  'run.created',
  'run.transitioned',
  'window.transitioned',
  'alert.raised',
  'store.changed',
] as const;
export type StreamEventName = (typeof STREAM_EVENTS)[number];

/** One event of the stream: `data` is its JSON (one line), which always has `pipeline` and `at` (epoch ms). */
export interface StreamEvent {
  /** Monotonic within this process, from 1. */
  id: number;
  event: StreamEventName;
  pipeline: string;
  data: string;
}

/** Where a client that sent Last-Event-ID stands: what it missed, or a reset (refetch everything). */
export type Resume = { kind: 'replay'; events: StreamEvent[] } | { kind: 'reset'; reason: string };

export interface EventStreamOptions {
  /** Events kept for resumption (default 1,000). */
  capacity?: number;
  /** How long a change-feed notification waits, coalescing repeats, before it becomes store.changed (default 250). */
  changeDelayMs?: number;
  /** Masks secrets out of each event's JSON (default: none besides what the stored records already mask). */
  mask?: (text: string) => string;
}

/** An event's JSON: always the pipeline and when (epoch ms), then the event's own fields. */
type EventData = { pipeline: string; at: number } & Record<string, unknown>;

const DEFAULT_CAPACITY = 1000;
const DEFAULT_CHANGE_DELAY_MS = 250;
/** Bounds of the bookkeeping maps (pipelines seen, notifications waiting). */
const MAX_TRACKED = 10_000;

/**
 * The hub: subscribes once to the bus and the change feed (start), numbers every event, keeps the last `capacity`
 * for Last-Event-ID, and calls each listener synchronously (a listener must only queue: the SSE writer does).
 *
 * store.changed: the change feed reports writes of every process, this one's too, and cannot tell them apart. A
 * notification waits `changeDelayMs` (repeats coalesce); it is dropped when this process published a domain event
 * for that pipeline AFTER the notification arrived (the client refetches on that event, which postdates the write),
 * else it is sent. Pipeline registrations and deletions (no domain event) are always sent.
 */
export class EventStream {
  private readonly capacity: number;
  private readonly changeDelayMs: number;
  private readonly mask: (text: string) => string;
  private readonly ring: StreamEvent[] = [];
  private nextId = 1;
  private readonly listeners = new Set<(e: StreamEvent) => void>();
  private offs: Array<() => void> = [];
  /** Logical time: +1 per local domain event; pipeline → tick of its latest local event. */
  private tick = 0;
  private readonly lastLocal = new Map<string, number>();
  /** `pipeline\0kind` → the tick when its latest notification arrived, and its timer. */
  private readonly waiting = new Map<string, { mark: number; change: StoreChange }>();
  private readonly timers = new Set<ReturnType<Context['clock']['setTimeout']>>();
  private closed = false;

  constructor(
    private readonly ctx: Context,
    o: EventStreamOptions = {},
  ) {
    this.capacity = Math.max(1, o.capacity ?? DEFAULT_CAPACITY);
    this.changeDelayMs = o.changeDelayMs ?? DEFAULT_CHANGE_DELAY_MS;
    this.mask = o.mask ?? ((t) => t);
  }

  /** Subscribes to ctx.events and ctx.store.watchChanges (once). */
  start(): void {
    if (this.offs.length > 0 || this.closed) return;
    const bus = this.ctx.events;
    this.offs = [
      bus.subscribe('evaluation.decided', ({ evaluation, runId, aborted }) => {
        const { decision, results } = evaluation;
        const base = {
          pipeline: decision.pipeline,
          at: decision.decidedAt,
          outcome: decision.outcome,
          source: decision.source,
          blocking: decision.blocking,
          decisionId: decision.id,
          ...(runId !== undefined ? { runId } : {}),
          ...(aborted ? { aborted: true } : {}),
        };
        const pushed = decision.source === 'push' ? results[0] : undefined;
        if (pushed) this.local('trait.pushed', { ...base, trait: pushed.trait, status: pushed.status });
        else this.local('evaluation.decided', base);
      }),
      bus.subscribe('run.created', ({ run }) => {
        this.local('run.created', { pipeline: run.pipeline, at: run.createdAt, runId: run.runId, status: run.status });
      }),
      bus.subscribe('run.transitioned', ({ from, run }) => {
        this.local('run.transitioned', {
          pipeline: run.pipeline,
          at: run.updatedAt,
          runId: run.runId,
          from,
          status: run.status,
          ...(run.reason !== undefined ? { reason: run.reason } : {}),
        });
      }),
      bus.subscribe('window.transitioned', ({ from, window }) => {
        // A re-decision that left the state as it was: its evaluation is on the stream already.
        if (from === window.state) return;
        this.local('window.transitioned', {
          pipeline: window.pipeline,
          at: window.updatedAt,
          key: window.key,
          ...(from !== undefined ? { from } : {}),
          state: window.state,
        });
      }),
      bus.subscribe('alert.raised', ({ alert }) => {
        this.local('alert.raised', {
          pipeline: alert.pipeline,
          at: alert.timestamp,
          kind: alert.kind,
          level: alert.level,
          message: alert.message,
          ...(alert.runId !== undefined ? { runId: alert.runId } : {}),
          ...(alert.window !== undefined ? { window: alert.window } : {}),
          ...(alert.trait !== undefined ? { trait: alert.trait } : {}),
        });
      }),
      this.ctx.store.watchChanges((c) => this.changed(c)),
    ];
  }

  /** Stops listening (pending store.changed notifications are dropped) and forgets every listener. */
  close(): void {
    this.closed = true;
    for (const off of this.offs) off();
    this.offs = [];
    for (const t of this.timers) this.ctx.clock.clearTimeout(t);
    this.timers.clear();
    this.waiting.clear();
    this.listeners.clear();
  }

  /** Adds a listener of every event from now on; returns the function that removes it. */
  listen(listener: (e: StreamEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The id of the newest event (0: none yet). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /**
   * What a client that last saw `lastEventId` (the Last-Event-ID header, as sent) missed: the buffered events after
   * it, or a reset when they are no longer all buffered, or the id is not one this process gave (a restart, garbage).
   */
  resume(lastEventId: string): Resume {
    const text = lastEventId.trim();
    if (!/^\d{1,15}$/.test(text)) return { kind: 'reset', reason: 'unrecognised Last-Event-ID' };
    const last = Number(text);
    if (last > this.lastId) return { kind: 'reset', reason: 'Last-Event-ID is not from this server process' };
    const oldest = this.ring[0]?.id ?? this.nextId;
    if (last < oldest - 1) return { kind: 'reset', reason: 'events were missed (older than the buffer)' };
    return { kind: 'replay', events: this.ring.filter((e) => e.id > last) };
  }

  /** A domain event of this process: numbered, buffered, sent; remembered for store.changed's deduplication. */
  private local(event: Exclude<StreamEventName, 'store.changed'>, data: EventData): void {
    this.tick++;
    if (!this.lastLocal.has(data.pipeline) && this.lastLocal.size >= MAX_TRACKED) this.lastLocal.clear();
    this.lastLocal.set(data.pipeline, this.tick);
    this.emit(event, data);
  }

  private changed(change: StoreChange): void {
    if (this.closed) return;
    const key = `${change.pipeline}\0${change.kind}`;
    const waiting = this.waiting.get(key);
    if (waiting) {
      // Coalesced; the latest arrival decides whether a local event came after it.
      waiting.mark = this.tick;
      return;
    }
    if (this.waiting.size >= MAX_TRACKED) {
      this.emit('store.changed', { pipeline: change.pipeline, at: this.ctx.clock.now(), kind: change.kind });
      return;
    }
    this.waiting.set(key, { mark: this.tick, change });
    const timer = this.ctx.clock.setTimeout(() => {
      this.timers.delete(timer);
      const w = this.waiting.get(key);
      this.waiting.delete(key);
      if (!w || this.closed) return;
      const localAfter = (this.lastLocal.get(w.change.pipeline) ?? 0) > w.mark;
      if (localAfter && w.change.kind !== 'pipeline') return;
      this.emit('store.changed', { pipeline: w.change.pipeline, at: this.ctx.clock.now(), kind: w.change.kind });
    }, this.changeDelayMs);
    this.timers.add(timer);
  }

  private emit(event: StreamEventName, data: EventData): void {
    const e: StreamEvent = { id: this.nextId++, event, pipeline: data.pipeline, data: this.mask(JSON.stringify(data)) };
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.ctx.log.error(`an event-stream listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
