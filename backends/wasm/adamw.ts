/**
 * The wasm kernel of the fused AdamW update (ops/adamw.ts): the SIMD
 * kernel of `simd_adamw.ts` over whole groups of four floats, the same
 * update in JavaScript for the rest; both give the same bits.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  adamwArrays,
  type AdamWCoefficients,
  adamwFactors,
  registerAdamWKernel,
} from "../../ops/adamw.ts";
import { ADAMW_COEFFICIENTS, simdAdamW } from "./simd_adamw.ts";
import { offsetOf, perHeap, type WasmBackend } from "./heap.ts";

const simdOf = perHeap(simdAdamW);

function adamwKernel({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { param, grad, moment1, moment2, gradScale } = inputs as Record<string, tf.TensorInfo>;
  const wasm = backend as WasmBackend;
  const outputs = [param, moment1, moment2].map((t) => wasm.makeOutput(t.shape, "float32"));
  const coefficients = attrs as unknown as AdamWCoefficients;
  const count = tf.util.sizeFromShape(param.shape);
  // The SIMD kernel takes whole groups of four; the rest (and a heap without
  // the kernel) goes through the same update in JavaScript, bit for bit.
  const simd = simdOf(wasm);
  const lanes = simd ? count - (count % 4) : 0;
  if (lanes > 0) {
    const factors = wasm.makeOutput([ADAMW_COEFFICIENTS.length], "float32");
    const scale = wasm.typedArrayFromHeap(gradScale)[0];
    wasm.typedArrayFromHeap(factors).set(adamwFactors(scale, coefficients));
    const [p, g, m, v, np, nm, nv, f] = [param, grad, moment1, moment2, ...outputs, factors]
      .map((t) => offsetOf(wasm, t));
    simd!.update(p, g, m, v, np, nm, nv, f, lanes);
    wasm.disposeData(factors.dataId);
  }
  if (lanes < count) {
    // Views after makeOutput: growing the wasm heap detaches older views.
    const view = (t: tf.TensorInfo) =>
      (wasm.typedArrayFromHeap(t) as Float32Array).subarray(lanes, count);
    adamwArrays(
      [param, grad, moment1, moment2].map(view),
      wasm.typedArrayFromHeap(gradScale)[0],
      outputs.map(view),
      coefficients,
    );
  }
  return outputs;
}

/** Registers the fused AdamW's wasm kernel (idempotent). `useFastWasmKernels` calls it. */
export function registerWasmAdamW(): void {
  registerAdamWKernel("wasm", adamwKernel);
}
