/**
 * The Hutchinson estimate of the Jacobian's squared Frobenius norm per state
 * entry, the Jacobian regulariser of deep equilibrium models (Bai et al.,
 * "Stabilizing Equilibrium Models by Jacobian Regularization", 2021).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { mixSeed } from "../utils/rng.ts";
import { DEFAULT_FD_EPS, jvp, type StateMap } from "./jacobian_products.ts";
import { type Probe, probe } from "./probes.ts";

/** Settings of {@linkcode hutchinsonFrobenius}. */
export interface HutchinsonOptions {
  /** Number of probe vectors averaged, an integer >= 1 (default 1). */
  samples?: number;
  /** Probe distribution (default `gaussian`, as in DEQ's code). */
  probe?: Probe;
  /** Central-difference step of the JVPs, in state norm (default 0.1). */
  eps?: number;
  /** Seed of the probes (default 0). */
  seed?: number;
}

/**
 * `R = (1 / (S D)) sum_s ||J z_s||^2`, an unbiased estimate of
 * `||J||_F^2 / D` (the mean squared singular value of `J`), where
 * `J = df/dh` at `h`, D is the number of state entries and `z_1..z_S` are
 * independent probes over the whole state with `E[z z^T] = I`: standard
 * normal (DEQ's choice) or Rademacher signs (lower variance). Each `J z`
 * is a central difference ({@linkcode jvp}), so the value's gradient with
 * respect to the parameters of `f` is right on every backend.
 *
 * (DEQ writes `||z^T J||^2`, a VJP; the expectation is the same, and the
 * JVP avoids tfjs's wrong second-order gradients.)
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { assertAlmostEquals } from "@std/assert";
 * import { useBackend } from "@stars/toolkit";
 * import { hutchinsonFrobenius } from "@stars/toolkit/regularizers";
 * await useBackend("wasm");
 * const h = tf.zeros([1, 4, 8]) as tf.Tensor3D;
 * const f = (x: tf.Tensor3D) => tf.mul(x, 0.5) as tf.Tensor3D;
 * const estimate = hutchinsonFrobenius(f, h, { samples: 4, seed: 1 }); // 0.286 here
 * assertAlmostEquals(estimate.dataSync()[0], 0.25, 0.05); // ||J||_F^2 / D = 0.5^2, within noise
 * ```
 */
export function hutchinsonFrobenius(
  f: StateMap,
  h: tf.Tensor3D,
  options: HutchinsonOptions = {},
): tf.Scalar {
  const samples = options.samples ?? 1;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new RangeError(`hutchinson: samples must be an integer >= 1, got ${samples}`);
  }
  const kind = options.probe ?? "gaussian";
  const seed = options.seed ?? 0;
  return tf.tidy(() => {
    let total: tf.Tensor = tf.scalar(0);
    for (let s = 0; s < samples; s++) {
      const z = probe(kind, h.shape, mixSeed(seed, s));
      total = tf.add(total, tf.sum(tf.square(jvp(f, h, z, options.eps ?? DEFAULT_FD_EPS))));
    }
    return tf.div(total, samples * h.size) as tf.Scalar;
  });
}
