/**
 * Backend selection: `auto | wasm | webgpu | cpu`.
 *
 * `auto` takes WebGPU only when the adapter is a real GPU (software adapters
 * such as Mesa's llvmpipe report `isFallbackAdapter`), and wasm otherwise,
 * because wasm is the fastest CPU path (docs/design.md, section 2).
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { useFastWasmKernels } from "./wasm/install.ts";
import { registerWebgpuAdamW } from "./webgpu/adamw.ts";
import { registerWebgpuGelu } from "./webgpu/gelu.ts";
import { registerWebgpuLayerNorm } from "./webgpu/layer_norm.ts";
import { registerWebgpuMatMul, webgpuMatMulFromEnv } from "./webgpu/matmul.ts";
import { useWasmThreads, wasmThreadsFromEnv } from "./wasm/threads.ts";
import { type BackendName, BACKENDS } from "./names.ts";
import { InputError } from "../utils/errors.ts";

export { type BackendName, BACKENDS };

let webgpuRegistered = false;

/** Folder URL holding the wasm binaries of the pinned tfjs-backend-wasm. */
function wasmFolder(): string {
  const entry = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
  return new URL("./", entry).href.replace(/^file:\/\//, "");
}

async function registerWebgpu(): Promise<void> {
  if (webgpuRegistered) return;
  ensureRuntimeDir();
  await import("@tensorflow/tfjs-backend-webgpu");
  // The toolkit's fused LayerNorm, GELU and AdamW kernels (WGSL), and its tiled
  // product where STARS_WEBGPU_MATMUL=toolkit asks for it.
  registerWebgpuLayerNorm();
  registerWebgpuGelu();
  registerWebgpuAdamW();
  if (webgpuMatMulFromEnv() === "toolkit") registerWebgpuMatMul();
  webgpuRegistered = true;
}

// Mesa's EGL/Vulkan loaders print an error on every adapter request when
// XDG_RUNTIME_DIR is unset (common on servers and in CI): give them one.
function ensureRuntimeDir(): void {
  if (Deno.build.os !== "linux" || Deno.env.get("XDG_RUNTIME_DIR")) return;
  try {
    const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/stars-runtime-${Deno.uid() ?? 0}`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // Only cosmetic: the adapter works without it.
  }
}

/** What the WebGPU adapter is, or null where there is none. */
export interface GpuAdapterSummary {
  /** The adapter's description (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)" or a GPU's name). */
  description: string;
  /** True for software adapters such as Mesa's llvmpipe. */
  isFallbackAdapter: boolean;
}

/** Describes the WebGPU adapter Deno would use, or returns null if none. */
export async function gpuAdapter(): Promise<GpuAdapterSummary | null> {
  ensureRuntimeDir();
  const gpu = (globalThis.navigator as { gpu?: GPU }).gpu;
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    return {
      description: info.description || info.vendor || "unknown",
      isFallbackAdapter: info.isFallbackAdapter ?? false,
    };
  } catch {
    return null;
  }
}

/** Whether a real (non-fallback) GPU adapter is available. */
export async function hasRealGpu(): Promise<boolean> {
  const adapter = await gpuAdapter();
  return adapter !== null && !adapter.isFallbackAdapter;
}

/** Parses a backend name, throwing a clear error for anything else. */
export function parseBackend(name: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(name)) return name as BackendName;
  throw new InputError(
    `unknown backend "${name}"; allowed: ${BACKENDS.join(", ")}`,
  );
}

/**
 * Activates a tfjs backend and returns the name of the one in use.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { useBackend } from "@stars/toolkit";
 * const name = await useBackend("wasm");
 * assertEquals(name, "wasm");
 * ```
 */
export async function useBackend(requested: BackendName = "auto"): Promise<string> {
  let name: string = requested;
  if (requested === "auto") name = (await hasRealGpu()) ? "webgpu" : "wasm";
  if (name === "wasm") {
    setWasmPaths(wasmFolder());
    // Opt-in (STARS_WASM_THREADS=N): the threaded build must start first.
    const threads = wasmThreadsFromEnv();
    if (threads > 1 && !("wasm" in tf.engine().registry)) await useWasmThreads(threads);
    useFastWasmKernels();
  }
  if (name === "webgpu") await registerWebgpu();
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`backend: could not initialise "${name}"`);
  }
  await tf.ready();
  return tf.getBackend();
}
