/**
 * Putting the toolkit's version of a tfjs-wasm kernel in place of tfjs's
 * own, with tfjs's kept for the cases the toolkit's does not take.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The arguments of a tfjs kernel function. */
export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Replaces a registered wasm kernel, keeping the original for the cases it still handles. */
export function replaceKernel(
  name: string,
  kernelFunc: (args: KernelArgs, original: tf.KernelFunc) => ReturnType<tf.KernelFunc>,
): void {
  const original = tf.getKernel(name, "wasm");
  if (!original) throw new Error(`wasm kernels: tfjs has no wasm kernel "${name}" to replace`);
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => kernelFunc(args, original.kernelFunc),
  });
}
