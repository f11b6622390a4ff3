/**
 * WebAssembly SIMD bias add in place, assembled by `asm.ts`:
 * `addRows(y, b, rows, n)` adds the `n` floats at `b` to each of the `rows`
 * rows of `y` (`n` a multiple of 4), lane by lane: the same float32 sums as
 * any other add.
 *
 * @module
 */
import {
  add,
  defineKernel,
  forLoop,
  get,
  i32,
  instantiate,
  type KernelExports,
  kernelModule,
  mul,
  set,
  v128Load,
  v128Store,
  vAdd,
} from "./asm.ts";

/** The kernel's signature (byte offsets and sizes), its one declaration. */
export const SIMD_BIAS_SIGNATURES = {
  /** `y[r, :] += b` for each of `rows` rows of `n` floats (`n % 4 == 0`). */
  addRows: ["y", "b", "rows", "n"],
} as const;

const addRowsKernel = () =>
  defineKernel("addRows", SIMD_BIAS_SIGNATURES.addRows, (f, { y, b, rows, n }) => {
    const [r, c, width, row] = f.locals("i32", 4);
    return [
      ...mul(get(n), i32(4)),
      ...set(width),
      ...forLoop(r, rows, [
        ...add(get(y), mul(get(r), get(width))),
        ...set(row),
        ...forLoop(
          c,
          width,
          v128Store(
            add(get(row), get(c)),
            vAdd(v128Load(add(get(row), get(c))), v128Load(add(get(b), get(c)))),
          ),
          16,
        ),
      ]),
    ];
  });

/** The kernels of one instance, over the memory it was made with (byte offsets). */
export type SimdBias = KernelExports<typeof SIMD_BIAS_SIGNATURES>;

/** Instantiates the kernel over `memory`. */
export function simdBias(memory: WebAssembly.Memory): SimdBias {
  return instantiate<SimdBias>(
    memory,
    (shared) => new WebAssembly.Module(kernelModule([addRowsKernel()], shared)),
  );
}
