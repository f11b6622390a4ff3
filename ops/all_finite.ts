/**
 * Whether every entry of a list of tensors is finite, as one op
 * (`StarsAllFinite`): a float32 scalar that is 0 when all are and NaN when
 * any entry is NaN or infinite. The optimiser asks it of every new
 * parameter and moment before keeping them (`train/adamw.ts`).
 *
 * Built from tfjs ops ({@linkcode nonFiniteFlagReference}) it is
 * `sum(x * 0)` per tensor and a sum of those (`0 * x` is 0 for every finite
 * `x` and NaN otherwise, and the sum cannot overflow): two kernels a tensor,
 * 121 a bench-small step for 60 tensors. A backend's kernel reads them all
 * in one call (backends/wasm/all_finite.ts); {@linkcode nonFiniteFlag} runs
 * it where the active backend has one, the reference elsewhere. Nothing
 * differentiates it, so no gradient is registered.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { assert, assertEquals } from "@std/assert";
 * import { nonFiniteFlag } from "@stars/toolkit/ops";
 * const [finite, broken] = tf.tidy(() => [
 *   nonFiniteFlag([tf.tensor([1, -2]), tf.tensor([[3e38]])]).dataSync()[0],
 *   nonFiniteFlag([tf.tensor([1, Infinity])]).dataSync()[0],
 * ]);
 * assertEquals(finite, 0);
 * assert(Number.isNaN(broken));
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type KernelImpl, registerOpKernels } from "./kernels.ts";

/** The kernel's name: any number of float32 inputs; output a float32 scalar, 0 or NaN. */
export const ALL_FINITE = "StarsAllFinite";

/** Registers a backend's kernel (idempotent). */
export function registerAllFiniteKernel(backend: string, kernel: KernelImpl): void {
  registerOpKernels(backend, { [ALL_FINITE]: kernel });
}

/** {@linkcode nonFiniteFlag} from tfjs ops: the reference the kernels are tested against. */
export function nonFiniteFlagReference(tensors: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    const zeros = tensors.map((x) => tf.sum(tf.mul(x, 0)));
    return zeros.length ? tf.sum(tf.stack(zeros)) : tf.scalar(0);
  });
}

/**
 * 0 when every entry of `tensors` is finite, NaN otherwise (see the module
 * notes): one kernel where the active backend registered one.
 */
export function nonFiniteFlag(tensors: tf.Tensor[]): tf.Scalar {
  if (tensors.length === 0 || !tf.getKernel(ALL_FINITE, tf.getBackend())) {
    return nonFiniteFlagReference(tensors);
  }
  return tf.engine().runKernel(ALL_FINITE, tensors as unknown as tf.NamedTensorMap) as tf.Scalar;
}
