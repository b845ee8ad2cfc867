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

/** A native trigger: start the job under the run key, read its state, cancel it. None of them throws. */
export interface NativeTrigger<S extends NativeTriggerSpec = NativeTriggerSpec> {
  fire(spec: S, ctx: TriggerContext): Promise<TriggerOutcome>;
  poll(spec: S, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer>;
  cancel(spec: S, job: PlatformRun, ctx: PlatformContext): Promise<PlatformAnswer>;
  /** The spec's poll interval in seconds, when set. */
  pollSeconds(spec: S): number | undefined;
}
