/**
 * Strided block copies on a wasm memory, assembled by `wasm_asm.ts`:
 * `copyRows(dst, dstStride, src, srcStride, rows, bytes)` copies `rows`
 * blocks of `bytes` bytes, the i-th from `src + i srcStride` to
 * `dst + i dstStride`, each with one `memory.copy` (a native memmove).
 *
 * tfjs-wasm's `Concat` copies each block with a JavaScript `subarray().set()`;
 * extending a key/value cache of `[B*H, T, dh]` by one position is 2 B H of
 * them per layer and loop, which made `Concat` 8% of the depth sweep.
 *
 * @module
 */
import {
  forLoop,
  FunctionBuilder,
  get,
  inc,
  instantiate,
  kernelModule,
  memoryCopy,
  TYPE,
} from "./wasm_asm.ts";

function copyRowsKernel() {
  const f = new FunctionBuilder(6);
  const [dst, dstStride, src, srcStride, rows, bytes] = [0, 1, 2, 3, 4, 5];
  const [r] = f.locals(TYPE.i32, 1);
  const code = forLoop(r, rows, [
    ...memoryCopy(get(dst), get(src), get(bytes)),
    ...inc(dst, get(dstStride)),
    ...inc(src, get(srcStride)),
  ]);
  return { name: "copyRows", params: 6, body: f.encode(code) };
}

/** The module's bytes; `shared` must match the memory it will import. */
export function wasmCopyModule(shared: boolean): Uint8Array<ArrayBuffer> {
  return kernelModule([copyRowsKernel()], shared);
}

/** The kernel of one instance, over the memory it was made with (byte offsets). */
export interface WasmCopy {
  /** Copies `rows` blocks of `bytes`, from `src + i srcStride` to `dst + i dstStride`. */
  copyRows(
    dst: number,
    dstStride: number,
    src: number,
    srcStride: number,
    rows: number,
    bytes: number,
  ): void;
}

/**
 * Instantiates the kernel over `memory`.
 *
 * @example
 * ```ts
 * import { wasmCopy } from "./wasm_copy.ts";
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const heap = new Float32Array(memory.buffer);
 * heap.set([1, 2, 3, 4], 0);
 * wasmCopy(memory).copyRows(32, 16, 0, 8, 2, 4); // [1, _, _, _, 3] from byte 32
 * ```
 */
export function wasmCopy(memory: WebAssembly.Memory): WasmCopy {
  return instantiate<WasmCopy>(memory, (shared) => new WebAssembly.Module(wasmCopyModule(shared)));
}
