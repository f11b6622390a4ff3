/**
 * The STARS training penalty: `K` power-iteration steps on the Jacobian of
 * the loop map at the (detached) final state, `R = ||u_K||^2`, with a
 * gradient with respect to the parameters that flows through every
 * iteration, normalisations included, and that is right on every backend
 * (it never differentiates a tfjs gradient again).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { l2Norm } from "./l2_norm.ts";
import { DEFAULT_FD_EPS, jvp, type StateMap, vjp } from "./jacobian_products.ts";
import { randomUnitVector } from "./probes.ts";
import { stopGradient } from "./stop_gradient.ts";

/** The product a power iteration applies: `J v` or `J^T v`. */
export const POWER_MODES = ["jvp", "vjp"] as const;
/** One of {@linkcode POWER_MODES}. */
export type PowerMode = typeof POWER_MODES[number];

/** Settings of {@linkcode powerIterationPenalty}. */
export interface PowerPenaltyOptions {
  /** Power-iteration steps K, an integer >= 1 (default 1). */
  iters?: number;
  /** `jvp` iterates `u = J v`, `vjp` iterates `u = J^T v` (default `jvp`). */
  mode?: PowerMode;
  /** Central-difference step of the JVPs, in state norm (default 0.1). */
  eps?: number;
  /** Seed of the random start vector (default 0). */
  seed?: number;
  /**
   * The map of iteration k (1..K) instead of `f`, e.g. with dropout on and
   * fresh masks per iteration (every product of one iteration uses the same).
   */
  maps?: (k: number) => StateMap;
}

/** What {@linkcode powerIterationPenalty} returns. */
export interface PowerPenalty {
  /** `R = ||u_K||^2`, carrying the gradient with respect to the parameters of `f`. */
  value: tf.Scalar;
  /** `||u_K||`, the K-step estimate of the spectral radius (no gradient). */
  rho: tf.Scalar;
}

const TINY = 1e-30;

function unit(u: tf.Tensor): tf.Tensor {
  return tf.div(u, tf.maximum(l2Norm(u), TINY));
}

/**
 * K power-iteration steps from one random unit vector `v_0` over the whole
 * state tensor (seeded): `u_k = J v_{k-1}` (or `J^T v_{k-1}`),
 * `v_k = u_k / ||u_k||`, and `R = ||u_K||^2`.
 *
 * What it estimates: with K = 1, `E[R] = ||J||_F^2 / D` (D = number of state
 * entries, the Hutchinson Frobenius estimate); as K grows, `||u_K||` tends to
 * the spectral radius `rho(J)` (to the modulus of the dominant eigenvalue
 * when it is real, or a pair of complex eigenvalues of a normal block), so R
 * tends to `rho(J)^2`.
 *
 * Gradient formulation (the state `h` is a constant; only the parameters of
 * `f` are differentiated):
 *
 * - `jvp` mode: each `J v` is a central difference of `f`
 *   ({@linkcode jvp}), and the whole chain, normalisations included, is
 *   differentiated by ordinary first-order reverse mode.
 * - `vjp` mode: the values `u_k = J^T v_{k-1}` are exact reverse-mode
 *   products, computed behind a gradient barrier. The gradient is then
 *   assembled by hand: with adjoints `a_K = 2 u_K` and
 *   `a_{k-1} = (I - v_{k-1} v_{k-1}^T) J a_k / ||u_{k-1}||`, it is the gradient of
 *   the surrogate `S = sum_k <v_{k-1}, J a_k>` with `v`, `a` held constant
 *   (because `<a, J^T v> = <v, J a>`), and each `J a_k` is again a central
 *   difference. The returned value is `R + S - stop(S)`: the value of R
 *   with the gradient of S, which equals dR/dtheta up to the O(eps^2) of the
 *   differences. A naive double reverse mode would be wrong through the
 *   attention softmax.
 *
 * Cost per step: `jvp` mode 2K evaluations of `f` (and their backward);
 * `vjp` mode K reverse-mode products plus 2K evaluations of `f`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { assertAlmostEquals } from "@std/assert";
 * import { powerIterationPenalty, useBackend } from "@stars/toolkit";
 * await useBackend("wasm");
 * const h = tf.randomNormal([1, 2, 3]) as tf.Tensor3D;
 * const f = (x: tf.Tensor3D) => tf.mul(x, 0.5) as tf.Tensor3D;
 * const { value, rho } = powerIterationPenalty(f, h, { iters: 3, mode: "jvp", seed: 1 });
 * assertAlmostEquals(rho.dataSync()[0], 0.5, 1e-4); // rho(J) of J = 0.5 I
 * assertAlmostEquals(value.dataSync()[0], 0.25, 1e-4); // rho^2
 * ```
 */
export function powerIterationPenalty(
  f: StateMap,
  h: tf.Tensor3D,
  options: PowerPenaltyOptions = {},
): PowerPenalty {
  const iters = options.iters ?? 1;
  if (!Number.isInteger(iters) || iters < 1) {
    throw new RangeError(`penalty: iters must be an integer >= 1, got ${iters}`);
  }
  const mode = options.mode ?? "jvp";
  if (!POWER_MODES.includes(mode)) {
    throw new RangeError(`penalty: mode must be one of ${POWER_MODES.join(", ")}`);
  }
  const eps = options.eps ?? DEFAULT_FD_EPS;
  return tf.tidy(() => {
    const v0 = randomUnitVector(h.shape, options.seed ?? 0);
    const at = options.maps ?? (() => f);
    const value = mode === "jvp"
      ? jvpPower(at, h, v0, iters, eps)
      : vjpPower(at, h, v0, iters, eps);
    return { value, rho: stopGradient(tf.sqrt(value)) };
  });
}

function jvpPower(
  f: (k: number) => StateMap,
  h: tf.Tensor3D,
  v0: tf.Tensor,
  iters: number,
  eps: number,
): tf.Scalar {
  let v = v0;
  let u: tf.Tensor = v0;
  for (let k = 1; k <= iters; k++) {
    u = jvp(f(k), h, v, eps);
    if (k < iters) v = unit(u);
  }
  return tf.sum(tf.square(u));
}

function vjpPower(
  f: (k: number) => StateMap,
  h: tf.Tensor3D,
  v0: tf.Tensor,
  iters: number,
  eps: number,
): tf.Scalar {
  // Forward: exact values, constants to the tape.
  const vs: tf.Tensor[] = [v0];
  const norms: tf.Tensor[] = [];
  let u: tf.Tensor = v0;
  for (let k = 1; k <= iters; k++) {
    u = stopGradient(vjp(f(k), h, vs[k - 1]));
    if (k < iters) {
      const n = tf.maximum(l2Norm(u), TINY);
      norms.push(n);
      vs.push(tf.div(u, n));
    }
  }
  const r = tf.sum(tf.square(u));
  // Backward by hand: the surrogate S whose parameter gradient is dR/dtheta.
  let adjoint = tf.mul(u, 2);
  let s: tf.Tensor = tf.scalar(0);
  for (let k = iters; k >= 1; k--) {
    const ja = jvp(f(k), h, adjoint, eps); // J a_k, differentiable in theta
    const v = vs[k - 1];
    s = tf.add(s, tf.sum(tf.mul(v, ja)));
    if (k > 1) {
      const vBar = stopGradient(ja);
      adjoint = tf.div(tf.sub(vBar, tf.mul(v, tf.sum(tf.mul(v, vBar)))), norms[k - 2]);
    }
  }
  return tf.add(r, tf.sub(s, stopGradient(s))) as tf.Scalar;
}
