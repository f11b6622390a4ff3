/**
 * The kernel registry's one entry point: each op file (gelu.ts,
 * layer_norm.ts, adamw.ts) names its kernels and registers its gradients
 * through this, and a backend passes only its implementations.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * A backend's implementation of one kernel: a tfjs kernel function (it takes
 * tfjs's `{ inputs, backend, attrs }` and returns one `TensorInfo` or
 * several), typed loosely so that backends keep their own argument types.
 */
export type KernelImpl = (args: never) => unknown;

/**
 * Registers `kernels` (kernel name -> implementation) for `backend`, each
 * once: a kernel the backend already has is kept, so calling again is
 * harmless.
 */
export function registerOpKernels(backend: string, kernels: Record<string, KernelImpl>): void {
  for (const [kernelName, impl] of Object.entries(kernels)) {
    if (tf.getKernel(kernelName, backend)) continue;
    tf.registerKernel({
      kernelName,
      backendName: backend,
      kernelFunc: impl as unknown as tf.KernelFunc,
    });
  }
}

/**
 * Whether tfjs is recording gradients of the ops run now (its tape is on):
 * an op may then run a forward kernel that also keeps what its backward
 * kernel would otherwise recompute.
 */
export function recordingGradients(): boolean {
  const state = tf.engine().state;
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}
