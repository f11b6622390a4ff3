/**
 * The wasm kernels of the fused LayerNorm (ops/layer_norm.ts): the SIMD
 * kernels of `simd_layer_norm.ts` where the width is a multiple of 4, else
 * passes over rows in float64 in JavaScript, on the wasm heap.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { registerLayerNormKernels } from "../../ops/layer_norm.ts";
import { float32Bits, simdLayerNorm } from "./simd_layer_norm.ts";
import { offsetOf, perHeap, type WasmBackend } from "./heap.ts";

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
 * The forward pass that also writes each row's mean and rstd (`[rows, 2]`)
 * for the backward pass to read. The JavaScript path keeps its float64
 * statistics to itself (its backward recomputes them): it writes them
 * rounded, for a reader's information only.
 */
function forwardStatsKernel(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { x, gain, bias } = args.inputs as Record<string, tf.TensorInfo>;
  const { eps } = args.attrs as unknown as { eps: number };
  const backend = args.backend as WasmBackend;
  const d = x.shape[x.shape.length - 1], rows = tf.util.sizeFromShape(x.shape) / d;
  const simd = d % 4 === 0 ? simdOf(backend) : null;
  if (!simd) {
    const y = forwardKernel(args), stats = backend.makeOutput([rows, 2], "float32");
    const [xs, out] = [x, stats].map((t) => backend.typedArrayFromHeap(t));
    const { mean, rstd } = rowStats(xs, rows, d, eps);
    for (let r = 0; r < rows; r++) [out[2 * r], out[2 * r + 1]] = [mean[r], rstd[r]];
    return [y, stats];
  }
  const y = backend.makeOutput(x.shape, "float32");
  const stats = backend.makeOutput([rows, 2], "float32");
  const [px, pg, pb, py, ps] = [x, gain, bias, y, stats].map((t) => offsetOf(backend, t));
  simd.forwardStats(px, pg, pb, py, ps, rows, d, float32Bits(eps));
  return [y, stats];
}

/**
 * Given `dy`: `dx = rstd * (g - mean(g) - xhat * mean(g * xhat))` with
 * `g = dy * gain`, and the gain and bias gradients summed over rows.
 */
function backwardKernel(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { dy, x, gain, stats } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  if (!dy || !x || !gain) throw new Error("StarsLayerNormGrad needs inputs dy, x and gain");
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
    if (stats) simd.backwardStats(pdy, px, pg, offsetOf(backend, stats), pdx, pdg, pdb, rows, d);
    else simd.backward(pdy, px, pg, pdx, pdg, pdb, rows, d, float32Bits(eps));
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
 * Registers the fused LayerNorm's wasm kernels and the op's gradients
 * (idempotent). `useBackend("wasm")` calls it through `useFastWasmKernels`.
 */
export function registerWasmLayerNorm(): void {
  registerLayerNormKernels("wasm", {
    forward: forwardKernel,
    backward: backwardKernel,
    forwardStats: forwardStatsKernel,
  });
}
