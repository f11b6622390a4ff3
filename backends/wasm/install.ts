/**
 * The wasm backend's kernels: faster versions of eight tfjs-wasm kernels in
 * place of tfjs's own (copies.ts, sum.ts, matmul.ts), each removing a cost
 * the profile of a training step showed (docs/performance.md), and the
 * toolkit's fused LayerNorm, GELU, AdamW, attention and dense layer and the
 * all-finite flag (layer_norm.ts, gelu.ts, adamw.ts, attention.ts, dense.ts,
 * all_finite.ts) registered into the ops layer.
 *
 * Results equal tfjs's own kernels within float32 rounding (the order of
 * additions differs); `tests/backends/wasm_kernels.test.ts` compares them.
 *
 * @module
 */
import { registerWasmAdamW } from "./adamw.ts";
import { registerWasmAllFinite } from "./all_finite.ts";
import { registerWasmAttention } from "./attention.ts";
import { registerWasmDense } from "./dense.ts";
import { replaceCopyKernels } from "./copies.ts";
import { registerWasmGelu } from "./gelu.ts";
import { registerWasmLayerNorm } from "./layer_norm.ts";
import { replaceProductKernel } from "./matmul.ts";
import { replaceSumKernel } from "./sum.ts";

let installed = false;

/**
 * Installs the wasm backend's kernels (see the module notes). Values are
 * unchanged within float32 rounding (tests compare them with the cpu
 * backend); idempotent; call before or after the backend starts.
 * `useBackend("wasm")` calls it.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { assertEquals } from "@std/assert";
 * import { useBackend, useFastWasmKernels } from "@stars/toolkit/backends";
 * useFastWasmKernels();
 * useFastWasmKernels(); // idempotent: the second call changes nothing
 * await useBackend("wasm");
 * assertEquals(tf.tidy(() => tf.sum([1, 2, 3, 4]).dataSync()[0]), 10); // the toolkit's Sum
 * ```
 */
export function useFastWasmKernels(): void {
  if (installed) return;
  replaceCopyKernels();
  replaceSumKernel();
  replaceProductKernel();
  registerWasmLayerNorm();
  registerWasmGelu();
  registerWasmAdamW();
  registerWasmAllFinite();
  registerWasmAttention();
  registerWasmDense();
  installed = true;
}
