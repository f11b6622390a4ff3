/**
 * Faster versions of seven tfjs-wasm kernels, registered in place of tfjs's
 * own. Each removes a cost the profile of a training step showed
 * (docs/performance.md):
 *
 * - `Identity` and same-dtype `Cast` share their input's buffer. While a
 *   gradient tape records, tfjs saves every tensor a backward pass needs
 *   through `Identity` (the engine's `clone`) and runs a float32 `Cast` in
 *   that clone's gradient; wasm copies the whole buffer for both, about
 *   1 300 copies per bench-small training step. Tensors are immutable, so a
 *   shared buffer with a reference count is enough (tfjs's `Reshape` on wasm
 *   and `Identity` on cpu do the same).
 * - `Slice` and `SplitV` of a contiguous block copy just that block. tfjs
 *   first copies the whole input out of the wasm heap (`readSync`), once per
 *   piece. `Concat` copies each input's rows with `memory.copy` in wasm
 *   (`wasm_copy.ts`), not one JavaScript call per row.
 * - `Sum` over leading axes (the gradient of every broadcast bias and gain)
 *   is a product with a row of ones, on the SIMD kernel below, instead of a
 *   transpose and then row sums: 3 ms to well under 0.1 ms for
 *   `[1024, 384] -> [384]`.
 * - `BatchMatMul` runs the SIMD kernels of `simd_matmul.ts`: products with
 *   a batch dimension (attention's) at about 10x tfjs's scalar loop, either
 *   operand transposed for free, and single products whose columns are a
 *   multiple of 8 about 1.5x XNNPACK's speed (the left operand packed in
 *   blocks to a scratch buffer allocated per call), with `transposeA` free
 *   (so a weight gradient `x^T dy` needs no transpose first). On the
 *   threaded build (`STARS_WASM_THREADS`), large products are split across
 *   a worker pool (`kernel_pool.ts`), each thread with its own scratch.
 *
 * Results equal tfjs's own kernels within float32 rounding (the order of
 * additions differs); `tests/wasm_kernels.test.ts` compares them.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { KernelPool, type PoolKernel } from "./kernel_pool.ts";
import { compileSimdMatMul, gemmScratchBytes, rowBlock, simdMatMul } from "./simd_matmul.ts";
import { isShared } from "./wasm_asm.ts";
import { wasmCopy } from "./wasm_copy.ts";
import { heapOf, offsetOf, perHeap, type WasmBackend } from "./wasm_heap.ts";
import { registerWasmAdamW } from "./wasm_adamw.ts";
import { registerWasmGelu } from "./wasm_gelu.ts";
import { registerWasmLayerNorm } from "./wasm_layer_norm.ts";
import { wasmKernelThreads } from "./wasm_threads.ts";
import { nativeBlas } from "./native_blas.ts";

type KernelArgs = Parameters<tf.KernelFunc>[0];

let installed = false;

/** Returns `x` itself under a new reference: no copy. */
function shareBuffer(x: tf.TensorInfo, backend: WasmBackend): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Copies a contiguous block of `x` into a new tensor, or returns null if it is strided. */
function sliceBlock(
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
  backend: WasmBackend,
): tf.TensorInfo | null {
  if (x.dtype === "string" || !tf.slice_util.isSliceContinous(x.shape, begin, size)) return null;
  const offset = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides(x.shape));
  const out = backend.makeOutput(size, x.dtype);
  // Views after makeOutput: growing the wasm heap detaches older views.
  const count = tf.util.sizeFromShape(size);
  backend.typedArrayFromHeap(out).set(
    backend.typedArrayFromHeap(x).subarray(offset, offset + count),
  );
  return out;
}

const kernelsOf = perHeap(simdMatMul);
// On the threaded build's shared heap, a pool with a worker per extra thread.
// (If the workers cannot start, products stay on the calling thread.)
const poolOf = perHeap((memory) => {
  const threads = wasmKernelThreads();
  if (!isShared(memory) || threads < 2) return null;
  try {
    return new KernelPool(compileSimdMatMul(true), memory, threads - 1);
  } catch {
    return null;
  }
});
// Below this many flops a product runs on the calling thread alone.
const PARALLEL_FLOPS = 4e6;

/** `count` items split into `parts` runs of whole multiples of `unit`: [start, length] each. */
function split(count: number, parts: number, unit: number): [number, number][] {
  const step = Math.ceil(count / unit / parts) * unit;
  const runs: [number, number][] = [];
  for (let start = 0; start < count; start += step) {
    runs.push([start, Math.min(step, count - start)]);
  }
  return runs;
}
const copyOf = perHeap(wasmCopy);

/**
 * `inputs` joined along `axis`, one strided block copy per input, or null
 * where tfjs's kernel should run (strings, fewer than two non-empty inputs).
 */
function concatBlocks(
  inputs: tf.TensorInfo[],
  axis: number,
  backend: WasmBackend,
): tf.TensorInfo | null {
  const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  const dtype = inputs[0].dtype;
  if (dtype === "string" || parts.length < 2 || parts.some((t) => t.dtype !== dtype)) return null;
  const copy = copyOf(backend);
  if (!copy) return null;
  const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
  const out = backend.makeOutput(outShape, dtype);
  const bytes = tf.util.bytesPerElement(dtype);
  const rows = tf.util.sizeFromShape(outShape.slice(0, axis));
  const outRow = tf.util.sizeFromShape(outShape.slice(axis)) * bytes;
  let offset = 0;
  for (const t of parts) {
    const row = tf.util.sizeFromShape(t.shape.slice(axis)) * bytes;
    copy.copyRows(offsetOf(backend, out) + offset, outRow, offsetOf(backend, t), row, rows, row);
    offset += row;
  }
  return out;
}

/**
 * `x` transposed by `perm`, one block copy per row of the last axis, where
 * `perm` keeps the last axis in place and the rank is 2 to 4 (the model's
 * head split and merge); else null, and tfjs's kernel runs.
 */
function transposeBlocks(
  x: tf.TensorInfo,
  perm: number[],
  backend: WasmBackend,
): tf.TensorInfo | null {
  const rank = x.shape.length;
  if (rank < 2 || rank > 4 || perm[rank - 1] !== rank - 1) return null;
  if (x.dtype !== "float32" && x.dtype !== "int32") return null;
  if (tf.util.sizeFromShape(x.shape) === 0) return null;
  const copy = copyOf(backend);
  if (!copy) return null;
  const out = backend.makeOutput(perm.map((p) => x.shape[p]), x.dtype);
  const strides = [...tf.util.computeStrides(x.shape), 1].map((s) => 4 * s);
  // The leading output axes as three (missing ones of size 1), with their input strides.
  const lead = perm.slice(0, -1);
  while (lead.length < 3) lead.unshift(-1);
  const n = lead.map((p) => (p < 0 ? 1 : x.shape[p]));
  const s = lead.map((p) => (p < 0 ? 0 : strides[p]));
  const bytes = 4 * x.shape[rank - 1];
  const [dst, src] = [offsetOf(backend, out), offsetOf(backend, x)];
  copy.gatherBlocks(dst, src, n[0], n[1], n[2], s[0], s[1], s[2], bytes);
  return out;
}

/**
 * The column sums of `x` read as a `[rows, cols]` matrix, shape [1, 1, cols]:
 * the product `ones[1, rows] @ x`, or a float64 loop where the SIMD kernels
 * are out of reach.
 */
function sumRows(x: tf.TensorInfo, rows: number, backend: WasmBackend): tf.TensorInfo {
  const cols = tf.util.sizeFromShape(x.shape) / rows;
  const out = backend.makeOutput([1, 1, cols], "float32");
  const kernels = kernelsOf(backend);
  const at = (t: tf.TensorInfo) => offsetOf(backend, t);
  if (kernels) {
    const ones = backend.makeOutput([1, rows], "float32");
    backend.typedArrayFromHeap(ones).fill(1);
    kernels.bmm(at(ones), at(x), at(out), 1, 1, rows, cols, 4 * rows, 4);
    backend.disposeData(ones.dataId);
    return out;
  }
  const acc = new Float64Array(cols);
  const xs = backend.typedArrayFromHeap(x);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) acc[c] += xs[r * cols + c];
  }
  backend.typedArrayFromHeap(out).set(acc);
  return out;
}

/**
 * The sizes of `op(a) @ op(b)` for float32 operands of one rank and equal
 * batch shapes, or null (other dtypes, broadcasting, mismatched or empty).
 */
function productShape(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): { batchShape: number[]; batch: number; m: number; k: number; n: number } | null {
  const rank = a.shape.length;
  if (b.shape.length !== rank || a.dtype !== "float32" || b.dtype !== "float32") return null;
  const batchShape = a.shape.slice(0, -2);
  if (!tf.util.arraysEqual(batchShape, b.shape.slice(0, -2))) return null;
  const batch = tf.util.sizeFromShape(batchShape);
  const [a0, a1] = a.shape.slice(-2), [b0, b1] = b.shape.slice(-2);
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const [k2, n] = transposeB ? [b1, b0] : [b0, b1];
  if (k !== k2 || m * k * n === 0) return null;
  return { batchShape, batch, m, k, n };
}

/**
 * `op(a) @ op(b)` for float32 `[...batch, m, k] x [...batch, k, n]` (`op`
 * swaps the last two axes where its flag is set), or null where tfjs's
 * kernel should run: broadcast batches, other dtypes, a transposed `b` in a
 * single product or together with a transposed `a`, or shapes the SIMD
 * kernels do not cover.
 */
function simdProduct(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  backend: WasmBackend,
): tf.TensorInfo | null {
  const shape = productShape(a, b, transposeA, transposeB);
  if (!shape) return null; // tfjs's kernel handles it (or reports a mismatch)
  const { batchShape, batch, m, k, n } = shape;
  // gemm takes any m, but products with m not a multiple of 4 (the tied
  // embedding's gradient, m = vocabulary) stay on tfjs's kernel: its order
  // of summation keeps training bit for bit what the previous gemm gave,
  // and random-depth training turned out to be sensitive to a rounding
  // change in that one gradient (README, reproduction).
  const single = batch === 1 && !transposeB && m % 4 === 0 && n % 8 === 0;
  const batched = batch > 1 && !(transposeA && transposeB);
  if (!single && !batched) return null;
  const kernels = kernelsOf(backend);
  if (!kernels) return null;
  const pool = 2 * batch * m * k * n >= PARALLEL_FLOPS ? poolOf(backend) : null;
  const runs = single ? split(m, pool?.threads ?? 1, 6) : split(batch, pool?.threads ?? 1, 1);
  const out = backend.makeOutput([...batchShape, m, n], "float32");
  // gemm packs each block of A's rows first: scratch for every thread.
  const blockRows = rowBlock(k), scratchBytes = gemmScratchBytes(k, blockRows);
  const scratch = single ? backend.makeOutput([runs.length * scratchBytes / 4], "float32") : null;
  const [pa, pb, pc, ps] = [a, b, out, scratch ?? out].map((t) => offsetOf(backend, t));
  const [aStride, aKStride] = transposeA ? [4, 4 * m] : [4 * k, 4];
  const kernel: PoolKernel = single ? "gemm" : transposeB ? "bmmT" : "bmm";
  // Each block: the kernel's arguments for rows [r, r + rows) of every matrix
  // (gemm) or for matrices [g, g + count) (bmm, bmmT), on thread `t`.
  const block = single
    ? ([r, rows]: [number, number], t: number) => [
      ...[pa + r * aStride, pb, pc + 4 * r * n, rows, k, n, aStride, aKStride],
      ...[blockRows, ps + t * scratchBytes],
    ]
    : ([g, count]: [number, number]) => {
      const args = [pa + 4 * g * m * k, pb + 4 * g * k * n, pc + 4 * g * m * n, count, m, k, n];
      return kernel === "bmm" ? [...args, aStride, aKStride] : args;
    };
  if (pool && runs.length > 1) pool.run(kernel, runs.map(block));
  else (kernels[kernel] as (...args: number[]) => void)(...block(runs[0], 0));
  if (scratch) backend.disposeData(scratch.dataId);
  return out;
}

// Batched products go native only from this many multiply-adds per matrix:
// one native call per matrix costs more than the SIMD kernel below it
// (measured, one BLAS thread, a busy 2-core AMD EPYC: 256 products of
// 16 x 16 x 16, attention's in the bench-small step, 0.54 ms on the SIMD
// kernel against 1.2 ms native; 64 x 48^3 3.2 ms against 1.5 ms; 64 x 64^3
// 3.7 ms against 1.2 ms).
const NATIVE_BATCHED_MIN = 100_000;

/**
 * `op(a) @ op(b)` for float32 products on the native BLAS, any transposes:
 * every single product, and batched ones (one call per matrix) of at least
 * {@linkcode NATIVE_BATCHED_MIN} multiply-adds per matrix; null where it is
 * not loaded, the batch broadcasts, or the matrices are small.
 */
function nativeProduct(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  backend: WasmBackend,
): tf.TensorInfo | null {
  const shape = productShape(a, b, transposeA, transposeB);
  if (!shape) return null;
  const { batchShape, batch, m, k, n } = shape;
  if (batch > 1 && m * k * n < NATIVE_BATCHED_MIN) return null;
  const blas = nativeBlas();
  const memory = blas && heapOf(backend);
  if (!memory) return null;
  const out = backend.makeOutput([...batchShape, m, n], "float32");
  const [pa, pb, pc] = [a, b, out].map((t) => offsetOf(backend, t));
  for (let g = 0; g < batch; g++) {
    const [ga, gb, gc] = [4 * g * m * k, 4 * g * k * n, 4 * g * m * n];
    blas!.sgemm(memory, transposeA, transposeB, m, n, k, pa + ga, pb + gb, pc + gc);
  }
  return out;
}

let simdTransposes = false;

/**
 * Whether `BatchMatMul` on wasm runs transposed operands without a
 * transpose (true once {@linkcode useFastWasmKernels} has run): `transposeA`
 * always, `transposeB` with a batch dimension. The model's matmul asks, to
 * choose between the flags and explicit transposes.
 */
export function wasmTransposesAreFree(): boolean {
  return simdTransposes;
}

/** Replaces a registered wasm kernel, keeping the original for the cases it still handles. */
function replaceKernel(
  name: string,
  kernelFunc: (args: KernelArgs, original: tf.KernelFunc) => ReturnType<tf.KernelFunc>,
): void {
  const original = tf.getKernel(name, "wasm");
  if (!original) throw new Error(`wasm kernels: tfjs has no wasm kernel "${name}" to replace`);
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => kernelFunc(args, original.kernelFunc),
  });
}

/**
 * Replaces the wasm backend's `Identity`, `Cast`, `Slice`, `SplitV`,
 * `Concat`, `Sum` and `BatchMatMul` with the faster versions described in this module's
 * notes, and registers the fused LayerNorm, GELU and AdamW of
 * `wasm_layer_norm.ts`, `wasm_gelu.ts` and `wasm_adamw.ts`. Values are unchanged within float32 rounding (tests compare them
 * with the cpu backend); idempotent; call before or after the backend
 * starts. `useBackend("wasm")` calls it.
 *
 * @example
 * ```ts
 * import { useFastWasmKernels } from "./wasm_kernels.ts";
 * useFastWasmKernels();
 * ```
 */
export function useFastWasmKernels(): void {
  if (installed) return;
  replaceKernel("Identity", (args, original) => {
    const x = args.inputs.x as tf.TensorInfo;
    return x.dtype === "string" ? original(args) : shareBuffer(x, args.backend as WasmBackend);
  });
  replaceKernel("Cast", (args, original) => {
    const x = args.inputs.x as tf.TensorInfo;
    const same = x.dtype === (args.attrs as { dtype: tf.DataType }).dtype && x.dtype !== "string";
    return same ? shareBuffer(x, args.backend as WasmBackend) : original(args);
  });
  replaceKernel("Slice", (args, original) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
    const [b, n] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return sliceBlock(x, b, n, args.backend as WasmBackend) ?? original(args);
  });
  replaceKernel("SplitV", (args, original) => {
    const x = args.inputs.x as tf.TensorInfo;
    const attrs = args.attrs as unknown as { numOrSizeSplits: number[] | number; axis: number };
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
    let start = 0;
    const blocks = sizes.map((s) => {
      const begin = x.shape.map((_, i) => i === axis ? start : 0);
      start += s;
      return { begin, size: x.shape.map((n, i) => i === axis ? s : n) };
    });
    const contiguous = blocks.every((p) =>
      tf.slice_util.isSliceContinous(x.shape, p.begin, p.size)
    );
    if (!contiguous || x.dtype === "string") return original(args);
    return blocks.map((p) => sliceBlock(x, p.begin, p.size, args.backend as WasmBackend)!);
  });
  replaceKernel("Concat", (args, original) => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    const axis = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, inputs[0].shape)[0];
    return concatBlocks(inputs, axis, args.backend as WasmBackend) ?? original(args);
  });
  replaceKernel("Transpose", (args, original) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { perm } = args.attrs as unknown as { perm: number[] };
    return transposeBlocks(x, perm, args.backend as WasmBackend) ?? original(args);
  });
  replaceKernel("Sum", (args, original) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as {
      axis: number | number[];
      keepDims: boolean;
    };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (x.dtype !== "float32" || !leading || tf.util.sizeFromShape(x.shape) === 0) {
      return original(args);
    }
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const out = sumRows(x, rows, args.backend as WasmBackend);
    const kept = x.shape.slice(axes.length);
    out.shape = keepDims ? [...axes.map(() => 1), ...kept] : kept;
    return out;
  });
  replaceKernel("BatchMatMul", (args, original) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as WasmBackend;
    return nativeProduct(a, b, transposeA, transposeB, backend) ??
      simdProduct(a, b, transposeA, transposeB, backend) ?? original(args);
  });
  simdTransposes = true;
  registerWasmLayerNorm();
  registerWasmGelu();
  registerWasmAdamW();
  installed = true;
}
