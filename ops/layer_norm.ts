/**
 * LayerNorm as one tfjs op with a kernel per backend (`StarsLayerNorm`,
 * `StarsLayerNormGrad`) and gradients shared by all of them.
 *
 * Built from tfjs ops, a LayerNorm is about 10 kernels forward and 25
 * backward (moments, broadcasts and their reductions); the sandwich
 * placements run four per layer and loop. The fused op is one kernel
 * forward; backward, one kernel returns the input, gain and bias gradients.
 * Kernels: backends/wasm/layer_norm.ts and backends/webgpu/layer_norm.ts;
 * {@linkcode layerNorm} runs them where the active backend has them and
 * {@linkcode layerNormReference} elsewhere.
 *
 * Second order: the backward kernel's own gradient is written out in tfjs
 * ops (see `backwardGradient`), so derivatives of gradients (`jvpExact`, a
 * penalty on `J^T u`) stay exact. Only the first-order path is fused.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type KernelImpl, recordingGradients, registerOpKernels } from "./kernels.ts";

/** The forward kernel's name: inputs `x`, `gain`, `bias`; attribute `eps`; output `y`. */
export const LAYER_NORM = "StarsLayerNorm";
/**
 * The backward kernel's name: inputs `dy`, `x`, `gain` and optionally
 * `stats` (each row's mean and rstd from {@linkcode LAYER_NORM_WITH_STATS},
 * which a kernel may read instead of recomputing them); attribute `eps`;
 * outputs `[dx, dgain, dbias]`.
 */
export const LAYER_NORM_GRAD = "StarsLayerNormGrad";
/**
 * The forward kernel that also writes each row's mean and rstd: inputs and
 * attribute as {@linkcode LAYER_NORM}, outputs `y` and `stats` (`[rows, 2]`).
 * A backend may register it; {@linkcode layerNorm} then runs it when tfjs
 * records gradients, and the backward kernel reads the statistics.
 */
export const LAYER_NORM_WITH_STATS = "StarsLayerNormWithStats";

const FORWARD = LAYER_NORM;
const BACKWARD = LAYER_NORM_GRAD;

/**
 * The gradient of the backward kernel, from tfjs ops: for cotangents
 * `(a, bg, bb)` of `(dx, dgain, dbias)`, the derivatives of
 * `P = <a, dx> + <bg, sum(dy xhat)> + <bb, sum(dy)>` with respect to `dy`,
 * `x` and `gain`. With `S v = rstd (v - mean(v) - xhat mean(v xhat))` (the
 * Jacobian of `xhat`, symmetric) and `g = dy gain`, so that `dx = S g`:
 *
 * - `dP/ddy = gain S a + xhat bg + bb`
 * - `dP/dgain = sum(dy S a)` over rows
 * - `dP/dx = S(bg dy) - rstd (xhat mean(a dx) + mean(g xhat) S a + mean(a xhat) dx)`
 *
 * (Nested `tf.grad` inside a gradient would corrupt tfjs's tape, hence the
 * closed form; the tests check it against autodiff of the tfjs-op layer
 * norm.)
 */
function backwardGradient(
  dy: tf.Tensor,
  x: tf.Tensor,
  gain: tf.Tensor,
  [a, bg, bb]: tf.Tensor[],
  eps: number,
): { dy: tf.Tensor; x: tf.Tensor; gain: tf.Tensor } {
  const meanLast = (v: tf.Tensor) => tf.mean(v, -1, true);
  const { mean, variance } = tf.moments(x, -1, true);
  const rstd = tf.rsqrt(tf.add(variance, eps));
  const xhat = tf.mul(tf.sub(x, mean), rstd);
  const S = (v: tf.Tensor) =>
    tf.mul(tf.sub(tf.sub(v, meanLast(v)), tf.mul(xhat, meanLast(tf.mul(v, xhat)))), rstd);
  const g = tf.mul(dy, gain);
  const dx = S(g), sa = S(a);
  const rows = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const inner = tf.addN([
    tf.mul(xhat, meanLast(tf.mul(a, dx))),
    tf.mul(meanLast(tf.mul(g, xhat)), sa),
    tf.mul(meanLast(tf.mul(a, xhat)), dx),
  ]);
  return {
    dy: tf.addN([tf.mul(gain, sa), tf.mul(xhat, bg), tf.broadcastTo(bb, x.shape)]),
    x: tf.sub(S(tf.mul(bg, dy)), tf.mul(rstd, inner)),
    gain: tf.sum(tf.mul(dy, sa), rows),
  };
}

let gradientsRegistered = false;

/** Registers the op's gradients (idempotent; shared by every backend's kernels). */
export function registerLayerNormGradients(): void {
  if (gradientsRegistered) return;
  tf.registerGradient({
    kernelName: FORWARD,
    inputsToSave: ["x", "gain"],
    gradFunc: (dy, saved, attrs) => {
      const [x, gain] = saved;
      const [dx, dgain, dbias] = tf.engine().runKernel(
        BACKWARD,
        { dy: dy as tf.Tensor, x, gain },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      return { x: () => dx, gain: () => dgain, bias: () => dbias };
    },
  });
  tf.registerGradient({
    kernelName: BACKWARD,
    inputsToSave: ["dy", "x", "gain"],
    // `stats` are the statistics of this same x, so the x term is the whole
    // dependence on x; the statistics themselves (a saved constant) get none.
    gradFunc: (dys, [dy, x, gain], attrs) => {
      const eps = (attrs as unknown as { eps: number }).eps;
      const grads = backwardGradient(dy, x, gain, dys as tf.Tensor[], eps);
      return {
        dy: () => grads.dy,
        x: () => grads.x,
        gain: () => grads.gain,
        stats: () => tf.zeros([tf.util.sizeFromShape(x.shape) / x.shape[x.rank - 1], 2]),
      };
    },
  });
  gradientsRegistered = true;
}

/** Registers a backend's LayerNorm kernels and the op's gradients (idempotent). */
export function registerLayerNormKernels(
  backend: string,
  kernels: { forward: KernelImpl; backward: KernelImpl; forwardStats?: KernelImpl },
): void {
  registerOpKernels(backend, {
    [FORWARD]: kernels.forward,
    [BACKWARD]: kernels.backward,
    ...(kernels.forwardStats ? { [LAYER_NORM_WITH_STATS]: kernels.forwardStats } : {}),
  });
  registerLayerNormGradients();
}

// LayerNorm whose forward kernel also writes the rows' statistics, kept for
// the backward kernel (customGrad saves them); the backward kernel's own
// gradient keeps second derivatives exact.
function layerNormKeepingStats(
  x: tf.Tensor,
  gain: tf.Tensor,
  bias: tf.Tensor,
  eps: number,
): tf.Tensor {
  const attrs = { eps } as unknown as tf.NamedAttrMap;
  return tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, gs, bs, save] = inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const inputMap = { x: xs, gain: gs, bias: bs } as unknown as tf.NamedTensorMap;
    const [y, stats] = tf.engine().runKernel(LAYER_NORM_WITH_STATS, inputMap, attrs) as tf.Tensor[];
    save([xs, gs, stats]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [sx, sg, ss]: tf.Tensor[]) =>
        tf.engine().runKernel(BACKWARD, { dy, x: sx, gain: sg, stats: ss }, attrs) as tf.Tensor[],
    };
  })(x, gain, bias);
}

/** Whether the fused LayerNorm has kernels on the active backend. */
export function fusedLayerNormReady(): boolean {
  return tf.getKernel(FORWARD, tf.getBackend()) !== undefined;
}

/**
 * `(x - mean) / sqrt(var + eps) * gain + bias` over the last axis, as one
 * kernel (see the module notes); needs {@linkcode fusedLayerNormReady}.
 */
export function fusedLayerNorm(
  x: tf.Tensor,
  gain: tf.Tensor,
  bias: tf.Tensor,
  eps: number,
): tf.Tensor {
  if (recordingGradients() && tf.getKernel(LAYER_NORM_WITH_STATS, tf.getBackend())) {
    return layerNormKeepingStats(x, gain, bias, eps);
  }
  const inputs = { x, gain, bias } as unknown as tf.NamedTensorMap;
  return tf.engine().runKernel(FORWARD, inputs, { eps }) as tf.Tensor;
}

/** LayerNorm from tfjs ops: the reference the kernels are tested against. */
export function layerNormReference(
  x: tf.Tensor,
  gain: tf.Tensor,
  bias: tf.Tensor | undefined,
  eps: number,
): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  const scaled = tf.mul(y, gain);
  return bias ? tf.add(scaled, bias) : scaled;
}

/**
 * `(x - mean) / sqrt(var + eps) * gain + bias` over the last axis: one
 * fused kernel where the active backend registered one (with a bias),
 * {@linkcode layerNormReference} elsewhere.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { layerNorm } from "@stars/toolkit/ops";
 * const y = layerNorm(tf.tensor2d([[1, 3]]), tf.ones([2]), tf.zeros([2]), 0);
 * const [a, b] = y.dataSync();
 * if (Math.abs(a + 1) > 1e-6 || Math.abs(b - 1) > 1e-6) throw new Error("[1, 3] normalises to [-1, 1]");
 * ```
 */
export function layerNorm(
  x: tf.Tensor,
  gain: tf.Tensor,
  bias: tf.Tensor | undefined,
  eps: number,
): tf.Tensor {
  if (bias && fusedLayerNormReady()) return fusedLayerNorm(x, gain, bias, eps);
  return layerNormReference(x, gain, bias, eps);
}
