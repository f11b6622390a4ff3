/**
 * The memory a training step needs (models/memory.ts has the pieces):
 * parameters with their gradients and AdamW's two moments, and the
 * activations the gradient tape keeps for every backpropagated loop.
 *
 * @module
 */
import type { ModelConfig } from "../models/config.ts";
import {
  ioFloats,
  layerFloats,
  type MemoryEstimate,
  memoryEstimate,
  paramCount,
} from "../models/memory.ts";
import { penaltyEvaluations } from "../regularizers/penalty_options.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "./config.ts";

/** The most loops a training step backpropagates through under a config. */
export function backpropLoops(t: TrainConfig): number {
  let loops: number;
  if (t.loop_sampler === "fixed") loops = t.loops;
  else if (t.loop_sampler === "poisson_lognormal") loops = t.loop_backprop;
  else loops = t.loop_max;
  // The penalty's power iteration evaluates the loop again, 2 per step (JVP).
  if (t.reg_weight > 0) loops += penaltyEvaluations(t);
  return loops;
}

/**
 * The memory of one training step: parameters x 4 (weights, gradients,
 * AdamW's m and v) plus activations for `batch_size` rows of `max_seq_len`
 * positions through every backpropagated loop (x 4 for the backward
 * pass and the tape's own copies, as measured on wasm), plus the embedding
 * and read-out.
 */
export function trainingMemory(t: TrainConfig, m: ModelConfig): MemoryEstimate {
  const rows = t.batch_size, len = m.max_seq_len;
  const layers = m.prelude_layers + m.coda_layers + backpropLoops(t) * m.n_layers;
  const loopKey = t.loop_sampler === "fixed"
    ? "loops"
    : t.loop_sampler === "poisson_lognormal"
    ? "loop_backprop"
    : "loop_max";
  return memoryEstimate([
    {
      what: "parameters, gradients and AdamW moments",
      bytes: 16 * paramCount(m),
      key: largest(t, ["d_model", "d_ff", "n_layers", "prelude_layers", "coda_layers"], "d_model"),
    },
    {
      what: `activations (${rows} rows x ${len} positions x ${layers} layer passes)`,
      bytes: 4 * 4 * rows * len * layers * layerFloats(m, len),
      key: largest(t, ["batch_size", "d_model", "d_ff", loopKey, "n_layers"], "batch_size"),
    },
    {
      what: `embedding and read-out (${rows} rows x ${len} positions x ${m.vocab_size} tokens)`,
      bytes: 2 * 4 * rows * len * ioFloats(m),
      key: t.tokenizer === "bpe" && t.task === "gsm8k-synthetic"
        ? "batch_size (or use tokenizer char)"
        : "batch_size",
    },
  ]);
}

// The key furthest above its default (the likeliest culprit), with its value.
function largest(t: TrainConfig, keys: (keyof TrainConfig)[], fallback: string): string {
  const ratio = (k: keyof TrainConfig) =>
    (t[k] as number) / Math.max(1, DEFAULT_CONFIG[k] as number);
  const top = [...keys].sort((a, b) => ratio(b) - ratio(a))[0];
  const key = ratio(top) > 1 ? top : fallback;
  return `${key} (${t[key as keyof TrainConfig]})`;
}
