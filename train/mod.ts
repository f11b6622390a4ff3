/**
 * Training: the config table and its validation, AdamW, the schedule, the
 * loss, one step, the run loop, checkpoints (safetensors), weights import
 * and export, run locks, metrics logs and memory estimates. `train`,
 * `resolveConfig` and the checkpoint functions are also in the main entry.
 *
 * @module
 */
export {
  ATTN_DROPOUTS,
  CHAIN_OP_SETS,
  CONFIG_GROUPS,
  CONFIG_SCHEMA,
  ConfigError,
  type ConfigGroup,
  DECAY_SCOPES,
  DEFAULT_CONFIG,
  evalLoopsOf,
  flattenGroups,
  type KeySpec,
  PRESETS,
  REG_STARTS,
  resolveConfig,
  type TaskName,
  TASKS,
  type TrainConfig,
} from "./config.ts";
export { InputError } from "./errors.ts";
export {
  boolKey,
  checkKey,
  choiceKey,
  type ConfigKey,
  describeKey,
  intKey,
  type KeyTable,
  numKey,
  stringKey,
  withDefaults,
} from "../utils/config_keys.ts";
export { trainingMemory } from "./memory.ts";
export { readConfigFile } from "./config_file.ts";
export { checkTrainConfig } from "./check_config.ts";
export {
  AdamW,
  type AdamWOptions,
  type AdamWState,
  clipByGlobalNorm,
  gradNormScale,
} from "./adamw.ts";
export { learningRate } from "./schedule.ts";
export { lossCurve, readStepRecords, type StepRecord, trainingSeconds } from "./metrics_log.ts";
export { maskedCrossEntropy, teacherForcedExactMatch } from "./loss.ts";
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
} from "./checkpoint.ts";
export { CheckpointError } from "./checkpoint_error.ts";
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
} from "./safetensors.ts";
export { acquireRunLock, LOCK_FILE, type RunLock } from "./run_lock.ts";
export { heldOutProblems, loopSpecOf, modelConfigOf, taskOf, trainBatch } from "./data.ts";
export {
  NonFiniteLossError,
  type Penalty,
  type StepOptions,
  type StepResult,
  trainStep,
} from "./step.ts";
export {
  configuredPenalty,
  initWeights,
  train,
  type TrainEvent,
  type TrainOptions,
  type TrainResult,
} from "./trainer.ts";
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
} from "./weights.ts";
export {
  arithmeticTestFile,
  runTask,
  type TestProblemOptions,
  testProblems,
  type TestSet,
} from "./test_set.ts";
export {
  type CheckpointEvaluationOptions,
  evaluateCheckpoint,
  type EvaluationRunOptions,
  prepareCheckpointEvaluation,
  type PreparedEvaluation,
} from "./evaluate_checkpoint.ts";
export {
  analyzeCheckpoint,
  type CheckpointAnalysis,
  type CheckpointAnalysisOptions,
  prepareCheckpointAnalysis,
  type PreparedAnalysis,
} from "./analyze_checkpoint.ts";
