/**
 * The wasm kernel of the fused AdamW update (`adamw_op.ts`): one pass over
 * the heap's arrays in JavaScript (the update is a few hundred thousand
 * elements a step; the launches it replaces cost more than the loop).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { ADAMW, adamwArrays, type AdamWCoefficients } from "./adamw_op.ts";
import type { WasmBackend } from "./wasm_heap.ts";

function adamwKernel({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { param, grad, moment1, moment2, gradScale } = inputs as Record<string, tf.TensorInfo>;
  const wasm = backend as WasmBackend;
  const outputs = [param, moment1, moment2].map((t) => wasm.makeOutput(t.shape, "float32"));
  // Views after makeOutput: growing the wasm heap detaches older views.
  const view = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t);
  adamwArrays(
    [param, grad, moment1, moment2].map(view),
    view(gradScale)[0],
    outputs.map(view),
    attrs as unknown as AdamWCoefficients,
  );
  return outputs;
}

let registered = false;

/** Registers the fused AdamW's wasm kernel (idempotent). `useFastWasmKernels` calls it. */
export function registerWasmAdamW(): void {
  if (registered) return;
  tf.registerKernel({ kernelName: ADAMW, backendName: "wasm", kernelFunc: adamwKernel });
  registered = true;
}
