// evaluator: the stdout protocol, single-trait evaluation, and the pool that runs many under one cap.

export { type Confinement, confineEvaluator, isWithin, realPathOf } from './confine.js';
export type { EvaluatorOutputParse, InvalidEvaluatorOutput, ParsedEvaluatorOutput } from './protocol.js';
export { EXCERPT_CHARS, excerptOf, parseEvaluatorOutput } from './protocol.js';
export type { EvalContext } from './runner.js';
export { DEFAULT_MAX_STDOUT_BYTES, EvaluatorPool, evaluateTrait, MAX_REASON_CHARS } from './runner.js';
export { Semaphore } from './semaphore.js';
