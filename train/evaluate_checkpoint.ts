/**
 * A checkpoint's evaluation as `deno task eval` runs it, in two parts so
 * that every checkpoint of a command is checked before any sweep starts:
 * {@linkcode prepareCheckpointEvaluation} (its task, test problems, and the
 * memory of one decoded row, each failure an `InputError` naming the flag)
 * and {@linkcode evaluateCheckpoint} (the sweep, the exit rules and the
 * steps table, as the report `results.json` holds).
 *
 * @module
 */
import { decodeMemoryPerRow } from "../eval/decode.ts";
import { evaluateLoops, type LoopEvaluationOptions } from "../eval/evaluate.ts";
import type { ExitRule } from "../eval/exit.ts";
import type { SweepReport } from "../eval/report.ts";
import { problemSteps } from "../eval/steps.ts";
import { formatBytes, memoryLimit } from "../models/memory.ts";
import type { Task } from "../tasks/task.ts";
import { InputError } from "../utils/errors.ts";
import type { TrainConfig } from "./config.ts";
import { runTask, testProblems, type TestSet } from "./test_set.ts";
import type { OpenedWeights } from "./weights.ts";

/** What {@linkcode prepareCheckpointEvaluation} checks against. */
export interface CheckpointEvaluationOptions {
  /** Loop counts of the sweep. */
  loops: readonly number[];
  /** Adaptive-exit rules (default none). */
  exitRules?: readonly ExitRule[];
  /** The exit rules' cap (default the largest loop count). */
  exitMax?: number;
  /** A test file (default the run's held-out problems). */
  data?: string;
  /** Evaluate only the first `limit` problems. */
  limit?: number;
  /** Skip problems that do not fit the model, counting them (default: an error). */
  skipUnfit?: boolean;
  /** Also the accuracy by steps x loops (every problem must report its steps). */
  bySteps?: boolean;
  /** The active backend, whose memory bounds one decoded row. */
  backend: string;
}

/** A checkpoint ready to evaluate: everything checked. */
export interface PreparedEvaluation {
  /** The checkpoint folder or file. */
  checkpoint: string;
  /** Its weights, not yet loaded. */
  weights: OpenedWeights;
  /** Its run config. */
  config: TrainConfig;
  /** Its task. */
  task: Task;
  /** The problems to evaluate, and any skipped. */
  set: TestSet;
  /** The options it was checked against. */
  options: CheckpointEvaluationOptions;
}

/**
 * Checks a checkpoint's evaluation before any work: its task can be
 * rebuilt, its test problems fit its model (or are skipped and counted), one
 * decoded row at the largest loop count fits the backend's memory, and with
 * `bySteps` every problem reports its steps.
 */
export async function prepareCheckpointEvaluation(
  checkpoint: string,
  weights: OpenedWeights,
  options: CheckpointEvaluationOptions,
): Promise<PreparedEvaluation> {
  const config = weights.config;
  const task = runTask(config, checkpoint);
  const set = await testProblems(options.data, config, task, options.limit ?? Infinity, {
    skipUnfit: options.skipUnfit === true,
    checkpoint,
  });
  const limit = memoryLimit(options.backend);
  const checks: [string, number, boolean][] = [["loops", Math.max(...options.loops), false]];
  if (options.exitRules?.length) {
    checks.push(["exit_max", options.exitMax ?? Math.max(...options.loops), true]);
  }
  for (const [flag, loops, everyLoop] of checks) {
    const bytes = decodeMemoryPerRow(weights.model, loops, task.seqLen, everyLoop);
    if (bytes > limit) {
      throw new InputError(
        `--${flag}: decoding one problem at ${loops} loops needs about ${
          formatBytes(bytes)
        } (key/value caches of every loop, d_model ${config.d_model}), more than the ` +
          `${options.backend} backend's ${formatBytes(limit)}; lower --${flag}`,
      );
    }
  }
  if (options.bySteps) {
    const i = set.problems.findIndex((p) => problemSteps(p) === undefined);
    if (i >= 0) {
      throw new InputError(
        `--by_steps: problem ${i + 1} of "${checkpoint}"'s test set reports no number of steps ` +
          "(only generated problems do: the chain task, the synthetic word problems)",
      );
    }
  }
  return { checkpoint, weights, config, task, set, options };
}

/** How {@linkcode evaluateCheckpoint} runs: decoding settings and progress callbacks. */
export type EvaluationRunOptions = Omit<
  LoopEvaluationOptions,
  "grid" | "exitRules" | "exitMax" | "bySteps"
>;

/** Loads the checkpoint's weights, evaluates them, frees them, and returns the report. */
export async function evaluateCheckpoint(
  prepared: PreparedEvaluation,
  run: EvaluationRunOptions = {},
): Promise<SweepReport> {
  const { checkpoint, weights, config, task, set, options } = prepared;
  const model = await weights.load();
  try {
    const evaluation = await evaluateLoops(model, task, set.problems, {
      ...run,
      grid: options.loops,
      exitRules: options.exitRules,
      exitMax: options.exitMax,
      bySteps: options.bySteps,
    });
    return {
      checkpoint,
      step: weights.step,
      train_loops: config.loops,
      loop_sampler: config.loop_sampler,
      data: options.data ?? "held-out",
      problems: set.problems.length,
      ...(options.skipUnfit ? { skipped_unfit: set.skipped.length } : {}),
      results: evaluation.points.map(({ depth, accuracy, low, high, correct, total }) => ({
        loops: depth,
        accuracy,
        low,
        high,
        correct,
        total,
      })),
      exits: evaluation.exits,
      ...(evaluation.bySteps ? { by_steps: evaluation.bySteps } : {}),
    };
  } finally {
    model.dispose();
  }
}
