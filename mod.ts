/**
 * STARS toolkit: train and analyse looped language models (LoopLMs) on
 * tfjs, with stability-driven recurrent scaling (random loop sampling and
 * Jacobian spectral radius regularisation).
 *
 * @example Train a small looped model on 2-digit addition for a few steps
 * ```ts
 * import { train, useBackend } from "@stars/toolkit";
 *
 * await useBackend("wasm");
 * const result = await train({ digits: 2, d_model: 32, n_heads: 2, d_ff: 64, steps: 20 });
 * console.log(result.accuracy); // held-out exact match at the training depth
 * result.model.dispose();
 * ```
 *
 * @example Run a model at any loop count and read every loop's state
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { LoopedLM, PAPER_MODEL, useBackend } from "@stars/toolkit";
 *
 * await useBackend("wasm");
 * const model = new LoopedLM({ ...PAPER_MODEL, d_model: 32, n_heads: 2, d_ff: 64 }, 1);
 * const ids = tf.tensor2d([[1, 2, 10, 3, 4, 11]], undefined, "int32");
 * const { logits, states } = model.forward(ids, 8, { keepStates: true });
 * console.log(logits.shape, states.length); // [1, 6, 15] 9
 * ```
 *
 * @module
 */

export {
  type BackendName,
  BACKENDS,
  gpuAdapter,
  type GpuAdapterSummary,
  hasRealGpu,
  parseBackend,
  useBackend,
} from "./backends/select.ts";
export { mixSeed, Rng } from "./utils/rng.ts";

export {
  INIT_STATES,
  type InitState,
  type Injection,
  INJECTIONS,
  type ModelConfig,
  NORM_PLACEMENTS,
  NORM_TYPES,
  type NormPlacement,
  type NormType,
  PAPER_MODEL,
} from "./models/config.ts";
export {
  cacheTensors,
  type DecodeCache,
  emptyCache,
  type ForwardOptions,
  type ForwardResult,
  LoopedLM,
} from "./models/looped.ts";
export { type KVEntry } from "./models/layer.ts";
export {
  countParams,
  type Init,
  initParams,
  type Params,
  paramsFromValues,
  paramSpecs,
} from "./models/params.ts";
export { layerNorm, type NormParams, residual, rmsNorm } from "./models/norm.ts";

export {
  describeLoopSpec,
  expectedLoops,
  type FixedLoops,
  type LogNormalLoops,
  type LoopDraw,
  type LoopKeys,
  loopPmf,
  type LoopSampler,
  loopSampler,
  type LoopSpec,
  type PoissonLogNormalLoops,
  type PoissonLoops,
  registerLoopSampler,
  sampleLoops,
  type UniformLoops,
  validateLoopSpec,
} from "./regularizers/loop_sampler.ts";

export {
  DEFAULT_FD_EPS,
  jvp,
  jvpExact,
  type StateMap,
  vjp,
} from "./regularizers/jacobian_products.ts";
export { stopGradient } from "./regularizers/stop_gradient.ts";
export {
  gaussianProbe,
  type Probe,
  PROBES,
  rademacherProbe,
  randomUnitVector,
} from "./regularizers/probes.ts";
export {
  POWER_MODES,
  powerIterationPenalty,
  type PowerMode,
  type PowerPenalty,
  type PowerPenaltyOptions,
} from "./regularizers/power_penalty.ts";
export { hutchinsonFrobenius, type HutchinsonOptions } from "./regularizers/hutchinson.ts";
export {
  estimateSpectralRadius,
  type SpectralRadiusEstimate,
  type SpectralRadiusOptions,
} from "./regularizers/spectral_radius.ts";
export {
  type Complex,
  eigenvalues,
  jacobianMatrix,
  MAX_EXACT_STATE,
  spectralRadiusOf,
} from "./regularizers/exact_jacobian.ts";
export {
  hutchinsonPenalty,
  type HutchinsonPenaltyOptions,
  jacobianPenalty,
  type JacobianPenaltyOptions,
  type LoopMapModel,
  type PenaltyCompute,
  type PenaltyTerm,
} from "./regularizers/jacobian_penalty.ts";
export {
  DEFAULT_PENALTY_OPTIONS,
  penaltyFromOptions,
  type PenaltyOptions,
  REG_KINDS,
  type RegKind,
  validatePenaltyOptions,
} from "./regularizers/penalty_options.ts";

export * from "./tasks/mod.ts";

export {
  ATTN_DROPOUTS,
  CHAIN_OP_SETS,
  CONFIG_SCHEMA,
  ConfigError,
  DECAY_SCOPES,
  DEFAULT_CONFIG,
  evalLoopsOf,
  type KeySpec,
  PRESETS,
  REG_STARTS,
  resolveConfig,
  type TaskName,
  TASKS,
  type TrainConfig,
} from "./train/config.ts";
export { InputError } from "./train/errors.ts";
export {
  formatBytes,
  ioFloats,
  layerFloats,
  type MemoryEstimate,
  memoryEstimate,
  memoryLimit,
  type MemoryPart,
  overLimit,
  paramCount,
  WASM_HEAP_BYTES,
} from "./models/memory.ts";
export { trainingMemory } from "./train/memory.ts";
export {
  AdamW,
  type AdamWOptions,
  type AdamWState,
  clipByGlobalNorm,
  gradNormScale,
} from "./train/adamw.ts";
export { learningRate } from "./train/schedule.ts";
export {
  lossCurve,
  readStepRecords,
  type StepRecord,
  trainingSeconds,
} from "./train/metrics_log.ts";
export { maskedCrossEntropy, teacherForcedExactMatch } from "./train/loss.ts";
export {
  type CheckpointLoadOptions,
  type CheckpointManifest,
  hasCheckpoint,
  type LegacyManifest,
  loadCheckpoint,
  type LoadedCheckpoint,
  MODEL_FILE,
  OPTIMIZER_FILE,
  readManifest,
  recoverInterruptedSave,
  saveCheckpoint,
  type TensorFileRecord,
} from "./train/checkpoint.ts";
export { CheckpointError } from "./train/checkpoint_error.ts";
export {
  decodeSafetensors,
  encodeSafetensors,
  MAX_HEADER_BYTES,
  type ReadTensor,
  SAFETENSORS_DTYPES,
  type SafetensorsContents,
  type SafetensorsDtype,
  SafetensorsError,
  type TensorToWrite,
} from "./train/safetensors.ts";
export { acquireRunLock, LOCK_FILE, type RunLock } from "./train/run_lock.ts";
export { heldOutProblems, loopSpecOf, modelConfigOf, taskOf, trainBatch } from "./train/data.ts";
export {
  NonFiniteLossError,
  type Penalty,
  type StepOptions,
  type StepResult,
  trainStep,
} from "./train/step.ts";
export {
  configuredPenalty,
  initWeights,
  train,
  type TrainEvent,
  type TrainOptions,
  type TrainResult,
} from "./train/trainer.ts";
export {
  detectNaming,
  encodeWeights,
  type ExportResult,
  exportWeights,
  modelMismatch,
  type NamedTensor,
  namedTensors,
  type Naming,
  NAMINGS,
  type OpenedWeights,
  openWeights,
  type OpenWeightsOptions,
  type ReferenceName,
  referenceName,
  SHAPE_KEYS,
  valuesFromTensors,
  type WeightsMetadata,
} from "./train/weights.ts";

export { exactMatch, type ExactMatchResult, greedyGenerate } from "./eval/greedy.ts";
export { type Interval, wilsonInterval } from "./eval/wilson.ts";
export { argmax, entropy, klDivergence, relativeChange, vectorNorm } from "./eval/distribution.ts";
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
} from "./eval/decode.ts";
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
} from "./eval/exit.ts";
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
} from "./eval/sweep.ts";
export {
  type PerProblemSweep,
  problemSteps,
  type StepsCell,
  type StepsGroup,
  type StepsTable,
  stepsTable,
  stepsTableFromGroups,
  stepsTableMarkdown,
} from "./eval/steps.ts";
export {
  DYNAMICS_RHO_SEED,
  dynamicsMemory,
  type DynamicsOptions,
  type DynamicsPoint,
  type DynamicsResult,
  loopDynamics,
  modelDynamics,
  type ModelDynamicsOptions,
} from "./eval/dynamics.ts";
export { pca2, type Projection2D } from "./eval/pca.ts";
export { type Unfit, unfitReason } from "./eval/fit.ts";
export { type ReportRow, type SweepReport } from "./eval/report.ts";
export * from "./plots/mod.ts";

export {
  type Arm,
  armConfig,
  ARMS,
  type Profile,
  PROFILE_SPECS,
  PROFILES,
  type ProfileSpec,
} from "./repro/arms.ts";
export {
  type ArmResult,
  type DepthDynamics,
  paperCheck,
  type ReproCheck,
  type ReproOptions,
  type ReproResult,
  runRepro,
  type SweepEvent,
} from "./repro/run.ts";
export {
  type FinetuneEvalEvent,
  type FinetuneModelResult,
  type FinetuneOptions,
  type FinetuneResult,
  runFinetune,
} from "./repro/finetune.ts";
export { reproAccuracySvg, reproDynamicsSvg, reproLossSvg, reproMarkdown } from "./repro/report.ts";
export {
  BASE_LOOPS,
  FINETUNE_ARMS,
  FINETUNE_BASE_DIR,
  FINETUNE_GRID,
  FINETUNE_PROFILE_SPECS,
  FINETUNE_PROFILES,
  type FinetuneArm,
  finetuneConfig,
  type FinetuneProfile,
  type FinetuneProfileSpec,
  finetuneRunDir,
  OURO_SAMPLER,
  pretrainConfig,
} from "./repro/finetune_arms.ts";
export {
  accuracyAt,
  type ArmComparison,
  type ArmMetrics,
  armMetrics,
  compareArms,
  type CurvePoint,
  type Difference,
  DROP_LOOPS,
  dropFromPeak,
  type ExitResult,
  type FinetuneRun,
  metricsMarkdown,
  peakOf,
  type RunMetrics,
  runMetrics,
  type Spread,
  type StepsSpreadTable,
  stepsTableSpread,
} from "./repro/finetune_metrics.ts";
