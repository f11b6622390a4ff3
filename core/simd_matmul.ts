/**
 * WebAssembly SIMD matrix products over float32 row-major matrices at byte
 * offsets of a wasm memory (tfjs-wasm's heap in the toolkit), assembled by
 * `wasm_asm.ts`:
 *
 * - `bmm(a, b, c, batch, m, k, n, aStride, aKStride)`: `C[g] = A[g] B[g]`
 *   for small matrices, `A` strided so it may be stored transposed.
 *   tfjs-wasm sends every product with a batch dimension (attention's) to a
 *   scalar loop at about 2 GFLOP/s; this runs at about 20 GFLOP/s with four
 *   4-lane accumulators per row, then one, then scalars for the last columns.
 * - `bmmT(a, b, c, batch, m, k, n)`: `C[g] = A[g] B[g]^T`, each output a dot
 *   product of two rows (attention's scores `q k^T`, without transposing k).
 * - `gemm(a, b, c, m, k, n, aRow, aK, block)`: `C = A B` for `m` a multiple
 *   of 4 and `n` of 8, with `A[i, p]` at byte `a + i * aRow + p * aK`, so `A`
 *   may be stored transposed (`aRow = 4`, `aK = 4 m`) at no cost, taken in
 *   blocks of `block` rows (a multiple of 4; see {@linkcode rowBlock}). A 4 x 8 tile
 *   of accumulators (eight 4-lane registers) runs at 25-30 GFLOP/s on this
 *   machine, XNNPACK's speed, without XNNPACK's per-call packing of `B` and
 *   without transposing `A` first (as a weight gradient `x^T dy` needs).
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
  f32Load,
  f32MulAdd,
  f32Store,
  f32Zero,
  forLoop,
  FunctionBuilder,
  get,
  i32,
  inc,
  instantiate,
  type KernelFunction,
  kernelModule,
  laneSum,
  minU,
  mul,
  OP,
  set,
  splat,
  TYPE,
  v128Load,
  v128Store,
  v128Zero,
  whileLoop,
} from "./wasm_asm.ts";

/** `bmm`: batched products, `A` strided within each matrix (see the module notes). */
function batchedKernel(fused: boolean): KernelFunction {
  const f = new FunctionBuilder(9);
  const [a, b, c, batch, m, k, n, aStride, aKStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [g, i, j, p, pa, pb, aRow, cRow, bMat, rowA, rowB] = f.locals(TYPE.i32, 11);
  const acc = f.locals(TYPE.v128, 4);
  const aik = f.local(TYPE.v128); // A[i, p] in all four lanes
  const sum = f.local(TYPE.f32);
  const fits = (width: number) => [...get(n), ...add(get(j), i32(width)), OP.i32GeU]; // n >= j + width
  const startRow = [...get(aRow), ...set(pa), ...add(get(bMat), mul(get(j), i32(4))), ...set(pb)];
  const nextK = [...inc(pa, get(aKStride)), ...inc(pb, get(rowB)), ...inc(p, i32(1))];

  // `lanes` 4-lane accumulators: columns j .. j + 4 lanes - 1 of row i.
  const vectorColumns = (lanes: number) => {
    const step = [...splat(f32Load(get(pa))), ...set(aik)];
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
  return { name: "bmm", params: 9, body: f.encode(code) };
}

/** `bmmT`: batched products with `B` transposed, as dot products of rows (see the module notes). */
function batchedTransposedKernel(fused: boolean): KernelFunction {
  const f = new FunctionBuilder(7);
  const [a, b, c, batch, m, k, n] = [0, 1, 2, 3, 4, 5, 6];
  const [g, i, j, p, pa, pb, aRow, bRow, out, bytes, vecBytes] = f.locals(TYPE.i32, 11);
  const acc = f.local(TYPE.v128);
  const sum = f.local(TYPE.f32);
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
  return { name: "bmmT", params: 7, body: f.encode(code) };
}

/** `gemm`: one product by 4 x 8 tiles, `A` strided (see the module notes). */
function tiledKernel(fused: boolean): KernelFunction {
  const f = new FunctionBuilder(9);
  const [a, b, c, m, k, n, aRow, aK, block] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, j, p, pb, rowB, out, first, last] = f.locals(TYPE.i32, 8);
  const pa = f.locals(TYPE.i32, 4); // rows i .. i + 3 of A at column p
  const acc = f.locals(TYPE.v128, 8); // acc[2r + h]: row i + r, columns j + 4h .. j + 4h + 3
  const [aik, b0, b1] = f.locals(TYPE.v128, 3);

  const tile: number[] = [];
  for (const x of acc) tile.push(...v128Zero, ...set(x));
  for (let r = 0; r < 4; r++) {
    tile.push(...add(get(a), mul(add(get(i), i32(r)), get(aRow))), ...set(pa[r]));
  }
  tile.push(...add(get(b), mul(get(j), i32(4))), ...set(pb), ...i32(0), ...set(p));
  const step = [...v128Load(get(pb)), ...set(b0), ...v128Load(get(pb), 16), ...set(b1)];
  for (let r = 0; r < 4; r++) {
    step.push(...splat(f32Load(get(pa[r]))), ...set(aik));
    step.push(...accumulate(acc[2 * r], get(aik), get(b0), fused));
    step.push(...accumulate(acc[2 * r + 1], get(aik), get(b1), fused));
    step.push(...inc(pa[r], get(aK)));
  }
  step.push(...inc(pb, get(rowB)), ...inc(p, i32(1)));
  tile.push(...whileLoop(below(p, k), step));
  for (let r = 0; r < 4; r++) {
    tile.push(
      ...add(get(c), add(mul(add(get(i), i32(r)), get(rowB)), mul(get(j), i32(4)))),
      ...set(out),
    );
    tile.push(
      ...v128Store(get(out), get(acc[2 * r])),
      ...v128Store(get(out), get(acc[2 * r + 1]), 16),
    );
  }
  tile.push(...inc(i, i32(4)));
  // Blocks of `block` rows of A (small enough to stay in cache), and within
  // a block, column panels of B (k x 8) outside the row tiles.
  const panel = [...get(first), ...set(i), ...whileLoop(below(i, last), tile), ...inc(j, i32(8))];
  const rowBlock = [
    ...minU(add(get(first), get(block)), get(m)),
    ...set(last),
    ...i32(0),
    ...set(j),
    ...whileLoop(below(j, n), panel),
    ...get(last),
    ...set(first),
  ];
  const code = [
    ...mul(get(n), i32(4)),
    ...set(rowB), // also C's row stride
    ...i32(0),
    ...set(first),
    ...whileLoop(below(first, m), rowBlock),
  ];
  return { name: "gemm", params: 9, body: f.encode(code) };
}

/**
 * Rows of `A` per block for `gemm`: about 64 KiB of `A`, a multiple of 4.
 * Each block is read once per column panel, so it should stay in cache.
 */
export function rowBlock(k: number): number {
  return Math.max(4, Math.floor(16384 / Math.max(k, 1)) & ~3);
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

/** Compiles the module with fused multiply-adds, or without where relaxed SIMD is missing. */
export function compileSimdMatMul(shared: boolean): WebAssembly.Module {
  try {
    return new WebAssembly.Module(simdMatMulModule(shared, true));
  } catch (e) {
    if (!(e instanceof WebAssembly.CompileError)) throw e;
    return new WebAssembly.Module(simdMatMulModule(shared, false));
  }
}

/** The kernels of one instance, over the memory it was made with. */
export interface SimdMatMul {
  /**
   * `C[g] = A[g] B[g]` for `g < batch`, with `B` `[batch, k, n]` and `C`
   * `[batch, m, n]` at byte offsets `b`, `c`; `A[g]` is `m k` floats from
   * byte `a + 4 g m k`, its `[i, p]` at byte `aStride i + aKStride p` in it
   * (`4 k, 4` row-major; `4, 4 m` transposed).
   */
  bmm(
    a: number,
    b: number,
    c: number,
    batch: number,
    m: number,
    k: number,
    n: number,
    aStride: number,
    aKStride: number,
  ): void;
  /**
   * `C[g] = A[g] B[g]^T` for `g < batch`, with `A` `[batch, m, k]`, `B`
   * `[batch, n, k]` and `C` `[batch, m, n]` row-major at byte offsets `a`,
   * `b`, `c`.
   */
  bmmT(a: number, b: number, c: number, batch: number, m: number, k: number, n: number): void;
  /**
   * `C = A B` for `m % 4 == 0` and `n % 8 == 0`, with `A[i, p]` at byte
   * `a + i * aRow + p * aK`, `B` `[k, n]` and `C` `[m, n]` row-major, in
   * blocks of `block` rows of `A` (a multiple of 4).
   */
  gemm(
    a: number,
    b: number,
    c: number,
    m: number,
    k: number,
    n: number,
    aRow: number,
    aK: number,
    block: number,
  ): void;
}

/**
 * Instantiates the kernels over `memory` (tfjs-wasm's heap, or any other).
 *
 * @example
 * ```ts
 * import { simdMatMul } from "./simd_matmul.ts";
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const heap = new Float32Array(memory.buffer);
 * heap.set([1, 2, 3, 4], 0); // A = [[1, 2], [3, 4]] at byte 0
 * heap.set([5, 6, 7, 8], 4); // B = [[5, 6], [7, 8]] at byte 16
 * simdMatMul(memory).bmm(0, 16, 32, 1, 2, 2, 2);
 * heap.slice(8, 12); // [19, 22, 43, 50]
 * ```
 */
export function simdMatMul(memory: WebAssembly.Memory): SimdMatMul {
  return instantiate<SimdMatMul>(memory, compileSimdMatMul);
}
