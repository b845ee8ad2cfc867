// The pipeline dependency graph: which pipelines a pipeline's builtin:pipeline traits wait for, who waits for whom,
// and the cycles (a config error: pipelines that wait for each other could never be READY). Pure.
import type { PipelineSpec } from '../core/types.js';

/** One builtin:pipeline trait: `trait` of `pipeline` waits for `upstream`. */
export interface DependencyEdge {
  pipeline: string;
  trait: string;
  upstream: string;
}

/** The builtin:pipeline traits of a pipeline and the upstream each names. */
export function upstreamsOf(spec: Pick<PipelineSpec, 'name' | 'traits'>): DependencyEdge[] {
  const out: DependencyEdge[] = [];
  for (const t of spec.traits) {
    if (t.builtin !== 'pipeline') continue;
    const upstream = (t.config as { pipeline?: unknown } | undefined)?.pipeline;
    if (typeof upstream === 'string') out.push({ pipeline: spec.name, trait: t.type, upstream });
  }
  return out;
}

/** Upstream name → the pipelines (and their traits) waiting for it. */
export function dependentsOf(specs: Iterable<Pick<PipelineSpec, 'name' | 'traits'>>): Map<string, DependencyEdge[]> {
  const out = new Map<string, DependencyEdge[]>();
  for (const s of specs) {
    for (const e of upstreamsOf(s)) {
      const list = out.get(e.upstream);
      if (list) list.push(e);
      else out.set(e.upstream, [e]);
    }
  }
  return out;
}

/**
 * Every cycle of the graph, each once, as the list of its pipelines in dependency order starting from the
 * smallest name (`['a', 'b']` means a waits for b and b for a; `['a']` waits for itself). Strongly connected
 * components (Tarjan), iteratively so a long chain cannot overflow the stack.
 */
export function dependencyCycles(edges: readonly DependencyEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.pipeline, [...(next.get(e.pipeline) ?? []), e.upstream]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;
  for (const root of [...next.keys()].sort()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; i: number }> = [{ node: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; i: number };
      const succ = next.get(frame.node) ?? [];
      if (frame.i < succ.length) {
        const m = succ[frame.i++] as string;
        if (!index.has(m)) {
          index.set(m, counter);
          low.set(m, counter++);
          stack.push(m);
          onStack.add(m);
          work.push({ node: m, i: 0 });
        } else if (onStack.has(m)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(m) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const scc: string[] = [];
      let m: string | undefined;
      do {
        m = stack.pop() as string;
        onStack.delete(m);
        scc.push(m);
      } while (m !== frame.node);
      const self = scc.length === 1 && (next.get(frame.node) ?? []).includes(frame.node);
      if (scc.length > 1 || self) out.push(cycleOrder(scc, next));
    }
  }
  return out.sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}

/** The members of one strongly connected component as a walk from the smallest name along its edges. */
function cycleOrder(scc: readonly string[], next: ReadonlyMap<string, string[]>): string[] {
  const members = new Set(scc);
  const start = [...scc].sort()[0] as string;
  const path = [start];
  const seen = new Set(path);
  let cur = start;
  for (;;) {
    const step = (next.get(cur) ?? []).filter((m) => members.has(m)).sort();
    const fresh = step.find((m) => !seen.has(m));
    if (fresh === undefined) break;
    path.push(fresh);
    seen.add(fresh);
    cur = fresh;
  }
  return path;
}
