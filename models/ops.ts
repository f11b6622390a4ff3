/**
 * Small tensor helpers the model is built from: the ops layer's dense
 * layer, and dropout and initial weights drawn from the toolkit's
 * own seeded generator (reproducible on every backend).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../utils/rng.ts";

export { dense } from "../ops/dense.ts";

/**
 * Inverted dropout with an explicit seed, so runs replay exactly. The mask
 * is drawn by the toolkit's own generator, not by tfjs: seeded `tf.random*`
 * ops are not reproducible on the WebGPU backend.
 */
export function dropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate <= 0) return x;
  const rng = new Rng(seed);
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < rate ? 0 : scale;
  return tf.mul(x, tf.tensor(mask, x.shape));
}

/**
 * Normal samples truncated to two standard deviations, from a seed, drawn
 * by the toolkit's own generator (reproducible on every backend).
 */
export function seededTruncatedNormal(shape: number[], std: number, seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) {
    let z = rng.normal();
    while (Math.abs(z) > 2) z = rng.normal();
    values[i] = z * std;
  }
  return tf.tensor(values, shape);
}
