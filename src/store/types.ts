// The store port: everything Interlock persists, behind one interface that every backend implements.
import type { DecisionRecord, PipelineSpec, Readiness, TraitResult } from '../core/types.js';

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

  /** Registered pipelines (the API registers them; YAML-defined ones are not stored here). */
  putPipeline(spec: PipelineSpec): Promise<void>;
  getPipeline(name: string): Promise<PipelineSpec | undefined>;
  listPipelines(): Promise<PipelineSpec[]>;
  /** true when something was deleted. */
  deletePipeline(name: string): Promise<boolean>;

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

  /** Idempotent. */
  close(): Promise<void>;
}
