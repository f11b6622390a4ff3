/**
 * Jacobian-vector and vector-Jacobian products of a state map
 * `f: h -> f(h)` (for example one loop of the shared block, from
 * `LoopedLM.loopMap`), and which of them may be differentiated again with
 * respect to the model's parameters.
 *
 * tfjs's second-order gradients are silently wrong through ops whose
 * gradient reuses their forward output (softmax, exp, tanh, sigmoid, ...;
 * docs/design.md, section 2), and the attention softmax is one of them. So:
 *
 * | product | value | gradient w.r.t. parameters |
 * | --- | --- | --- |
 * | {@linkcode jvp} (central difference) | `J v + O(eps^2)` | right (first-order only) |
 * | {@linkcode vjp} (reverse mode) | exact `J^T u` | wrong through softmax |
 * | {@linkcode jvpExact} (double reverse mode) | exact `J v` | wrong through softmax |
 *
 * Differentiating {@linkcode vjp} or {@linkcode jvpExact} with respect to the
 * direction (`u`, `v`) or using their values is always right: only the
 * parameter (and state) derivatives go through the saved forward outputs.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { l2Norm } from "./l2_norm.ts";

/** A map from a state tensor to a state tensor of the same shape. */
export type StateMap = (h: tf.Tensor3D) => tf.Tensor3D;

/** The finite-difference step {@linkcode jvp} uses by default. */
export const DEFAULT_FD_EPS = 0.1;

const TINY = 1e-30;

/**
 * `J v`, with `J = df/dh` at `h`, by the central difference
 * `(f(h + s v) - f(h - s v)) / (2 s)` with `s = eps / ||v||`, so the state
 * moves by exactly `eps` in Euclidean norm over the whole tensor whatever
 * `||v||` is. Truncation error `O(eps^2)`; in float32, a step much below
 * 0.1 is dominated by rounding (errors grow as `1 / eps`).
 *
 * Built from two evaluations of `f` only, so its gradient with respect to
 * the parameters of `f` (and to `v`) needs first-order gradients alone and
 * is right on every backend: this is the product the training penalties
 * differentiate.
 */
export function jvp(
  f: StateMap,
  h: tf.Tensor3D,
  v: tf.Tensor,
  eps: number = DEFAULT_FD_EPS,
): tf.Tensor3D {
  if (!(eps > 0)) throw new RangeError(`jvp: eps must be > 0, got ${eps}`);
  return tf.tidy(() => {
    const step = tf.div(eps, tf.maximum(l2Norm(v), TINY));
    const dv = tf.mul(v, step);
    const diff = tf.sub(f(tf.add(h, dv) as tf.Tensor3D), f(tf.sub(h, dv) as tf.Tensor3D));
    return tf.div(diff, tf.mul(step, 2)) as tf.Tensor3D;
  });
}

/**
 * `J^T u`, exact, by reverse mode: the gradient of `<f(h), u>` with respect
 * to `h`. Its value is exact; differentiating it again with respect to the
 * parameters of `f` goes through tfjs second-order gradients and is wrong
 * through softmax (see the module notes), so the VJP-mode penalty only uses
 * its value.
 */
export function vjp(f: StateMap, h: tf.Tensor3D, u: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() =>
    tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor3D), u)) as tf.Scalar)(h)
  ) as tf.Tensor3D;
}

/**
 * `J v`, exact, by differentiating the (linear) map `u -> J^T u` of
 * {@linkcode vjp}: `J v = d/du <J^T u, v>`. The derivative is taken with
 * respect to `u` only, which never differentiates a saved forward output,
 * so the value is exact on every backend. For measurements (no parameter
 * gradient): its parameter gradient is as wrong as {@linkcode vjp}'s.
 */
export function jvpExact(f: StateMap, h: tf.Tensor3D, v: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const transposed = (u: tf.Tensor) => tf.sum(tf.mul(vjp(f, h, u), v)) as tf.Scalar;
    return tf.grad(transposed)(tf.zerosLike(h)) as tf.Tensor3D;
  });
}
