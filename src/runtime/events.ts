// The in-process event bus of a Context: the choke points (evaluatePipeline, moveRun, run creation) publish typed
// domain events; alerting (later metrics, the watcher, the dashboard stream) subscribes. No feature adds its own
// callback chain.
import type { LoadedProject } from '../config/index.js';
import type { Diagnostic } from '../core/errors.js';
import type {
  Alert,
  DecisionRecord,
  PipelineSpec,
  Readiness,
  RunState,
  RunStatus,
  TraitResult,
} from '../core/types.js';
import type { TransitionCause, TransitionPatch, WindowRecord, WindowState } from '../engine/index.js';
import type { Logger } from '../observability/index.js';

/** Every domain event by name, with its payload. */
export interface DomainEvents {
  /** A readiness decision was made and recorded (evaluatePipeline, after the store write). */
  'evaluation.decided': {
    evaluation: { pipeline: PipelineSpec; results: TraitResult[]; readiness: Readiness; decision: DecisionRecord };
    /** Set when the evaluation was part of this run. */
    runId?: string;
    /** Cut short by shutdown: recorded (fail closed) but says nothing about the pipeline. */
    aborted: boolean;
  };
  /** A run was created and took its pipeline's lock (PENDING). */
  'run.created': { run: RunState };
  /** A run moved from `from` to `run.status` (the compare-and-swap won). */
  'run.transitioned': {
    from: RunStatus;
    /** The run as it was before the move, and as stored after it. */
    before: RunState;
    run: RunState;
    patch: TransitionPatch;
    cause?: TransitionCause;
  };
  /** An alert condition was found (and claimed, so it is sent once); it is delivered by the use-case's alert scope. */
  'alert.raised': { alert: Alert };
  /** An alert was handed to one sink: `sent`, `failed` (the sink said so) or `undelivered` (the budget ran out). */
  'alert.delivered': { alert: Alert; sink: string; result: 'sent' | 'failed' | 'undelivered' };
  /**
   * The watcher wrote a schedule window: created (`from` absent) or moved from `from` to `window.state` (the
   * compare-and-swap won; a re-decision may leave the state as it was).
   */
  'window.transitioned': { from?: WindowState; window: WindowRecord };
  /** The project was loaded again (reloadProject: SIGHUP, a changed config file); after ctx.project was swapped. */
  'project.reloaded': ProjectReload;
}

/**
 * What one reload did. Pipeline names are YAML-defined ones, sorted. A pipeline that is INVALID after the reload is
 * in `invalid` (and in `failed` when this reload made it so or changed its problems): never evaluated or triggered.
 */
export interface ProjectReload {
  /** What asked for it: `SIGHUP`, `file change`, … */
  reason: string;
  /**
   * false: interlock.yaml could not be read or has errors, and the whole last good project was kept (`error` says
   * why, `problems` lists interlock.yaml's errors). true: ctx.project is the new project.
   */
  applied: boolean;
  error?: string;
  /** ctx.project before the reload, and after it (the same object when not applied). */
  previous: LoadedProject;
  project: LoadedProject;
  /** Defined now and not before / before and not now / in both, with a different definition, schedule or status. */
  added: string[];
  removed: string[];
  changed: string[];
  /** INVALID after the reload. */
  invalid: string[];
  /** INVALID because of this reload: newly INVALID, or INVALID with other problems than before (alerted). */
  failed: string[];
  /** Error diagnostics of the new load (file:line:col). */
  problems: Diagnostic[];
  /** interlock.yaml settings that changed but take effect only on a restart (the running values were kept). */
  restartNeeded: string[];
}

export type EventName = keyof DomainEvents;
export type EventHandler<K extends EventName> = (payload: DomainEvents[K]) => void | Promise<void>;

/**
 * Typed publish/subscribe in one process. `publish` runs the subscribers of an event one after another, in the order
 * they subscribed, and waits for each; a subscriber that throws (or rejects) is logged and never breaks the
 * publisher or the subscribers after it.
 */
export class EventBus {
  private readonly handlers = new Map<EventName, Array<EventHandler<EventName>>>();

  constructor(private readonly log: Logger) {}

  /** Adds a subscriber; returns the function that removes it. */
  subscribe<K extends EventName>(name: K, handler: EventHandler<K>): () => void {
    const list = this.handlers.get(name) ?? [];
    list.push(handler as EventHandler<EventName>);
    this.handlers.set(name, list);
    return () => {
      const current = this.handlers.get(name);
      const i = current?.indexOf(handler as EventHandler<EventName>) ?? -1;
      if (current && i >= 0) current.splice(i, 1);
    };
  }

  async publish<K extends EventName>(name: K, payload: DomainEvents[K]): Promise<void> {
    // A copy: a subscriber that unsubscribes (or subscribes) while this runs changes the next publish only.
    for (const handler of [...(this.handlers.get(name) ?? [])]) {
      try {
        await handler(payload);
      } catch (err) {
        this.log.error(`a subscriber of ${name} failed: ${err instanceof Error ? err.message : String(err)}`, {
          event: name,
        });
      }
    }
  }
}
