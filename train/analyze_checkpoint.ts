/**
 * A checkpoint's latent dynamics as `deno task analyze` measures them, in
 * two parts: {@linkcode prepareCheckpointAnalysis} checks the task, the
 * problems and the memory before any work (each failure an `InputError`),
 * and {@linkcode analyzeCheckpoint} runs the loops and returns the result
 * with its report (`dynamics.json`).
 *
 * @module
 */
import { dynamicsMemory, type DynamicsResult, modelDynamics } from "../eval/dynamics.ts";
import { memoryLimit, overLimit } from "../models/memory.ts";
import type { Task, TextProblem } from "../tasks/task.ts";
import { InputError } from "../utils/errors.ts";
import type { TrainConfig } from "./config.ts";
import { runTask, testProblems, type TestSet } from "./test_set.ts";
import type { OpenedWeights } from "./weights.ts";

/** What an analysis measures. */
export interface CheckpointAnalysisOptions {
  /** Problems (rows) followed through the loops. */
  samples: number;
  /** Loops to run. */
  loops: number;
  /** The spectral radius every this many loops (0 = never). */
  rhoEvery: number;
  /** Power-iteration steps of each spectral-radius estimate. */
  rhoIters: number;
  /** A test file (default the run's held-out problems). */
  data?: string;
  /** Skip problems that do not fit the model, counting them (default: an error). */
  skipUnfit?: boolean;
  /** The active backend, whose memory bounds the analysis. */
  backend: string;
}

/** A checkpoint ready to analyse: everything checked. */
export interface PreparedAnalysis {
  /** The checkpoint folder or file. */
  checkpoint: string;
  /** Its weights, not yet loaded. */
  weights: OpenedWeights;
  /** Its run config. */
  config: TrainConfig;
  /** Its task. */
  task: Task;
  /** The problems, and any skipped. */
  set: TestSet;
  /** The options it was checked against. */
  options: CheckpointAnalysisOptions;
}

/** What {@linkcode analyzeCheckpoint} returns: the measurements and their report. */
export interface CheckpointAnalysis {
  /** Per-loop measurements and the PCA. */
  result: DynamicsResult;
  /** The problems analysed. */
  problems: readonly TextProblem[];
  /** The report (`dynamics.json`). */
  report: Record<string, unknown>;
}

/** Checks an analysis before any work: the task, the problems and the memory of all loops. */
export async function prepareCheckpointAnalysis(
  checkpoint: string,
  weights: OpenedWeights,
  options: CheckpointAnalysisOptions,
): Promise<PreparedAnalysis> {
  const config = weights.config;
  const task = runTask(config, checkpoint);
  const set = await testProblems(options.data, config, task, options.samples, {
    skipUnfit: options.skipUnfit === true,
    checkpoint,
  });
  const memory = overLimit(
    dynamicsMemory(weights.model, set.problems.length, task.seqLen, options.loops),
    memoryLimit(options.backend),
    options.backend,
    (key) => `--${key}`,
  );
  if (memory) {
    throw new InputError(
      `analyze: ${set.problems.length} problems at ${options.loops} loops ${memory}`,
    );
  }
  return { checkpoint, weights, config, task, set, options };
}

/** Loads the weights, follows the problems through the loops, frees the weights. */
export async function analyzeCheckpoint(
  prepared: PreparedAnalysis,
  onLoop?: (t: number) => void,
): Promise<CheckpointAnalysis> {
  const { checkpoint, weights, config, task, set, options } = prepared;
  const model = await weights.load();
  let result: DynamicsResult;
  try {
    result = await modelDynamics(model, task, set.problems, options.loops, {
      rhoEvery: options.rhoEvery,
      rho: { maxIters: options.rhoIters },
      onLoop,
    });
  } finally {
    model.dispose();
  }
  const loops = options.loops;
  const report = {
    checkpoint,
    step: weights.step,
    train_loops: config.loops,
    loop_sampler: config.loop_sampler,
    data: options.data ?? "held-out",
    samples: set.problems.length,
    ...(options.skipUnfit ? { skipped_unfit: set.skipped.length } : {}),
    loops,
    positions: "answer positions, teacher-forced",
    pca_position: result.pcaPosition,
    pca_explained: result.pca.explained,
    points: result.points,
    pca: Array.from(
      { length: result.rows },
      (_, r) => result.pca.coords.slice(r * (loops + 1), (r + 1) * (loops + 1)),
    ),
  };
  return { result, problems: set.problems, report };
}
