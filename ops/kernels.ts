/**
 * The kernel registry's one entry point: each op file (gelu.ts,
 * layer_norm.ts, adamw.ts) names its kernels and registers its gradients
 * through this, and a backend passes only its implementations.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** A backend's implementation of one kernel (one output, or several). */
export type KernelImpl = (
  args: Parameters<tf.KernelFunc>[0],
) => tf.TensorInfo | tf.TensorInfo[];

/**
 * Registers `kernels` (kernel name -> implementation) for `backend`, each
 * once: a kernel the backend already has is kept, so calling again is
 * harmless.
 */
export function registerOpKernels(backend: string, kernels: Record<string, KernelImpl>): void {
  for (const [kernelName, impl] of Object.entries(kernels)) {
    if (tf.getKernel(kernelName, backend)) continue;
    tf.registerKernel({ kernelName, backendName: backend, kernelFunc: impl as tf.KernelFunc });
  }
}
