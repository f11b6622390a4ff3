/**
 * GELU (exact form, `x Phi(x)`) as one tfjs op with a kernel per backend
 * (`StarsGelu`, `StarsGeluGrad`) and gradients shared by all of them.
 *
 * Built from tfjs ops ({@linkcode geluReference}), `0.5 x (1 + erf(x / sqrt 2))`
 * is 5 kernels forward and about 10 backward. Kernels: backends/wasm/gelu.ts
 * and backends/webgpu/gelu.ts; {@linkcode gelu} runs them where the active
 * backend has them and the reference elsewhere.
 *
 * Second order: the backward kernel's gradient with respect to its incoming
 * gradient is the backward kernel again, and with respect to `x` it is
 * `dy phi(x) (2 - x^2)` from tfjs ops, so derivatives of gradients stay exact.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type KernelImpl, recordingGradients, registerOpKernels } from "./kernels.ts";

/** The forward kernel's name: input `x`, output `x Phi(x)`. */
export const GELU = "StarsGelu";
/**
 * The backward kernel's name: inputs `dy`, `x` and optionally `slope` (the
 * derivative from {@linkcode GELU_WITH_SLOPE}, which a kernel may read
 * instead of recomputing it), output `dy (Phi(x) + x phi(x))`.
 */
export const GELU_GRAD = "StarsGeluGrad";
/**
 * The forward kernel that also writes the derivative: input `x`, outputs
 * `x Phi(x)` and `Phi(x) + x phi(x)`, with the bits the backward kernel
 * would compute. A backend may register it; {@linkcode gelu} then runs it
 * when tfjs records gradients, and the backward pass only multiplies.
 */
export const GELU_WITH_SLOPE = "StarsGeluWithSlope";

const FORWARD = GELU;
const BACKWARD = GELU_GRAD;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** `dy * gelu'(x)`, by the backward kernel (which may read `slope`, gelu'(x), if given). */
function geluGrad(dy: tf.Tensor, x: tf.Tensor, slope?: tf.Tensor): tf.Tensor {
  const inputs = slope ? { dy, x, slope } : { dy, x };
  return tf.engine().runKernel(BACKWARD, inputs as unknown as tf.NamedTensorMap) as tf.Tensor;
}

let gradientsRegistered = false;

/** Registers the op's gradients (idempotent; shared by every backend's kernels). */
export function registerGeluGradients(): void {
  if (gradientsRegistered) return;
  tf.registerGradient({
    kernelName: FORWARD,
    inputsToSave: ["x"],
    gradFunc: (dy, [x]) => ({ x: () => geluGrad(dy as tf.Tensor, x) }),
  });
  tf.registerGradient({
    kernelName: BACKWARD,
    inputsToSave: ["dy", "x"],
    // `slope` is gelu'(x) of this same x, so the x term below is the whole
    // dependence on x; `slope` itself (a saved constant) gets none.
    gradFunc: (w, [dy, x]) => ({
      slope: () => tf.zerosLike(x),
      dy: () => geluGrad(w as tf.Tensor, x),
      // gelu''(x) = phi(x) (2 - x^2)
      x: () => {
        const density = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), INV_SQRT_2PI);
        return tf.mul(tf.mul(w as tf.Tensor, dy), tf.mul(density, tf.sub(2, tf.square(x))));
      },
    }),
  });
  gradientsRegistered = true;
}

/** Registers a backend's GELU kernels and the op's gradients (idempotent). */
export function registerGeluKernels(
  backend: string,
  kernels: { forward: KernelImpl; backward: KernelImpl; forwardSlope?: KernelImpl },
): void {
  registerOpKernels(backend, {
    [FORWARD]: kernels.forward,
    [BACKWARD]: kernels.backward,
    ...(kernels.forwardSlope ? { [GELU_WITH_SLOPE]: kernels.forwardSlope } : {}),
  });
  registerGeluGradients();
}

// GELU whose forward kernel also writes the derivative, kept for the
// backward pass (customGrad saves it); the backward kernel's own gradient
// keeps second derivatives exact.
const geluKeepingSlope = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = inputs as [tf.Tensor, tf.GradSaveFunc];
  const [y, slope] = tf.engine().runKernel(
    GELU_WITH_SLOPE,
    { x } as unknown as tf.NamedTensorMap,
  ) as tf.Tensor[];
  save([x, slope]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, [sx, ss]: tf.Tensor[]) => [geluGrad(dy, sx, ss)],
  };
});

/** Whether the fused GELU has kernels on the active backend. */
export function fusedGeluReady(): boolean {
  return tf.getKernel(FORWARD, tf.getBackend()) !== undefined;
}

/** `x Phi(x)` as one kernel (see the module notes); needs {@linkcode fusedGeluReady}. */
export function fusedGelu(x: tf.Tensor): tf.Tensor {
  if (recordingGradients() && tf.getKernel(GELU_WITH_SLOPE, tf.getBackend())) {
    return geluKeepingSlope(x);
  }
  return tf.engine().runKernel(FORWARD, { x } as unknown as tf.NamedTensorMap) as tf.Tensor;
}

/**
 * GELU from tfjs ops, the exact erf form: tfjs's second-order gradient is
 * right through erf and wrong through the tanh approximation
 * (docs/design.md, section 2). The reference the kernels are tested against.
 */
export function geluReference(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/**
 * GELU, `x Phi(x)`: one fused kernel where the active backend registered
 * one, {@linkcode geluReference} elsewhere.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gelu } from "@stars/toolkit/ops";
 * const [y] = gelu(tf.tensor1d([0])).dataSync();
 * if (y !== 0) throw new Error("gelu(0) is 0");
 * ```
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return fusedGeluReady() ? fusedGelu(x) : geluReference(x);
}
