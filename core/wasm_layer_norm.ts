/**
 * LayerNorm as one tfjs kernel on the wasm backend, forward and backward.
 *
 * Built from tfjs ops, a LayerNorm is about 10 kernels forward and 25
 * backward (moments, broadcasts and their reductions); the sandwich
 * placements run four per layer and loop, so a bench-small training step
 * spent a quarter of its kernel launches on them. Here the forward is one
 * kernel and the backward another, which also returns the gain and bias
 * gradients: the SIMD kernels of `simd_layer_norm.ts` where the width is a
 * multiple of 4, else passes over rows in float64 in JavaScript.
 *
 * Second order: the backward kernel's own gradient is written out in tfjs
 * ops (see `backwardGradient`), so derivatives of gradients (`jvpExact`, a
 * penalty on `J^T u`) stay exact. Only the first-order path is fused.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { float32Bits, simdLayerNorm } from "./simd_layer_norm.ts";
import { offsetOf, perHeap, type WasmBackend } from "./wasm_heap.ts";

const FORWARD = "StarsLayerNorm";
const BACKWARD = "StarsLayerNormGrad";

const simdOf = perHeap(simdLayerNorm);

/** Per-row mean and reciprocal standard deviation of `x` read as `[rows, d]`. */
function rowStats(x: Float32Array, rows: number, d: number, eps: number) {
  const mean = new Float64Array(rows), rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let sum = 0;
    for (let i = 0; i < d; i++) sum += x[o + i];
    const mu = sum / d;
    let sq = 0;
    for (let i = 0; i < d; i++) sq += (x[o + i] - mu) ** 2;
    mean[r] = mu;
    rstd[r] = 1 / Math.sqrt(sq / d + eps);
  }
  return { mean, rstd };
}

/** `y = (x - mean) * rstd * gain + bias`, row by row. */
function forwardKernel(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, gain, bias } = args.inputs as Record<string, tf.TensorInfo>;
  const { eps } = args.attrs as unknown as { eps: number };
  const backend = args.backend as WasmBackend;
  const d = x.shape[x.shape.length - 1], rows = tf.util.sizeFromShape(x.shape) / d;
  const out = backend.makeOutput(x.shape, "float32");
  const simd = d % 4 === 0 ? simdOf(backend) : null;
  if (simd) {
    const [px, pg, pb, py] = [x, gain, bias, out].map((t) => offsetOf(backend, t));
    simd.forward(px, pg, pb, py, rows, d, float32Bits(eps));
    return out;
  }
  // Views after makeOutput: growing the wasm heap detaches older views.
  const [xs, g, b, y] = [x, gain, bias, out].map((t) => backend.typedArrayFromHeap(t));
  const { mean, rstd } = rowStats(xs, rows, d, eps);
  for (let r = 0; r < rows; r++) {
    const o = r * d, mu = mean[r], s = rstd[r];
    for (let i = 0; i < d; i++) y[o + i] = (xs[o + i] - mu) * s * g[i] + b[i];
  }
  return out;
}

/**
 * Given `dy`: `dx = rstd * (g - mean(g) - xhat * mean(g * xhat))` with
 * `g = dy * gain`, and the gain and bias gradients summed over rows.
 */
function backwardKernel(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { dy, x, gain } = args.inputs as Record<string, tf.TensorInfo>;
  const { eps } = args.attrs as unknown as { eps: number };
  const backend = args.backend as WasmBackend;
  const d = x.shape[x.shape.length - 1], rows = tf.util.sizeFromShape(x.shape) / d;
  const outs = [
    backend.makeOutput(x.shape, "float32"),
    backend.makeOutput([d], "float32"),
    backend.makeOutput([d], "float32"),
  ];
  const simd = d % 4 === 0 ? simdOf(backend) : null;
  if (simd) {
    const [pdy, px, pg, pdx, pdg, pdb] = [dy, x, gain, ...outs].map((t) => offsetOf(backend, t));
    simd.backward(pdy, px, pg, pdx, pdg, pdb, rows, d, float32Bits(eps));
    return outs;
  }
  const [dys, xs, g, dx, dgainOut, dbiasOut] = [dy, x, gain, ...outs].map((t) =>
    backend.typedArrayFromHeap(t)
  );
  const { mean, rstd } = rowStats(xs, rows, d, eps);
  const dgain = new Float64Array(d), dbias = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const o = r * d, mu = mean[r], s = rstd[r];
    let m1 = 0, m2 = 0;
    for (let i = 0; i < d; i++) {
      const xhat = (xs[o + i] - mu) * s, gi = dys[o + i] * g[i];
      m1 += gi;
      m2 += gi * xhat;
      dgain[i] += dys[o + i] * xhat;
      dbias[i] += dys[o + i];
    }
    m1 /= d;
    m2 /= d;
    for (let i = 0; i < d; i++) {
      const xhat = (xs[o + i] - mu) * s;
      dx[o + i] = s * (dys[o + i] * g[i] - m1 - xhat * m2);
    }
  }
  dgainOut.set(dgain);
  dbiasOut.set(dbias);
  return outs;
}

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

let registered = false;

/**
 * Registers the fused LayerNorm kernels and gradients for the wasm backend
 * (idempotent). `useBackend("wasm")` calls it through `useFastWasmKernels`.
 */
export function registerWasmLayerNorm(): void {
  if (registered) return;
  tf.registerKernel({ kernelName: FORWARD, backendName: "wasm", kernelFunc: forwardKernel });
  tf.registerKernel({
    kernelName: BACKWARD,
    backendName: "wasm",
    kernelFunc: backwardKernel as unknown as tf.KernelFunc,
  });
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
    gradFunc: (dys, [dy, x, gain], attrs) => {
      const eps = (attrs as unknown as { eps: number }).eps;
      const grads = backwardGradient(dy, x, gain, dys as tf.Tensor[], eps);
      return { dy: () => grads.dy, x: () => grads.x, gain: () => grads.gain };
    },
  });
  registered = true;
}

/** Whether the fused LayerNorm runs on the active backend. */
export function fusedLayerNormReady(): boolean {
  return registered && tf.getBackend() === "wasm";
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
  const inputs = { x, gain, bias } as unknown as tf.NamedTensorMap;
  return tf.engine().runKernel(FORWARD, inputs, { eps }) as tf.Tensor;
}
