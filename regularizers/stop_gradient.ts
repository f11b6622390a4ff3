/**
 * A gradient barrier for tfjs, which has no `stopGradient` op.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Returns a copy of `x` that every gradient tape treats as a constant: the
 * copy is made inside a `tf.customGrad` call that takes no tensor inputs, so
 * the tape node it leaves has no inputs and `tf.grad`/`tf.variableGrads`
 * prune everything behind it (no zero gradients are propagated through the
 * graph that produced `x`, which is what a zero-gradient identity would do).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { useBackend } from "@stars/toolkit";
 * import { stopGradient } from "@stars/toolkit/regularizers";
 * await useBackend("wasm");
 * const w = tf.variable(tf.scalar(3));
 * // d/dw [stop(w^2) * w] = w^2 = 9, not 3 w^2 = 27
 * const { grads } = tf.variableGrads(() => tf.mul(stopGradient(tf.square(w)), w) as tf.Scalar, [w]);
 * if (grads[w.name].dataSync()[0] !== 9) throw new Error("the stopped factor has no gradient");
 * ```
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const barrier = tf.customGrad(() => ({
    // Ops run inside a customGrad forward are not recorded on the tape.
    value: tf.add(x, 0),
    gradFunc: () => [],
  })) as unknown as () => tf.Tensor;
  return barrier() as T;
}
