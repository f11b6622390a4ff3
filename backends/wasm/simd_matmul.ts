/**
 * WebAssembly SIMD matrix products over float32 row-major matrices at byte
 * offsets of a wasm memory (tfjs-wasm's heap in the toolkit), assembled by
 * `asm.ts`:
 *
 * - `bmm(a, b, c, batch, m, k, n, aStride, aKStride)`: `C[g] = A[g] B[g]`
 *   for small matrices, `A` strided so it may be stored transposed.
 *   tfjs-wasm sends every product with a batch dimension (attention's) to a
 *   scalar loop at about 2 GFLOP/s; this runs at about 20 GFLOP/s with four
 *   4-lane accumulators per row, then one, then scalars for the last columns.
 * - `bmmT(a, b, c, batch, m, k, n)`: `C[g] = A[g] B[g]^T`, each output a dot
 *   product of two rows (attention's scores `q k^T`, without transposing k).
 * - `gemm(a, b, c, m, k, n, aRow, aK, block, scratch)`: `C = A B` for `n` a
 *   multiple of 8, with `A[i, p]` at byte `a + i * aRow + p * aK`, so `A`
 *   may be stored transposed (`aRow = 4`, `aK = 4 m`) at no cost, taken in
 *   blocks of `block` rows (see {@linkcode rowBlock}), each packed first to
 *   `scratch` ({@linkcode gemmScratchBytes}). A 6 x 8 tile of accumulators
 *   (twelve 4-lane registers) runs at 40-44 GFLOP/s on this machine, 75-80%
 *   of its WebAssembly SIMD peak (56 GFLOP/s, `bench/simd_peak.ts`) and
 *   faster than XNNPACK (about 27), without transposing `A` first (as a
 *   weight gradient `x^T dy` needs).
 *
 * Each output is summed over `k` in order, with fused multiply-adds where
 * the runtime has WebAssembly relaxed SIMD (Deno does): results differ from
 * other kernels' only by float32 rounding.
 *
 * @module
 */
import {
  accumulate,
  add,
  below,
  defineKernel,
  f32Load,
  f32MulAdd,
  f32Store,
  f32Zero,
  forLoop,
  get,
  geU,
  hasRelaxedSimd,
  i32,
  inc,
  instantiate,
  type KernelExports,
  type KernelFunction,
  kernelModule,
  laneSum,
  loadSplat,
  ltU,
  minU,
  mul,
  OP,
  set,
  v128Load,
  v128Store,
  v128Zero,
  when,
  whileLoop,
} from "./asm.ts";

/** `bmm`: batched products, `A` strided within each matrix (see the module notes). */
/** The kernels' signatures (byte offsets and sizes, each an i32): the one declaration of each. */
export const SIMD_MATMUL_SIGNATURES = {
  /**
   * `C[g] = A[g] B[g]` for `g < batch`, with `B` `[batch, k, n]` and `C`
   * `[batch, m, n]` at byte offsets `b`, `c`; `A[g]` is `m k` floats from
   * byte `a + 4 g m k`, its `[i, p]` at byte `aStride i + aKStride p` in it
   * (`4 k, 4` row-major; `4, 4 m` transposed).
   */
  bmm: ["a", "b", "c", "batch", "m", "k", "n", "aStride", "aKStride"],
  /**
   * `C[g] = A[g] B[g]^T` for `g < batch`, with `A` `[batch, m, k]`, `B`
   * `[batch, n, k]` and `C` `[batch, m, n]` row-major at byte offsets `a`,
   * `b`, `c`.
   */
  bmmT: ["a", "b", "c", "batch", "m", "k", "n"],
  /**
   * `C = A B` for `n % 8 == 0`, with `A[i, p]` at byte `a + i * aRow + p * aK`,
   * `B` `[k, n]` and `C` `[m, n]` row-major, in blocks of `block` rows of
   * `A` (best a multiple of 6; {@linkcode rowBlock}), each packed to
   * `scratch`, which must hold {@linkcode gemmScratchBytes}`(k, block)` bytes
   * that nothing else uses during the call.
   */
  gemm: ["a", "b", "c", "m", "k", "n", "aRow", "aK", "block", "scratch"],
} as const;

function batchedKernel(fused: boolean): KernelFunction {
  return defineKernel(
    "bmm",
    SIMD_MATMUL_SIGNATURES.bmm,
    (f, { a, b, c, batch, m, k, n, aStride, aKStride }) => {
      const [g, i, j, p, pa, pb, aRow, cRow, bMat, rowA, rowB] = f.locals("i32", 11);
      const acc = f.locals("v128", 4);
      const aik = f.local("v128"); // A[i, p] in all four lanes
      const sum = f.local("f32");
      const fits = (width: number) => geU(get(n), add(get(j), i32(width))); // n >= j + width
      const startRow = [
        ...get(aRow),
        ...set(pa),
        ...add(get(bMat), mul(get(j), i32(4))),
        ...set(pb),
      ];
      const nextK = [...inc(pa, get(aKStride)), ...inc(pb, get(rowB)), ...inc(p, i32(1))];

      // `lanes` 4-lane accumulators: columns j .. j + 4 lanes - 1 of row i.
      const vectorColumns = (lanes: number) => {
        const step = [...loadSplat(get(pa)), ...set(aik)];
        for (let l = 0; l < lanes; l++) {
          step.push(...accumulate(acc[l], get(aik), v128Load(get(pb), 16 * l), fused));
        }
        const body = [...startRow, ...i32(0), ...set(p)];
        for (let l = 0; l < lanes; l++) body.push(...v128Zero, ...set(acc[l]));
        body.push(...whileLoop(below(p, k), [...step, ...nextK]));
        const out = add(get(cRow), mul(get(j), i32(4)));
        for (let l = 0; l < lanes; l++) body.push(...v128Store(out, get(acc[l]), 16 * l));
        return whileLoop(fits(4 * lanes), [...body, ...inc(j, i32(4 * lanes))]);
      };
      const scalarColumns = whileLoop(fits(1), [
        ...startRow,
        ...i32(0),
        ...set(p),
        ...f32Zero,
        ...set(sum),
        ...whileLoop(below(p, k), [
          ...f32MulAdd(f32Load(get(pa)), f32Load(get(pb)), get(sum)),
          ...set(sum),
          ...nextK,
        ]),
        ...f32Store(add(get(cRow), mul(get(j), i32(4))), get(sum)),
        ...inc(j, i32(1)),
      ]);
      const row = [
        // A[g] starts m k floats after A[g - 1]; its row i is aStride bytes after row i - 1.
        ...add(add(get(a), mul(mul(get(g), get(m)), get(rowA))), mul(get(i), get(aStride))),
        ...set(aRow),
        ...add(get(c), mul(add(mul(get(g), get(m)), get(i)), get(rowB))),
        ...set(cRow),
        ...i32(0),
        ...set(j),
        ...vectorColumns(4),
        ...vectorColumns(1),
        ...scalarColumns,
      ];
      const matrix = [
        ...add(get(b), mul(mul(get(g), get(k)), get(rowB))),
        ...set(bMat),
        ...forLoop(i, m, row),
      ];
      const code = [
        ...mul(get(k), i32(4)),
        ...set(rowA),
        ...mul(get(n), i32(4)),
        ...set(rowB), // also C's row stride: both have n columns
        ...forLoop(g, batch, matrix),
      ];
      return code;
    },
  );
}

/** `bmmT`: batched products with `B` transposed, as dot products of rows (see the module notes). */
function batchedTransposedKernel(fused: boolean): KernelFunction {
  return defineKernel("bmmT", SIMD_MATMUL_SIGNATURES.bmmT, (f, { a, b, c, batch, m, k, n }) => {
    const [g, i, j, p, pa, pb, aRow, bRow, out, bytes, vecBytes] = f.locals("i32", 11);
    const acc = f.local("v128");
    const sum = f.local("f32");
    const dot = [
      ...get(aRow),
      ...set(pa),
      ...get(bRow),
      ...set(pb),
      ...v128Zero,
      ...set(acc),
      ...i32(0),
      ...set(p),
      // four lanes at a time while 4 floats remain, then one at a time
      ...whileLoop(below(p, vecBytes), [
        ...accumulate(acc, v128Load(add(get(pa), get(p))), v128Load(add(get(pb), get(p))), fused),
        ...inc(p, i32(16)),
      ]),
      ...laneSum(acc),
      ...set(sum),
      ...whileLoop(below(p, bytes), [
        ...f32MulAdd(f32Load(add(get(pa), get(p))), f32Load(add(get(pb), get(p))), get(sum)),
        ...set(sum),
        ...inc(p, i32(4)),
      ]),
      ...f32Store(get(out), get(sum)),
      ...inc(out, i32(4)),
      ...inc(bRow, get(bytes)),
    ];
    const row = [
      ...add(get(b), mul(mul(get(g), get(n)), get(bytes))),
      ...set(bRow),
      ...forLoop(j, n, dot),
      ...inc(aRow, get(bytes)),
    ];
    const matrix = [
      ...add(get(a), mul(mul(get(g), get(m)), get(bytes))),
      ...set(aRow),
      ...forLoop(i, m, row),
    ];
    const code = [
      ...mul(get(k), i32(4)),
      ...set(bytes), // a row of A or of B
      ...mul(get(k), i32(4)),
      ...i32(-16),
      OP.i32And,
      ...set(vecBytes), // the part of a row in whole 4-lane chunks
      ...get(c),
      ...set(out),
      ...forLoop(g, batch, matrix),
    ];
    return code;
  });
}

/** Rows and columns of `gemm`'s register tile, and its unrolling over `k`. */
const TILE_ROWS = 6, TILE_VECTORS = 2, UNROLL = 2;

/**
 * `gemm`: one product by 6 x 8 tiles over `A` packed per row block (see the
 * module notes). Packing puts the six values a tile step needs side by side,
 * so the inner loop advances two pointers instead of one per row of `A`;
 * that loop's integer work, not its arithmetic, was what held the unpacked
 * 4 x 8 kernel to 55% of the machine's SIMD peak.
 */
function tiledKernel(fused: boolean): KernelFunction {
  const R = TILE_ROWS, V = TILE_VECTORS;
  return defineKernel(
    "gemm",
    SIMD_MATMUL_SIGNATURES.gemm,
    (f, { a, b, c, m, k, n, aRow, aK, block, scratch }) => {
      const [i, j, p, pa, pb, rowB, out, first, last] = f.locals("i32", 9);
      const [src, dst, tileBytes, unrolledBytes, unrolledEnd, tileEnd] = f.locals("i32", 6);
      const acc = f.locals("v128", R * V); // acc[V r + v]: row i + r, columns j + 4v .. j + 4v + 3
      const bv = f.locals("v128", V);
      const aik = f.local("v128");

      // Rows [first, last) of A to scratch, tile by tile (tileBytes each), a
      // tile's A[i + r, p] at float p R + r. Rows past `last` repeat row
      // last - 1: the tile stays whole and their outputs are not stored.
      const packRows: number[] = [];
      for (let r = 0; r < R; r++) {
        const row = minU(add(get(i), i32(r)), add(get(last), i32(-1)));
        packRows.push(
          ...add(get(a), mul(row, get(aRow))),
          ...set(src),
          ...add(get(dst), i32(4 * r)),
          ...set(out),
          ...forLoop(p, k, [
            ...f32Store(get(out), f32Load(get(src))),
            ...inc(src, get(aK)),
            ...inc(out, i32(4 * R)),
          ]),
        );
      }
      const pack = [
        ...get(first),
        ...set(i),
        ...get(scratch),
        ...set(dst),
        ...whileLoop(below(i, last), [...packRows, ...inc(dst, get(tileBytes)), ...inc(i, i32(R))]),
      ];

      // One step over k: a row of the B panel, six of A's values, twelve products.
      const kStep = (u: number) => {
        const step: number[] = [];
        for (let v = 0; v < V; v++) step.push(...v128Load(get(pb), 16 * v), ...set(bv[v]));
        for (let r = 0; r < R; r++) {
          step.push(...loadSplat(get(pa), 4 * (u * R + r)), ...set(aik));
          for (let v = 0; v < V; v++) {
            step.push(...accumulate(acc[V * r + v], get(aik), get(bv[v]), fused));
          }
        }
        return [...step, ...inc(pb, get(rowB))];
      };
      const unrolled: number[] = [];
      for (let u = 0; u < UNROLL; u++) unrolled.push(...kStep(u));
      const tile: number[] = [];
      for (const x of acc) tile.push(...v128Zero, ...set(x));
      tile.push(
        ...add(get(b), mul(get(j), i32(4))),
        ...set(pb),
        ...add(get(pa), get(unrolledBytes)),
        ...set(unrolledEnd),
        ...add(get(pa), get(tileBytes)),
        ...set(tileEnd),
        ...whileLoop(below(pa, unrolledEnd), [...unrolled, ...inc(pa, i32(4 * R * UNROLL))]),
        ...whileLoop(below(pa, tileEnd), [...kStep(0), ...inc(pa, i32(4 * R))]),
      );
      for (let r = 0; r < R; r++) {
        const store = [
          ...add(get(c), add(mul(add(get(i), i32(r)), get(rowB)), mul(get(j), i32(4)))),
          ...set(out),
        ];
        for (let v = 0; v < V; v++) store.push(...v128Store(get(out), get(acc[V * r + v]), 16 * v));
        tile.push(
          ...(r === 0 ? store : when(ltU(add(get(i), i32(r)), get(last)), store)),
        );
      }
      tile.push(...inc(i, i32(R)));
      // Within a block, column panels of B (k x 8) outside the row tiles: the
      // panel stays in L1 while the packed block (about 64 KiB) streams from L2.
      const panel = [
        ...get(first),
        ...set(i),
        ...get(scratch),
        ...set(pa),
        ...whileLoop(below(i, last), tile),
        ...inc(j, i32(4 * V)),
      ];
      const rowBlock = [
        ...minU(add(get(first), get(block)), get(m)),
        ...set(last),
        ...pack,
        ...i32(0),
        ...set(j),
        ...whileLoop(below(j, n), panel),
        ...get(last),
        ...set(first),
      ];
      const code = [
        ...mul(get(n), i32(4)),
        ...set(rowB), // also C's row stride
        ...mul(get(k), i32(4 * R)),
        ...set(tileBytes),
        ...get(k),
        ...i32(-UNROLL),
        OP.i32And,
        ...i32(4 * R),
        OP.i32Mul,
        ...set(unrolledBytes), // the part of a tile the unrolled loop covers
        ...i32(0),
        ...set(first),
        ...whileLoop(below(first, m), rowBlock),
      ];
      return code;
    },
  );
}

/**
 * Rows of `A` per block for `gemm`: about 64 KiB of `A`, a multiple of the
 * tile's 6 rows. Each block is packed once and read once per column panel,
 * so it should stay in cache.
 */
export function rowBlock(k: number): number {
  const rows = Math.floor(16384 / Math.max(k, 1));
  return Math.max(TILE_ROWS, rows - rows % TILE_ROWS);
}

/** Bytes of scratch `gemm` needs for blocks of `block` rows of `A` with `k` columns. */
export function gemmScratchBytes(k: number, block: number): number {
  return 4 * k * Math.ceil(block / TILE_ROWS) * TILE_ROWS;
}

/**
 * The module's bytes. `shared` must match the memory it will import;
 * `fused` uses relaxed SIMD's multiply-add (10-20% faster where the runtime
 * has it).
 */
export function simdMatMulModule(shared: boolean, fused: boolean): Uint8Array<ArrayBuffer> {
  return kernelModule(
    [batchedKernel(fused), tiledKernel(fused), batchedTransposedKernel(fused)],
    shared,
  );
}

/**
 * Compiles the module with fused multiply-adds where the runtime has relaxed
 * SIMD ({@linkcode hasRelaxedSimd}), else without; a compile error is an error.
 */
export function compileSimdMatMul(shared: boolean): WebAssembly.Module {
  return new WebAssembly.Module(simdMatMulModule(shared, hasRelaxedSimd()));
}

/** The kernels of one instance, over the memory it was made with. */
export type SimdMatMul = KernelExports<typeof SIMD_MATMUL_SIGNATURES>;

/**
 * Instantiates the kernels over `memory` (tfjs-wasm's heap, or any other).
 *
 * @example
 * ```ts
 * import { simdMatMul } from "@stars/toolkit/backends";
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const heap = new Float32Array(memory.buffer);
 * heap.set([1, 2, 3, 4], 0); // A = [[1, 2], [3, 4]] at byte 0
 * heap.set([5, 6, 7, 8], 4); // B = [[5, 6], [7, 8]] at byte 16
 * simdMatMul(memory).bmm(0, 16, 32, 1, 2, 2, 2, 4 * 2, 4); // A row-major
 * if (heap.slice(8, 12).join() !== "19,22,43,50") throw new Error("A B is [[19, 22], [43, 50]]");
 * ```
 */
export function simdMatMul(memory: WebAssembly.Memory): SimdMatMul {
  return instantiate<SimdMatMul>(memory, compileSimdMatMul);
}
