// The dependency rules between pipelines: every builtin:pipeline trait names a pipeline defined in this project, and
// no pipelines wait for each other (a cycle: none of them could ever be READY). Problems point at the trait.
import type { PipelineSpec } from '../core/types.js';
import { type DependencyEdge, dependencyCycles, upstreamsOf } from '../engine/dependencies.js';
import { didYouMean } from './suggest.js';

export interface DependencyProblem {
  pipeline: string;
  /** Config path in the pipeline's file: the trait's `config.pipeline` when written there, else the trait. */
  trait: string;
  message: string;
}

/**
 * The problems of the graph of `pipelines` (valid specs). `defined` are every pipeline name the project's files
 * define (valid or not): an upstream defined with errors is known (it is INVALID, and never completes).
 */
export function dependencyProblems(
  pipelines: Iterable<Pick<PipelineSpec, 'name' | 'traits'>>,
  defined: ReadonlySet<string>,
): DependencyProblem[] {
  const out: DependencyProblem[] = [];
  const edges: DependencyEdge[] = [];
  for (const spec of pipelines) {
    for (const e of upstreamsOf(spec)) {
      edges.push(e);
      if (!defined.has(e.upstream)) {
        const known = [...defined].filter((n) => n !== spec.name).sort();
        out.push({
          pipeline: e.pipeline,
          trait: e.trait,
          message: `builtin:pipeline: unknown pipeline '${e.upstream}' (pipelines defined in this project: ${known.length ? known.join(', ') : 'none'})${didYouMean(e.upstream, known)}`,
        });
      }
    }
  }
  for (const cycle of dependencyCycles(edges)) {
    const members = new Set(cycle);
    const closes = edges.some((e) => e.pipeline === cycle[cycle.length - 1] && e.upstream === cycle[0]);
    const shown = closes ? `${[...cycle, cycle[0]].join(' → ')}` : `through ${cycle.join(', ')}`;
    for (const e of edges) {
      if (!members.has(e.pipeline) || !members.has(e.upstream)) continue;
      const message =
        cycle.length === 1
          ? `builtin:pipeline: pipeline '${e.pipeline}' waits for itself; it could never be READY`
          : `builtin:pipeline: dependency cycle ${shown}: these pipelines wait for each other, none could ever be READY`;
      out.push({ pipeline: e.pipeline, trait: e.trait, message });
    }
  }
  return out;
}
