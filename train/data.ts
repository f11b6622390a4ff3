/**
 * What the trainer feeds the model: the task a training config names, the
 * model config and loop spec it implies, the batch of each step, and the
 * held-out set. Every batch depends only on (seed, step), so a resumed run
 * sees the same data as an uninterrupted one.
 */
import { mixSeed } from "../utils/rng.ts";
import type { ModelConfig } from "../models/config.ts";
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
  return {
    vocab_size: task.tokenizer.vocabSize,
    max_seq_len: positions || task.seqLen,
    d_model: c.d_model,
    n_heads: c.n_heads,
    d_ff: c.d_ff,
    n_layers: c.n_layers,
    prelude_layers: c.prelude_layers,
    coda_layers: c.coda_layers,
    dropout: c.dropout,
    norm_placement: c.norm_placement,
    norm_type: c.norm_type,
    injection: c.injection,
    init_state: c.init_state,
    init_std: c.init_std,
  };
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
