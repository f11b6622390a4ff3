/**
 * tfjs-wasm's `BatchMatMul` replaced: the native BLAS where it is loaded
 * (backends/native/blas.ts), else the SIMD kernels of `simd_matmul.ts`,
 * else tfjs's own.
 *
 * The SIMD kernels run products with a batch dimension (attention's) at
 * about 10x tfjs's scalar loop, either operand transposed for free, and
 * single products whose columns are a multiple of 8 at about 1.5x XNNPACK's
 * speed (the left operand packed in blocks to a scratch buffer allocated
 * per call), with `transposeA` free (so a weight gradient `x^T dy` needs no
 * transpose first). On the threaded build (`STARS_WASM_THREADS`), large
 * products are split across a worker pool (`pool.ts`), each thread with its
 * own scratch.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { declareProductTraits } from "../../ops/matmul.ts";
import { nativeBlas } from "../native/blas.ts";
import { isShared } from "./asm.ts";
import { heapOf, offsetOf, perHeap, type WasmBackend } from "./heap.ts";
import { KernelPool, type PoolKernel } from "./pool.ts";
import { replaceKernel } from "./replace_kernel.ts";
import { compileSimdMatMul, gemmScratchBytes, rowBlock, simdMatMul } from "./simd_matmul.ts";
import { wasmKernelThreads } from "./threads.ts";

/** Which products the SIMD path leaves to tfjs's kernel so that older runs replay. */
export interface WasmProductOptions {
  /**
   * Products whose row count is not a multiple of 4 (the tied embedding's
   * gradient, rows = vocabulary) go to tfjs's kernel (default true): its
   * order of summation keeps training bit for bit what earlier versions
   * gave, and random-depth training turned out to be sensitive to a
   * rounding change in that one gradient (README, reproduction). The SIMD
   * kernel takes any row count; false sends them there too.
   */
  readonly replayRaggedRows: boolean;
}

let options: WasmProductOptions = { replayRaggedRows: true };

/** Sets {@linkcode WasmProductOptions} (the defaults keep older runs' bits). */
export function setWasmProductOptions(next: Partial<WasmProductOptions>): void {
  options = { ...options, ...next };
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
  const rowsTaken = m % 4 === 0 || !options.replayRaggedRows;
  const single = batch === 1 && !transposeB && rowsTaken && n % 8 === 0;
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

/**
 * Replaces `BatchMatMul` (see the module notes) and declares its traits to
 * the ops layer: transposed operands are free (`transposeA` always,
 * `transposeB` in batched products, and in single ones on the native BLAS).
 */
export function replaceProductKernel(): void {
  replaceKernel("BatchMatMul", (args, original) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as WasmBackend;
    return nativeProduct(a, b, transposeA, transposeB, backend) ??
      simdProduct(a, b, transposeA, transposeB, backend) ?? original(args);
  });
  declareProductTraits("wasm", {
    ownGradient: true,
    freeTransposes: true,
    // Single products with a transposed b go native whenever the BLAS is on.
    get freeTransposeB() {
      return nativeBlas() !== null;
    },
  });
}
