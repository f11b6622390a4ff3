/**
 * What the trainer feeds the model: the task a training config names, the
 * model config and loop spec it implies, the batch of each step, and the
 * held-out set. Every batch depends only on (seed, step), so a resumed run
 * sees the same data as an uninterrupted one.
 */
import { mixSeed } from "../utils/rng.ts";
import { MODEL_KEYS, type ModelConfig } from "../models/config.ts";
import { type LoopSpec, loopSpecFromKeys } from "../regularizers/loop_sampler.ts";
import { type Batch, encodeBatch } from "../tasks/batch.ts";
import { taskFromKeys, type TaskKeys } from "../tasks/registry.ts";
import type { Task, TextProblem } from "../tasks/task.ts";
import { ConfigError, type TrainConfig } from "./config.ts";

/**
 * The task a training config names (the task registry, tasks/registry.ts):
 * arithmetic, math word problems (the generator with `steps_min`..`steps_max`
 * steps, or the file `data`, read synchronously), variable chains
 * (`chain_*` keys), or a registered task.
 */
export function taskOf(c: TaskKeys): Task {
  return taskFromKeys(c);
}

/**
 * The model config a training config describes, for its task. Its
 * positions are `max_seq_len`, or what the task needs when that is 0; fewer
 * than the task needs is a {@linkcode ConfigError}.
 */
export function modelConfigOf(c: TrainConfig, task: Task = taskOf(c)): ModelConfig {
  const positions = c.max_seq_len ?? 0;
  if (positions !== 0 && positions < task.seqLen) {
    throw new ConfigError(
      `config key "max_seq_len" must be 0 or at least the ${task.seqLen} positions task ` +
        `${task.name} needs, got ${positions}`,
    );
  }
  // Every model key as the run gives it, in MODEL_KEYS's order, after the two the task decides.
  const keys = Object.keys(MODEL_KEYS).filter((k) => k !== "max_seq_len")
    .map((k) => [k, c[k as keyof TrainConfig]]);
  return {
    vocab_size: task.tokenizer.vocabSize,
    max_seq_len: positions || task.seqLen,
    ...Object.fromEntries(keys),
  } as ModelConfig;
}

/** The loop-count sampler spec a training config describes. */
export function loopSpecOf(c: TrainConfig): LoopSpec {
  return loopSpecFromKeys(c.loop_sampler, c);
}

/** The training batch of one step, from the train split. */
export function trainBatch(c: TrainConfig, step: number, task: Task = taskOf(c)): Batch {
  const problems = task.sample("train", mixSeed(c.seed, step, 11), c.batch_size);
  return encodeBatch(problems, task.tokenizer, task.seqLen);
}

/** The held-out problems (test split, distinct) used for evaluation. */
export function heldOutProblems(c: TrainConfig, task: Task = taskOf(c)): TextProblem[] {
  return task.sample("test", mixSeed(c.seed, 12), c.eval_size, true);
}
