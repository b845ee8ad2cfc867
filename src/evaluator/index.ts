// evaluator: the stdout protocol, single-trait evaluation, and the pool that runs many under one cap.
export { parseEvaluatorOutput, excerptOf, EXCERPT_CHARS } from './protocol.js';
export type { EvaluatorOutputParse, InvalidEvaluatorOutput, ParsedEvaluatorOutput } from './protocol.js';
export { evaluateTrait, EvaluatorPool, DEFAULT_MAX_STDOUT_BYTES, MAX_REASON_CHARS } from './runner.js';
export type { EvalContext } from './runner.js';
export { Semaphore } from './semaphore.js';
