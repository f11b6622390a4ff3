/**
 * The paper's experiments: the four-arm addition comparison and the seeded
 * study (arms, profiles, pipeline, report), and the fine-tuning experiment
 * (profiles, arms, metrics, pipeline). `runRepro` and `runFinetune` are
 * also in the main entry.
 *
 * @module
 */
export {
  type Arm,
  armConfig,
  ARMS,
  type Profile,
  PROFILE_SPECS,
  PROFILES,
  type ProfileSpec,
} from "./arms.ts";
export {
  type ArmResult,
  type DepthDynamics,
  paperCheck,
  type ReproCheck,
  type ReproOptions,
  type ReproResult,
  runRepro,
  type SweepEvent,
} from "./run.ts";
export {
  type FinetuneEvalEvent,
  type FinetuneModelResult,
  type FinetuneOptions,
  type FinetuneResult,
  runFinetune,
} from "./finetune.ts";
export { reproAccuracySvg, reproDynamicsSvg, reproLossSvg, reproMarkdown } from "./report.ts";
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
} from "./finetune_arms.ts";
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
} from "./finetune_metrics.ts";
export { attentionPathOf, mixedComputation, productPathOf, runProvenance } from "./provenance.ts";
export { finetuneReportFiles, reproReportFiles } from "./report_files.ts";
