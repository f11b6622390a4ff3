/**
 * The backend flags and variables in one place: `--backend` /
 * `STARS_BACKEND`, `--blas` / `STARS_BLAS`, and the variables each backend
 * reads, all checked before any work.
 *
 * @module
 */
import { type BackendName, parseBackend } from "../backends/select.ts";
import { nativeBlasStatus, setNativeBlas } from "../backends/native/blas.ts";
import { wasmThreadsFromEnv } from "../backends/wasm/threads.ts";
import { webgpuMatMulFromEnv } from "../backends/webgpu/matmul.ts";
import { InputError } from "../utils/errors.ts";
import { UsageError } from "./usage_error.ts";

/**
 * The backend a `--backend` flag (or `STARS_BACKEND`) names, with the
 * backend's environment variables (`STARS_WASM_THREADS`,
 * `STARS_WEBGPU_MATMUL`) checked too, so a bad one stops before any work.
 */
export function backendFlag(text: string | undefined): BackendName {
  const fromEnv = text === undefined ? Deno.env.get("STARS_BACKEND") : undefined;
  let backend: BackendName;
  try {
    backend = parseBackend(text ?? fromEnv ?? "auto");
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new UsageError(`${text === undefined ? "STARS_BACKEND" : "--backend"}: ${e.message}`);
  }
  checkBackendEnv();
  return backend;
}

/**
 * Applies a `--blas on|off` flag (native matrix products on the wasm
 * backend where a BLAS is found, or the wasm kernels only); without the
 * flag `STARS_BLAS` decides. Checks `STARS_BLAS`, `STARS_THREADS` and
 * `STARS_BLAS_LIB` before any work.
 */
export function blasFlag(text: string | undefined): void {
  if (text !== undefined && text !== "on" && text !== "off") {
    throw new UsageError(`--blas: must be on or off, got "${text}"`);
  }
  if (text !== undefined) setNativeBlas(text === "off" ? "off" : "auto");
  nativeBlasStatus(); // a bad STARS_BLAS, STARS_THREADS or STARS_BLAS_LIB is an InputError
}

/** The `--blas` flag's help line. */
export const BLAS_HELP =
  "  --blas on|off      native matrix products (OpenBLAS through FFI) where found\n" +
  "                     (default on; or STARS_BLAS; STARS_THREADS sets its threads)";

/** Checks `STARS_WASM_THREADS` and `STARS_WEBGPU_MATMUL`; a bad value is a {@linkcode UsageError}. */
export function checkBackendEnv(): void {
  // Each throws an InputError naming the variable.
  wasmThreadsFromEnv();
  webgpuMatMulFromEnv();
}
