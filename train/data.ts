/**
 * What the trainer feeds the model: the model config a training config
 * implies, the loop spec, the batch of each step, and the held-out set.
 * Every batch depends only on (seed, step), so a resumed run sees the same
 * data as an uninterrupted one.
 */
import { mixSeed } from "../core/rng.ts";
import type { ModelConfig } from "../models/config.ts";
import type { LoopSpec } from "../regularizers/loop_sampler.ts";
import type { Op, Problem } from "../tasks/arithmetic.ts";
import { type Batch, encodeBatch, maxSeqLen } from "../tasks/batch.ts";
import { generateProblems } from "../tasks/generate.ts";
import {
  ARITHMETIC_TOKENIZER,
  type CharTokenizer,
  MULTIPLICATION_TOKENIZER,
} from "../tasks/tokenizer.ts";
import type { TrainConfig } from "./config.ts";

/** The operation of the configured task. */
export function taskOp(c: TrainConfig): Op {
  return c.task === "multiplication" ? "*" : "+";
}

/** The tokenizer of the configured task. */
export function taskTokenizer(c: Pick<TrainConfig, "task">): CharTokenizer {
  return c.task === "multiplication" ? MULTIPLICATION_TOKENIZER : ARITHMETIC_TOKENIZER;
}

/** The sequence length the task needs (16 for 4-digit addition). */
export function taskSeqLen(c: TrainConfig): number {
  const probe = generateProblems({
    digits: c.digits,
    count: 1,
    seed: 0,
    split: "train",
    op: taskOp(c),
  });
  return maxSeqLen(probe[0]);
}

/** The model config a training config describes. */
export function modelConfigOf(c: TrainConfig): ModelConfig {
  return {
    vocab_size: taskTokenizer(c).vocabSize,
    max_seq_len: taskSeqLen(c),
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
  switch (c.loop_sampler) {
    case "fixed":
      return { kind: "fixed", n: c.loops };
    case "lognormal":
      return {
        kind: "lognormal",
        mu: c.loop_mu,
        sigma: c.loop_sigma,
        min: c.loop_min,
        max: c.loop_max,
      };
    case "poisson":
      return { kind: "poisson", lambda: c.loop_lambda, min: c.loop_min, max: c.loop_max };
    case "uniform":
      return { kind: "uniform", min: c.loop_min, max: c.loop_max };
    case "poisson_lognormal":
      return {
        kind: "poisson_lognormal",
        mean: c.loop_mean,
        sigma: c.loop_sigma,
        backprop: c.loop_backprop,
        max: c.loop_max,
      };
  }
}

/** The training batch of one step, from the train split. */
export function trainBatch(c: TrainConfig, step: number): Batch {
  const problems = generateProblems({
    digits: c.digits,
    count: c.batch_size,
    seed: mixSeed(c.seed, step, 11),
    split: "train",
    op: taskOp(c),
    reverse: c.reverse,
  });
  return encodeBatch(problems, taskTokenizer(c), taskSeqLen(c));
}

/** The held-out problems (test split, distinct pairs) used for evaluation. */
export function heldOutProblems(c: TrainConfig): Problem[] {
  return generateProblems({
    digits: c.digits,
    count: c.eval_size,
    seed: mixSeed(c.seed, 12),
    split: "test",
    op: taskOp(c),
    reverse: c.reverse,
    unique: true,
  });
}
