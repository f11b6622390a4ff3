/**
 * The wasm kernel of the all-finite flag (ops/all_finite.ts): one pass in
 * JavaScript over every input's floats on the heap, `0 * x` summed in
 * float64, which is 0 exactly when every entry is finite.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { registerAllFiniteKernel } from "../../ops/all_finite.ts";
import type { WasmBackend } from "./heap.ts";

function allFiniteKernel({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const out = wasm.makeOutput([], "float32");
  let flag = 0;
  // Views after makeOutput: growing the wasm heap detaches older views.
  for (const x of Object.values(inputs) as tf.TensorInfo[]) {
    const values = wasm.typedArrayFromHeap(x);
    for (let i = 0; i < values.length; i++) flag += values[i] * 0;
  }
  wasm.typedArrayFromHeap(out)[0] = flag;
  return out;
}

/** Registers the all-finite flag's wasm kernel (idempotent). `useFastWasmKernels` calls it. */
export function registerWasmAllFinite(): void {
  registerAllFiniteKernel("wasm", allFiniteKernel);
}
