/**
 * The backends: choosing one (`useBackend`, also in the main entry), and
 * the kernels each registers into the ops layer (`@stars/toolkit/ops`):
 * wasm (SIMD kernels, threads, copies), the native BLAS the wasm backend's
 * products run on where it is found, and WebGPU (WGSL kernels).
 *
 * ```ts
 * import { BACKENDS, useBackend } from "@stars/toolkit/backends";
 * if (!BACKENDS.includes("wasm")) throw new Error("wasm is a backend");
 * if ((await useBackend("wasm")) !== "wasm") throw new Error("wasm starts");
 * ```
 *
 * @module
 */
export {
  type BackendName,
  BACKENDS,
  gpuAdapter,
  type GpuAdapterSummary,
  hasRealGpu,
  parseBackend,
  useBackend,
} from "./select.ts";
export {
  MAX_WASM_THREADS,
  useWasmThreads,
  WASM_THREADS_ENV,
  wasmKernelThreads,
  wasmThreadsFromEnv,
} from "./wasm/threads.ts";
export { useFastWasmKernels } from "./wasm/install.ts";
export { setWasmProductOptions, type WasmProductOptions } from "./wasm/matmul.ts";
export { fusedAttentionFromEnv } from "./wasm/attention.ts";
export { SIMD_MATMUL_SIGNATURES, type SimdMatMul, simdMatMul } from "./wasm/simd_matmul.ts";
export type { KernelExports, NumberArgs, Signature } from "./wasm/asm.ts";
export { registerWebgpuMatMul, WEBGPU_MATMUL_ENV, webgpuMatMulFromEnv } from "./webgpu/matmul.ts";
export { nativeBlasStatus, type ProductPath, productPathLine } from "./native/blas.ts";
