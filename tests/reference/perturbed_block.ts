/**
 * Test fixture: a small looped model whose shared block is perturbed far
 * from initialisation (qkv weights of std 0.5, so attention is far from
 * uniform, where tfjs's wrong second-order softmax gradient shows), a random
 * state, and float64 copies of both for the reference in
 * `looped_block_f64.ts`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../utils/rng.ts";
import { type ModelConfig, PAPER_MODEL } from "../../models/config.ts";
import { LoopedLM } from "../../models/looped.ts";
import type { ParamsF64 } from "./looped_block_f64.ts";

/** The fixture's model: d 8, 2 heads, d_ff 16, sandwich_dual LayerNorm. */
export const TINY_MODEL: ModelConfig = {
  ...PAPER_MODEL,
  d_model: 8,
  n_heads: 2,
  d_ff: 16,
  dropout: 0,
};

/** Batch and sequence length of the fixture's state. */
export const TINY_B = 2, TINY_T = 4;

/** A perturbed model, its state, and float64 copies. */
export interface PerturbedBlock {
  /** The model (create under the backend you test). */
  model: LoopedLM;
  /** A random state h [B, T, d], entries N(0, 1). */
  state: tf.Tensor3D;
  /** An embedded input (zeros; unused with injection `none`). */
  e: tf.Tensor3D;
  /** The parameters in float64. */
  params64: ParamsF64;
  /** The state in float64. */
  state64: Float64Array;
}

/**
 * Builds the fixture deterministically from `seed`: block weights
 * N(0, 0.3^2) (qkv N(0, 0.5^2)), norm gains 1 + N(0, 0.2^2), biases
 * N(0, 0.1^2). With `perturb` false the model stays at its initialisation.
 */
export async function perturbedBlock(
  seed = 7,
  perturb = true,
  config: ModelConfig = TINY_MODEL,
): Promise<PerturbedBlock> {
  const model = new LoopedLM(config, seed);
  const rng = new Rng(seed);
  if (perturb) {
    for (const [name, v] of model.params) {
      if (!name.startsWith("block.")) continue;
      const gain = name.endsWith(".gain");
      const bias = name.endsWith(".bias") || /\.b[a-z0-9]*$/.test(name);
      const std = name.endsWith(".wqkv") ? 0.5 : gain ? 0.2 : bias ? 0.1 : 0.3;
      const values = Array.from({ length: v.size }, () => (gain ? 1 : 0) + std * rng.normal());
      tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
    }
  }
  const d = config.d_model;
  const h = Array.from({ length: TINY_B * TINY_T * d }, () => rng.normal());
  const params64: ParamsF64 = new Map();
  for (const [name, v] of model.params) params64.set(name, Float64Array.from(await v.data()));
  return {
    model,
    state: tf.tensor3d(h, [TINY_B, TINY_T, d]),
    e: tf.zeros([TINY_B, TINY_T, d]),
    params64,
    state64: Float64Array.from(new Float32Array(h)),
  };
}
