/**
 * The wasm kernels of the fused dense layer (ops/dense.ts), ready while the
 * native BLAS is loaded: forward `cblas_sgemm` then the bias added row by
 * row (`simd_bias.ts`); backward `dx = dy w^T` and `dw = x^T dy` by
 * `cblas_sgemm` with transpose flags and `db` by the column sums of `Sum`'s
 * replacement (`sum.ts`). These are the calls the reference makes on this
 * backend (`matmul.ts`'s native products, an add, a sum), so the results
 * are the same bits, in one kernel call each way.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { registerDenseKernels } from "../../ops/dense.ts";
import { nativeBlas } from "../native/blas.ts";
import { heapOf, offsetOf, perHeap, type WasmBackend } from "./heap.ts";
import { simdBias } from "./simd_bias.ts";
import { sumRows } from "./sum.ts";

const biasOf = perHeap(simdBias);

function blasOn(backend: WasmBackend) {
  const blas = nativeBlas(), memory = heapOf(backend);
  if (!blas || !memory) throw new Error("wasm dense: called without the native BLAS loaded");
  return { blas, memory };
}

function forwardKernel(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, w, b } = args.inputs as Record<string, tf.TensorInfo>;
  const backend = args.backend as WasmBackend;
  const [k, n] = w.shape, rows = x.shape.slice(0, -1).reduce((p, s) => p * s, 1);
  const out = backend.makeOutput([...x.shape.slice(0, -1), n], "float32");
  const { blas, memory } = blasOn(backend);
  const [px, pw, pb, py] = [x, w, b, out].map((t) => offsetOf(backend, t));
  blas.sgemm(memory, false, false, rows, n, k, px, pw, py);
  const bias = n % 4 === 0 ? biasOf(backend) : null;
  if (bias) {
    bias.addRows(py, pb, rows, n);
  } else {
    const [y, bs] = [out, b].map((t) => backend.typedArrayFromHeap(t));
    for (let r = 0; r < rows; r++) for (let c = 0; c < n; c++) y[r * n + c] += bs[c];
  }
  return out;
}

function backwardKernel(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { dy, x, w } = args.inputs as Record<string, tf.TensorInfo>;
  const backend = args.backend as WasmBackend;
  const [k, n] = w.shape, rows = x.shape.slice(0, -1).reduce((p, s) => p * s, 1);
  const dx = backend.makeOutput(x.shape, "float32");
  const dw = backend.makeOutput(w.shape, "float32");
  const db = sumRows(dy, rows, backend, [n]);
  const { blas, memory } = blasOn(backend);
  const [pdy, px, pw, pdx, pdw] = [dy, x, w, dx, dw].map((t) => offsetOf(backend, t));
  blas.sgemm(memory, false, true, rows, k, n, pdy, pw, pdx);
  blas.sgemm(memory, true, false, k, n, rows, px, pdy, pdw);
  return [dx, dw, db];
}

/**
 * Registers the fused dense layer's wasm kernels and the op's gradients
 * (idempotent); they run while the native BLAS is loaded.
 * `useBackend("wasm")` calls it through `useFastWasmKernels`.
 */
export function registerWasmDense(): void {
  registerDenseKernels("wasm", {
    forward: forwardKernel,
    backward: backwardKernel,
    ready: () => nativeBlas() !== null,
  });
}
