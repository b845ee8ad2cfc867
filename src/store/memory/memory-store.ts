// In-memory store: the reference implementation of the store port (tests, and `provider: memory`).
import type { DecisionRecord, PipelineSpec, Readiness, TraitResult } from '../../core/types.js';
import type { EvaluationWrite, ListOptions, Store } from '../types.js';

// Deep copies keep callers from mutating stored state, as a real backend would.
const copy = <T>(v: T): T => structuredClone(v);

export class MemoryStore implements Store {
  readonly kind = 'memory';
  private pipelines = new Map<string, PipelineSpec>();
  private traits = new Map<string, Map<string, TraitResult>>();
  private readiness = new Map<string, Readiness>();
  private decisions = new Map<string, DecisionRecord[]>();

  async putPipeline(spec: PipelineSpec): Promise<void> {
    this.pipelines.set(spec.name, copy(spec));
  }
  async getPipeline(name: string): Promise<PipelineSpec | undefined> {
    const p = this.pipelines.get(name);
    return p && copy(p);
  }
  async listPipelines(): Promise<PipelineSpec[]> {
    return [...this.pipelines.values()].sort((a, b) => a.name.localeCompare(b.name)).map(copy);
  }
  async deletePipeline(name: string): Promise<boolean> {
    return this.pipelines.delete(name);
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
  async close(): Promise<void> {}
}
