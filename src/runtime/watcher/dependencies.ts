// Event-driven dependencies: when an upstream pipeline completes (its window or run goes COMPLETED, seen on the event
// bus or — written by another process — on the store's change feed), the pipelines whose builtin:pipeline traits
// wait for it are woken at once, and those traits are re-evaluated without waiting out the watch backoff.
import type { PipelineSpec } from '../../core/types.js';
import { type DependencyEdge, dependentsOf } from '../../engine/index.js';
import type { Store } from '../../store/index.js';
import type { EventBus } from '../events.js';

export class DependencyWakes {
  private dependents = new Map<string, DependencyEdge[]>();
  /** Downstream pipeline → its traits to re-evaluate now (their upstream completed since its last look). */
  private urgent = new Map<string, Set<string>>();
  /** Upstream → what its newest completion looked like when last read from the change feed. */
  private seen = new Map<string, string>();

  /** Rebuilds the graph from the loaded pipelines (after a start or a reload). */
  refresh(pipelines: Iterable<PipelineSpec>): void {
    this.dependents = dependentsOf(pipelines);
    for (const p of this.seen.keys()) if (!this.dependents.has(p)) this.seen.delete(p);
  }

  /** `upstream` completed: marks its dependents' traits urgent and returns the pipelines to wake. */
  completed(upstream: string): string[] {
    const edges = this.dependents.get(upstream) ?? [];
    for (const e of edges) {
      const set = this.urgent.get(e.pipeline) ?? new Set<string>();
      set.add(e.trait);
      this.urgent.set(e.pipeline, set);
    }
    return [...new Set(edges.map((e) => e.pipeline))];
  }

  /** The traits of `pipeline` to re-evaluate now, once (undefined: none). */
  take(pipeline: string): string[] | undefined {
    const set = this.urgent.get(pipeline);
    if (!set) return undefined;
    this.urgent.delete(pipeline);
    return [...set];
  }

  /**
   * A change-feed notification about `upstream` (any process may have written it): reads its newest COMPLETED window
   * and newest run, and counts it as a completion only when that changed since the last look.
   */
  async changed(upstream: string, store: Pick<Store, 'listWindows' | 'listRuns'>): Promise<string[]> {
    if (!this.dependents.has(upstream)) return [];
    const [windows, runs] = await Promise.all([
      store.listWindows(upstream, { state: 'COMPLETED', limit: 1 }),
      store.listRuns(upstream, { limit: 1 }),
    ]);
    const run = runs[0];
    const mark = `${windows[0]?.key ?? ''}|${run?.status === 'COMPLETED' ? run.runId : ''}`;
    if (this.seen.get(upstream) === mark) return [];
    this.seen.set(upstream, mark);
    return mark === '|' ? [] : this.completed(upstream);
  }
}

/**
 * Subscribes `deps` to the bus (window.transitioned / run.transitioned to COMPLETED) and the store's change feed, and
 * pokes the dependents of whatever completed. Returns the unsubscribe functions.
 */
export function wakeDependents(
  deps: DependencyWakes,
  bus: EventBus,
  store: Store,
  poke: (pipelines: string[]) => void,
  onError: (err: unknown) => void,
): Array<() => void> {
  const wake = (ps: string[]) => {
    if (ps.length > 0) poke(ps);
  };
  return [
    bus.subscribe('window.transitioned', (e) => {
      if (e.window.state === 'COMPLETED') wake(deps.completed(e.window.pipeline));
    }),
    bus.subscribe('run.transitioned', (e) => {
      if (e.run.status === 'COMPLETED') wake(deps.completed(e.run.pipeline));
    }),
    store.watchChanges((c) => {
      if (c.kind !== 'window' && c.kind !== 'run') return;
      deps.changed(c.pipeline, store).then(wake, onError);
    }),
  ];
}
