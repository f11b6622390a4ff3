/**
 * A native BLAS (OpenBLAS, or Accelerate on macOS) through Deno's FFI, for
 * the wasm backend's matrix products: `cblas_sgemm` reads and writes
 * tfjs-wasm's heap in place (pointers into the `WebAssembly.Memory`, no
 * copies). WebAssembly's 128-bit SIMD caps the toolkit's own kernels at a
 * fraction of what AVX2 or AVX-512 reach; a native BLAS is how PyTorch
 * gets there too.
 *
 * Found on the usual paths (`libopenblas.so.0`, `libopenblas.so`,
 * `libopenblas.dylib`, Accelerate), or the one `STARS_BLAS_LIB` names. On
 * by default where found and Deno has FFI permission; `STARS_BLAS=off`
 * (or {@linkcode setNativeBlas}) turns it off. `STARS_THREADS` sets its
 * thread count (default: the machine's cores); with a fixed count its
 * results are deterministic. Where it is missing, products stay on the
 * toolkit's wasm kernels, and {@linkcode nativeBlasStatus} says why.
 *
 * @module
 */
import { InputError } from "../../utils/errors.ts";

/** Which path computes the wasm backend's matrix products, and why. */
export interface ProductPath {
  /** `native` (a BLAS through FFI) or `wasm` (the toolkit's SIMD kernels). */
  products: "native" | "wasm";
  /** The library loaded (native), e.g. `libopenblas.so.0`. */
  library?: string;
  /** The library's own description (OpenBLAS's build config), when it has one. */
  config?: string;
  /** BLAS threads (native). */
  threads?: number;
  /** Why products are not native (wasm). */
  reason?: string;
}

const SGEMM = {
  parameters: [
    "i32", // order
    "i32", // transA
    "i32", // transB
    "i32", // m
    "i32", // n
    "i32", // k
    "f32", // alpha
    "pointer", // a
    "i32", // lda
    "pointer", // b
    "i32", // ldb
    "f32", // beta
    "pointer", // c
    "i32", // ldc
  ],
  result: "void",
} as const;

const OPTIONAL = {
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
} as const;

const CANDIDATES = [
  "libopenblas.so.0",
  "libopenblas.so",
  "libopenblas.dylib",
  "/System/Library/Frameworks/Accelerate.framework/Accelerate",
];

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

/** A loaded BLAS: `c = op(a) op(b)` on float32 row-major matrices. */
export interface NativeBlas {
  /**
   * `c[m, n] = op(a) @ op(b)`, where `op` transposes where its flag is set;
   * `a`, `b`, `c` are byte addresses in `memory`, each matrix dense.
   */
  sgemm(
    memory: WebAssembly.Memory,
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: number,
    b: number,
    c: number,
  ): void;
  /** Sets the library's thread count, where it has the call. */
  setThreads?: (threads: number) => void;
  /** What was loaded. */
  path: ProductPath;
}

let choice: "auto" | "off" | undefined;
let loaded: { blas: NativeBlas | null; path: ProductPath } | undefined;

/**
 * Turns native products on (`auto`: where found) or `off`, overriding
 * `STARS_BLAS`. Call before the first product; later calls after a load
 * take effect for products from then on.
 */
export function setNativeBlas(mode: "auto" | "off"): void {
  if (mode !== choice) loaded = undefined;
  choice = mode;
}

/**
 * Sets the native BLAS's thread count from now on (OpenBLAS; a no-op for a
 * library without the call). Returns whether it could.
 */
export function setBlasThreads(threads: number): boolean {
  const blas = nativeBlas();
  if (!blas?.setThreads) return false;
  blas.setThreads(threads);
  return true;
}

/** The loaded BLAS, or null (then {@linkcode nativeBlasStatus} says why). */
export function nativeBlas(): NativeBlas | null {
  loaded ??= load();
  return loaded.blas;
}

/**
 * Which path computes the products, with the library and threads or the
 * reason for wasm, so a run can record it.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { nativeBlasStatus } from "@stars/toolkit/backends";
 * const { products, library, reason } = nativeBlasStatus(); // "native" or "wasm"
 * assert(products === "native" ? library !== undefined : reason !== undefined);
 * ```
 */
export function nativeBlasStatus(): ProductPath {
  loaded ??= load();
  return loaded.path;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no env permission: the defaults
  }
}

/** The thread count `STARS_THREADS` asks for (default: the machine's cores). */
export function blasThreads(): number {
  const text = env("STARS_THREADS");
  if (text === undefined || text === "") return navigator.hardwareConcurrency || 1;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 256) {
    throw new InputError(`STARS_THREADS must be an integer from 1 to 256, got "${text}"`);
  }
  return n;
}

// Each library is opened once per process and kept: turning native products
// off and on again (setNativeBlas) reuses it rather than opening it anew and
// dropping the old handle, whose release could unload OpenBLAS while its
// threads live.
const opened = new Map<string, ReturnType<typeof openLibrary>>();
const openLibrary = (library: string) => Deno.dlopen(library, { cblas_sgemm: SGEMM, ...OPTIONAL });
function openOnce(library: string): ReturnType<typeof openLibrary> {
  if (!opened.has(library)) opened.set(library, openLibrary(library));
  return opened.get(library)!;
}

function load(): { blas: NativeBlas | null; path: ProductPath } {
  const mode = choice ?? env("STARS_BLAS") ?? "auto";
  if (mode !== "auto" && mode !== "on" && mode !== "off") {
    throw new InputError(`STARS_BLAS must be on, auto or off, got "${mode}"`);
  }
  const wasm = (reason: string) => ({ blas: null, path: { products: "wasm", reason } as const });
  if (mode === "off") return wasm("turned off (--blas off or STARS_BLAS=off)");
  if (Deno.permissions.querySync?.({ name: "ffi" }).state !== "granted") {
    return wasm("no FFI permission (run with --allow-ffi or -A)");
  }
  const named = env("STARS_BLAS_LIB");
  const threads = blasThreads();
  const errors: string[] = [];
  // OpenBLAS starts its thread pool when loaded, sized by this variable
  // (default: every core); an unneeded pool of spinning threads slows a
  // busy machine, and its teardown at exit has crashed a test process.
  try {
    if (Deno.env.get("OPENBLAS_NUM_THREADS") === undefined) {
      Deno.env.set("OPENBLAS_NUM_THREADS", String(threads));
    }
  } catch {
    // no env permission: OpenBLAS's own default
  }
  for (const library of named ? [named] : CANDIDATES) {
    let lib;
    try {
      lib = openOnce(library);
    } catch (e) {
      errors.push(`${library}: ${(e as Error).message.split("\n")[0]}`);
      continue;
    }
    const s = lib.symbols;
    s.openblas_set_num_threads?.(threads);
    const configPointer = s.openblas_get_config?.();
    const config = configPointer ? Deno.UnsafePointerView.getCString(configPointer) : undefined;
    const setThreads = s.openblas_set_num_threads
      ? (n: number) => {
        s.openblas_set_num_threads!(n);
        blas.path.threads = n;
      }
      : undefined;
    const blas: NativeBlas = {
      setThreads,
      path: {
        products: "native",
        library,
        config,
        threads: s.openblas_set_num_threads ? threads : undefined,
      },
      sgemm(memory, transA, transB, m, n, k, a, b, c) {
        const heap = Deno.UnsafePointer.of(new Uint8Array(memory.buffer as ArrayBuffer));
        const at = (offset: number) => Deno.UnsafePointer.offset(heap!, offset);
        s.cblas_sgemm(
          ROW_MAJOR,
          transA ? TRANS : NO_TRANS,
          transB ? TRANS : NO_TRANS,
          m,
          n,
          k,
          1,
          at(a),
          transA ? m : k,
          at(b),
          transB ? k : n,
          0,
          at(c),
          n,
        );
      },
    };
    return { blas, path: blas.path };
  }
  if (named) throw new InputError(`STARS_BLAS_LIB: cannot load ${errors[0]}`);
  return wasm(`no BLAS library found (${errors.join("; ")})`);
}

/**
 * One line for a command's start: which path computes the products, and why
 * when it is not native.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { productPathLine } from "@stars/toolkit/backends";
 * const line = productPathLine({ products: "native", library: "libopenblas.so.0", threads: 2 });
 * assertEquals(line, "products native (libopenblas.so.0, 2 threads)");
 * ```
 */
export function productPathLine(path: ProductPath = nativeBlasStatus()): string {
  if (path.products === "wasm") return `products wasm SIMD (${path.reason})`;
  const threads = path.threads === undefined ? "" : `, ${path.threads} threads`;
  return `products native (${path.library}${threads})`;
}
