/**
 * Evaluation (data only): greedy decoding with per-loop caches, exact
 * match, the depth sweep (teacher-forced or decoded), adaptive-exit rules,
 * accuracy by steps, Wilson intervals, latent dynamics and PCA. The sweep
 * and exit functions are also in the main entry.
 *
 * @module
 */
export { exactMatch, type ExactMatchResult, greedyGenerate } from "./greedy.ts";
export { type Interval, wilsonInterval } from "./wilson.ts";
export { argmax, entropy, klDivergence, relativeChange, vectorNorm } from "./distribution.ts";
export {
  cacheBatchSize,
  cacheFloats,
  decodeBatchSize,
  decodeLoopwise,
  decodeMemoryPerRow,
  DEFAULT_CACHE_BUDGET,
  DEFAULT_STEP_BUDGET,
  lastLoopChoice,
  type LoopwiseOptions,
  type LoopwiseResult,
  rowTrajectory,
  stepFloatsPerRow,
  type TokenChoice,
  type TokenTrace,
} from "./decode.ts";
export {
  criterionFires,
  EXIT_KINDS,
  type ExitCriterion,
  exitLoop,
  type ExitRule,
  formatExitRule,
  type LoopPoint,
  parseExitRule,
  ruleNeedsStates,
} from "./exit.ts";
export {
  DEFAULT_DEPTH_GRID,
  type DepthPoint,
  depthSweep,
  depthSweepByProblem,
  exitChoice,
  type ExitPoint,
  exitSweep,
  type ProblemOutcome,
  type ProblemSweep,
  type SweepOptions,
} from "./sweep.ts";
export {
  type PerProblemSweep,
  problemSteps,
  type StepsCell,
  type StepsGroup,
  type StepsTable,
  stepsTable,
  stepsTableFromGroups,
  stepsTableMarkdown,
} from "./steps.ts";
export {
  DYNAMICS_RHO_SEED,
  dynamicsMemory,
  type DynamicsOptions,
  type DynamicsPoint,
  type DynamicsResult,
  loopDynamics,
  modelDynamics,
  type ModelDynamicsOptions,
} from "./dynamics.ts";
export { pca2, type Projection2D } from "./pca.ts";
export { type Unfit, unfitReason } from "./fit.ts";
export { type ReportRow, type SweepReport } from "./report.ts";
export { evaluateLoops, type LoopEvaluation, type LoopEvaluationOptions } from "./evaluate.ts";
