/**
 * A dense layer `x @ w + b` over the last axis of `x`, as one tfjs op with
 * a kernel per backend (`StarsDense`, `StarsDenseGrad`) and gradients shared
 * by all of them.
 *
 * From tfjs ops ({@linkcode denseReference}) a dense layer is a reshape, a
 * product, a bias add and a reshape forward, and twice as many kernels
 * backward; the model runs four a loop, so their dispatch adds up. A
 * backend's fused kernel is one call each way (backends/wasm/dense.ts:
 * native products, then the bias add; backward the two products and the
 * bias's column sums in one call) and computes what the reference computes
 * on that backend, bit for bit. {@linkcode dense} runs it where the active
 * backend has one ready, the reference elsewhere.
 *
 * Second order: the backward kernel is linear in its incoming gradient and
 * its gradient is written out in tfjs ops, so derivatives of gradients
 * (`jvpExact`) stay exact.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type KernelImpl, registerOpKernels } from "./kernels.ts";
import { matmul } from "./matmul.ts";

/** The forward kernel's name: inputs `x [..., k]`, `w [k, n]`, `b [n]`; output `[..., n]`. */
export const DENSE = "StarsDense";
/** The backward kernel's name: inputs `dy`, `x`, `w`; outputs `[dx, dw, db]`. */
export const DENSE_GRAD = "StarsDenseGrad";

const FORWARD = DENSE;
const BACKWARD = DENSE_GRAD;

/** `x @ w + b` over the last axis of `x`, for any leading shape, from tfjs ops. */
export function denseReference(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const lead = x.shape.slice(0, -1) as number[];
  const y = matmul(x.reshape([-1, x.shape[x.rank - 1]]), w);
  const out = b ? tf.add(y, b) : y;
  return out.reshape([...lead, w.shape[1] as number]);
}

/**
 * The backward kernel's gradient: for cotangents `(a, B, c)` of
 * `(dx, dw, db) = (dy w^T, x^T dy, sum_rows dy)`, the derivatives of
 * `<a, dx> + <B, dw> + <c, db>`: `a w + x B + c` in `dy`, `dy B^T` in `x`,
 * `a^T dy` in `w` (rows flattened).
 */
function backwardGradient(
  dy: tf.Tensor,
  x: tf.Tensor,
  w: tf.Tensor,
  [a, B, c]: tf.Tensor[],
): { dy: tf.Tensor; x: tf.Tensor; w: tf.Tensor } {
  const [k, n] = w.shape as [number, number];
  const [dy2, x2, a2] = [dy.reshape([-1, n]), x.reshape([-1, k]), a.reshape([-1, k])];
  const ddy = tf.add(tf.add(tf.matMul(a2, w), tf.matMul(x2, B)), c);
  return {
    dy: ddy.reshape(dy.shape),
    x: tf.matMul(dy2, B, false, true).reshape(x.shape),
    w: tf.matMul(a2, dy2, true, false),
  };
}

let gradientsRegistered = false;

/** Registers the op's gradients (idempotent; shared by every backend's kernels). */
export function registerDenseGradients(): void {
  if (gradientsRegistered) return;
  tf.registerGradient({
    kernelName: FORWARD,
    inputsToSave: ["x", "w"],
    gradFunc: (dy, [x, w]) => {
      const [dx, dw, db] = tf.engine().runKernel(
        BACKWARD,
        { dy: dy as tf.Tensor, x, w } as unknown as tf.NamedTensorMap,
      ) as tf.Tensor[];
      return { x: () => dx, w: () => dw, b: () => db };
    },
  });
  tf.registerGradient({
    kernelName: BACKWARD,
    inputsToSave: ["dy", "x", "w"],
    gradFunc: (cotangents, [dy, x, w]) => {
      const g = backwardGradient(dy, x, w, cotangents as tf.Tensor[]);
      return { dy: () => g.dy, x: () => g.x, w: () => g.w };
    },
  });
  gradientsRegistered = true;
}

const READY = new Map<string, () => boolean>();

/**
 * Registers a backend's dense kernels, with `ready` (read at every call:
 * whether they can run now, e.g. while a native BLAS is loaded), and the
 * op's gradients (idempotent).
 */
export function registerDenseKernels(
  backend: string,
  kernels: { forward: KernelImpl; backward: KernelImpl; ready: () => boolean },
): void {
  registerOpKernels(backend, { [FORWARD]: kernels.forward, [BACKWARD]: kernels.backward });
  if (!READY.has(backend)) READY.set(backend, kernels.ready);
  registerDenseGradients();
}

/** Whether {@linkcode dense} runs a fused kernel on the active backend now. */
export function fusedDenseReady(): boolean {
  return READY.get(tf.getBackend())?.() ?? false;
}

/**
 * `x @ w + b` over the last axis of `x`, for any leading shape: one fused
 * kernel each way where the active backend has one ready (and there is a
 * bias), {@linkcode denseReference} elsewhere.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { dense } from "@stars/toolkit/ops";
 * const y = dense(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]), tf.tensor1d([0.5]));
 * if (y.dataSync()[0] !== 11.5) throw new Error("1*3 + 2*4 + 0.5 is 11.5");
 * ```
 */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const fits = b !== undefined && x.rank >= 2 && w.rank === 2 && b.rank === 1 &&
    [x, w, b].every((t) => t.dtype === "float32");
  if (!fits || !fusedDenseReady()) return denseReference(x, w, b);
  return tf.engine().runKernel(FORWARD, { x, w, b } as unknown as tf.NamedTensorMap) as tf.Tensor;
}
