/**
 * The wasm kernels of the fused GELU (ops/gelu.ts): the SIMD kernels of
 * `simd_gelu.ts` where the length is a multiple of 4, else a JavaScript loop
 * with the same formulas (erf by Abramowitz and Stegun 7.1.26).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { registerGeluKernels } from "../../ops/gelu.ts";
import { simdGelu } from "./simd_gelu.ts";
import { ERF_A, ERF_P } from "../../ops/erf.ts";
import { offsetOf, perHeap, type WasmBackend } from "./heap.ts";

const simdOf = perHeap(simdGelu);

/** Abramowitz and Stegun 7.1.26: `1 - erf(|z|)`, absolute error below 1.5e-7. */
function erfcAbs(z: number): number {
  const t = 1 / (1 + ERF_P * Math.abs(z));
  let inner = ERF_A[ERF_A.length - 1];
  for (let i = ERF_A.length - 2; i >= 0; i--) inner = ERF_A[i] + t * inner;
  return t * inner * Math.exp(-z * z);
}

/** `Phi(x)`, the standard normal distribution function. */
function normalCdf(x: number): number {
  const half = 0.5 * erfcAbs(x * Math.SQRT1_2);
  return x >= 0 ? 1 - half : half;
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** GELU's derivative `Phi(v) + v phi(v)`, in float64. */
function geluSlope(v: number): number {
  return normalCdf(v) + v * Math.exp(-0.5 * v * v) * INV_SQRT_2PI;
}

function forwardKernel(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x } = args.inputs as Record<string, tf.TensorInfo>;
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(x.shape, "float32");
  const count = tf.util.sizeFromShape(x.shape);
  const simd = count % 4 === 0 ? simdOf(backend) : null;
  if (simd) {
    simd.forward(offsetOf(backend, x), offsetOf(backend, out), count);
    return out;
  }
  // Views after makeOutput: growing the wasm heap detaches older views.
  const [xs, y] = [x, out].map((t) => backend.typedArrayFromHeap(t));
  for (let i = 0; i < count; i++) y[i] = xs[i] * normalCdf(xs[i]);
  return out;
}

// The forward pass that also writes the derivative (for a backward pass to read).
function forwardSlopeKernel(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { x } = args.inputs as Record<string, tf.TensorInfo>;
  const backend = args.backend as WasmBackend;
  const count = tf.util.sizeFromShape(x.shape);
  const simd = count % 4 === 0 ? simdOf(backend) : null;
  if (!simd) {
    // (The JavaScript backward recomputes in float64 and does not read this float32 slope.)
    const y = forwardKernel(args), slope = backend.makeOutput(x.shape, "float32");
    const [xs, s] = [x, slope].map((t) => backend.typedArrayFromHeap(t));
    for (let i = 0; i < count; i++) s[i] = geluSlope(xs[i]);
    return [y, slope];
  }
  const y = backend.makeOutput(x.shape, "float32");
  const slope = backend.makeOutput(x.shape, "float32");
  simd.forwardSlope(offsetOf(backend, x), offsetOf(backend, y), offsetOf(backend, slope), count);
  return [y, slope];
}

function backwardKernel(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { dy, x, slope } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  if (!dy || !x) throw new Error("StarsGeluGrad needs inputs dy and x");
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(x.shape, "float32");
  const count = tf.util.sizeFromShape(x.shape);
  const simd = count % 4 === 0 ? simdOf(backend) : null;
  if (simd && slope) {
    simd.scale(offsetOf(backend, dy), offsetOf(backend, slope), offsetOf(backend, out), count);
    return out;
  }
  if (simd) {
    simd.backward(offsetOf(backend, dy), offsetOf(backend, x), offsetOf(backend, out), count);
    return out;
  }
  const [dys, xs, dx] = [dy, x, out].map((t) => backend.typedArrayFromHeap(t));
  for (let i = 0; i < count; i++) dx[i] = dys[i] * geluSlope(xs[i]);
  return out;
}

/**
 * Registers the fused GELU's wasm kernels and the op's gradients
 * (idempotent). `useBackend("wasm")` calls it through `useFastWasmKernels`.
 */
export function registerWasmGelu(): void {
  registerGeluKernels("wasm", {
    forward: forwardKernel,
    backward: backwardKernel,
    forwardSlope: forwardSlopeKernel,
  });
}
