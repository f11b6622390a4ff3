/**
 * Strided block copies on a wasm memory, assembled by `asm.ts`:
 * `copyRows(dst, dstStride, src, srcStride, rows, bytes)` copies `rows`
 * blocks of `bytes` bytes, the i-th from `src + i srcStride` to
 * `dst + i dstStride`, each with one `memory.copy` (a native memmove).
 *
 * tfjs-wasm's `Concat` copies each block with a JavaScript `subarray().set()`;
 * extending a key/value cache of `[B*H, T, dh]` by one position is 2 B H of
 * them per layer and loop, which made `Concat` 8% of the depth sweep.
 *
 * `gatherBlocks(dst, src, n0, n1, n2, s0, s1, s2, bytes)` writes the
 * `n0 n1 n2` blocks of `bytes` bytes at `src + i0 s0 + i1 s1 + i2 s2`
 * one after another from `dst` (i2 fastest): a transpose that keeps the
 * last axis, one `memory.copy` per row of it.
 *
 * @module
 */
import {
  defineKernel,
  forLoop,
  get,
  inc,
  instantiate,
  type KernelExports,
  type KernelFunction,
  kernelModule,
  memoryCopy,
  set,
} from "./asm.ts";

/** The kernels' signatures (byte offsets and sizes, each an i32): the one declaration of each. */
export const WASM_COPY_SIGNATURES = {
  /** Copies `rows` blocks of `bytes`, from `src + i srcStride` to `dst + i dstStride`. */
  copyRows: ["dst", "dstStride", "src", "srcStride", "rows", "bytes"],
  /** Writes the blocks at `src + i0 s0 + i1 s1 + i2 s2` (i2 fastest) contiguously from `dst`. */
  gatherBlocks: ["dst", "src", "n0", "n1", "n2", "s0", "s1", "s2", "bytes"],
} as const;

function copyRowsKernel(): KernelFunction {
  return defineKernel(
    "copyRows",
    WASM_COPY_SIGNATURES.copyRows,
    (f, { dst, dstStride, src, srcStride, rows, bytes }) => {
      const [r] = f.locals("i32", 1);
      const code = forLoop(r, rows, [
        ...memoryCopy(get(dst), get(src), get(bytes)),
        ...inc(dst, get(dstStride)),
        ...inc(src, get(srcStride)),
      ]);
      return code;
    },
  );
}

function gatherBlocksKernel(): KernelFunction {
  return defineKernel(
    "gatherBlocks",
    WASM_COPY_SIGNATURES.gatherBlocks,
    (f, { dst, src, n0, n1, n2, s0, s1, s2, bytes }) => {
      const [i0, i1, i2, a0, a1, a2] = f.locals("i32", 6);
      const code = [
        ...get(src),
        ...set(a0),
        ...forLoop(i0, n0, [
          ...get(a0),
          ...set(a1),
          ...forLoop(i1, n1, [
            ...get(a1),
            ...set(a2),
            ...forLoop(i2, n2, [
              ...memoryCopy(get(dst), get(a2), get(bytes)),
              ...inc(dst, get(bytes)),
              ...inc(a2, get(s2)),
            ]),
            ...inc(a1, get(s1)),
          ]),
          ...inc(a0, get(s0)),
        ]),
      ];
      return code;
    },
  );
}

/** The module's bytes; `shared` must match the memory it will import. */
export function wasmCopyModule(shared: boolean): Uint8Array<ArrayBuffer> {
  return kernelModule([copyRowsKernel(), gatherBlocksKernel()], shared);
}

/** The kernel of one instance, over the memory it was made with (byte offsets). */
export type WasmCopy = KernelExports<typeof WASM_COPY_SIGNATURES>;

/**
 * Instantiates the kernel over `memory`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { wasmCopy } from "./copy.ts";
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const heap = new Float32Array(memory.buffer);
 * heap.set([1, 2, 3, 4], 0);
 * wasmCopy(memory).copyRows(32, 16, 0, 8, 2, 4); // [1, _, _, _, 3] from byte 32
 * assertEquals([...heap.slice(8, 13)], [1, 0, 0, 0, 3]);
 * ```
 */
export function wasmCopy(memory: WebAssembly.Memory): WasmCopy {
  return instantiate<WasmCopy>(memory, (shared) => new WebAssembly.Module(wasmCopyModule(shared)));
}
