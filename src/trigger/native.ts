// What a native trigger implements (start, poll, cancel its platform's job) and what those calls take and answer.
import type { NativeTriggerSpec, PlatformRun, TriggerOutcome } from '../core/types.js';
import type { TriggerContext } from './context.js';

/** What a platform call (poll, cancel) needs: the run it is for, the env, the address policy, an abort signal. */
export type PlatformContext = Pick<
  TriggerContext,
  'pipeline' | 'runId' | 'runKey' | 'window' | 'env' | 'signal' | 'addressPolicy'
>;

/** A platform's answer about its job: its state and what that means for the run, or why it could not say. */
export type PlatformAnswer =
  | { ok: true; state: string; status: 'RUNNING' | 'COMPLETED' | 'FAILED' }
  | { ok: false; error: string; httpStatus?: number };

/** What asking a platform for the job of a run key found: the job (its id, maybe its state), none, or no answer. */
export type FindAnswer =
  | { ok: true; found: false; note?: string }
  | { ok: true; found: true; id: string; state?: string; apiVersion?: string }
  | { ok: false; error: string };

/** What a find needs besides the platform context: when the run fired (epoch ms), to bound a scan by time. */
export type FindContext = PlatformContext & { since?: number };

/** A native trigger: start the job under the run key, read its state, cancel it. None of them throws. */
export interface NativeTrigger<S extends NativeTriggerSpec = NativeTriggerSpec> {
  fire(spec: S, ctx: TriggerContext): Promise<TriggerOutcome>;
  poll(spec: S, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer>;
  cancel(spec: S, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer>;
  /**
   * Asks the platform whether a job for `runKey` exists, without starting one (Databricks: the run-now repeat with
   * the same idempotency_token, which adopts its run or starts the one run of the key). Absent: the platform cannot be
   * asked (Lambda), so an UNKNOWN outcome stays UNKNOWN.
   */
  find?(spec: S, runKey: string, ctx: FindContext): Promise<FindAnswer>;
  /** The spec's poll interval in seconds, when set. */
  pollSeconds(spec: S): number | undefined;
}
