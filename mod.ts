/**
 * STARS toolkit: train and analyse looped language models (LoopLMs) on
 * tfjs, with stability-driven recurrent scaling (random loop sampling and
 * Jacobian spectral radius regularisation).
 *
 * @example Train a small looped model on 2-digit addition for a few steps
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { train, useBackend } from "@stars/toolkit";
 *
 * await useBackend("wasm");
 * const result = await train({ digits: 2, d_model: 32, n_heads: 2, d_ff: 64, steps: 20 });
 * assertEquals(result.status, "done");
 * const accuracy = result.accuracy ?? NaN; // held-out exact match at the training depth
 * assert(accuracy >= 0 && accuracy <= 1);
 * result.model.dispose();
 * ```
 *
 * @example Run a model at any loop count and read every loop's state
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { assertEquals } from "@std/assert";
 * import { LoopedLM, PAPER_MODEL, useBackend } from "@stars/toolkit";
 *
 * await useBackend("wasm");
 * const model = new LoopedLM({ ...PAPER_MODEL, d_model: 32, n_heads: 2, d_ff: 64 }, 1);
 * const ids = tf.tensor2d([[1, 2, 10, 3, 4, 11]], undefined, "int32");
 * const { logits, states } = model.forward(ids, 8, { keepStates: true });
 * assertEquals(logits.shape, [1, 6, 15]);
 * assertEquals(states.length, 9); // the input state and one per loop
 * ```
 *
 * The main entry holds what a study reaches for (about 50 names); each
 * layer has its own entry with the rest: `@stars/toolkit/utils`,
 * `/models`, `/regularizers`, `/tasks`, `/train`, `/eval`, `/repro`,
 * `/plots` (no tfjs), `/ops` and `/backends`.
 *
 * @module
 */

export { type BackendName, useBackend } from "./backends/select.ts";
export { Rng } from "./utils/rng.ts";
export { InputError } from "./utils/errors.ts";

export { type ModelConfig, PAPER_MODEL } from "./models/config.ts";
export { type ForwardOptions, type ForwardResult, LoopedLM } from "./models/looped.ts";

export {
  expectedLoops,
  type LoopSpec,
  registerLoopSampler,
  sampleLoops,
} from "./regularizers/loop_sampler.ts";
export { powerIterationPenalty } from "./regularizers/power_penalty.ts";
export { estimateSpectralRadius } from "./regularizers/spectral_radius.ts";
export { jacobianPenalty } from "./regularizers/jacobian_penalty.ts";
export { penaltyFromOptions, type PenaltyOptions } from "./regularizers/penalty_options.ts";
export { registerPenalty } from "./regularizers/penalties.ts";

export { arithmeticTask } from "./tasks/arithmetic_task.ts";
export { chainTask } from "./tasks/chain.ts";
export { mathTask } from "./tasks/math/math_task.ts";
export { registerTask, taskFromKeys } from "./tasks/registry.ts";
export type { Task, TextProblem } from "./tasks/task.ts";

export { ConfigError, DEFAULT_CONFIG, resolveConfig, type TrainConfig } from "./train/config.ts";
export { loadCheckpoint, saveCheckpoint } from "./train/checkpoint.ts";
export { CheckpointError } from "./train/checkpoint_error.ts";
export { exportWeights, openWeights } from "./train/weights.ts";
export { train, type TrainEvent, type TrainOptions, type TrainResult } from "./train/trainer.ts";

export { wilsonInterval } from "./eval/wilson.ts";
export { type ExitRule, parseExitRule } from "./eval/exit.ts";
export {
  DEFAULT_DEPTH_GRID,
  type DepthPoint,
  depthSweep,
  type ExitPoint,
  exitSweep,
} from "./eval/sweep.ts";
export { evaluateLoops } from "./eval/evaluate.ts";
export { loopDynamics } from "./eval/dynamics.ts";
export type { SweepReport } from "./eval/report.ts";

export { runRepro } from "./repro/run.ts";
export { runFinetune } from "./repro/finetune.ts";
