/**
 * The Euclidean norm of a whole tensor, `sqrt(sum(x^2))`, as one scalar.
 *
 * Not `tf.norm`: that squares by `Pow(|x|, 2)`, which tfjs-wasm computes
 * with a scalar `powf` (about 15 ns an element, 1.9 ms on a bench-small
 * state, twice per penalty step) that rounds differently from `x * x` in
 * about 7 of 10 000 elements. `tf.square` is exact-then-rounded, SIMD and
 * fast; on the cpu backend both give the same bits.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { assertEquals } from "@std/assert";
 * import { l2Norm } from "@stars/toolkit/regularizers";
 * assertEquals(l2Norm(tf.tensor([3, -4])).dataSync()[0], 5);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** `||x||_2` over all entries of `x`. */
export function l2Norm(x: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(x))));
}
