/**
 * Faster versions of six tfjs-wasm kernels, registered in place of tfjs's
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
 *   piece.
 * - `Sum` over leading axes (the gradient of every broadcast bias and gain)
 *   adds rows in place, in float64, instead of transposing first: 0.4 ms
 *   instead of 3 ms for `[1024, 384] -> [384]`, and no less accurate.
 * - `BatchMatMul` with a batch dimension (attention's products) runs the
 *   SIMD kernel of `simd_batch_matmul.ts`, about 7x tfjs's scalar fallback.
 *
 * Results equal tfjs's own kernels within float32 rounding (the order of
 * additions differs); `tests/wasm_kernels.test.ts` compares them.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type BatchMatMulFn, simdBatchMatMul } from "./simd_batch_matmul.ts";

type KernelArgs = Parameters<tf.KernelFunc>[0];
type WasmBackend = tf.KernelBackend & {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(x: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): boolean;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  // The single-threaded build exports its heap; the threaded one imports it.
  wasm: { asm: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
};

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

/** The column sums of `x` read as a `[rows, cols]` matrix, shape [1, 1, cols]. */
function sumRows(x: tf.TensorInfo, rows: number, backend: WasmBackend): tf.TensorInfo {
  const cols = tf.util.sizeFromShape(x.shape) / rows;
  const out = backend.makeOutput([1, 1, cols], "float32");
  const acc = new Float64Array(cols);
  const xs = backend.typedArrayFromHeap(x);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) acc[c] += xs[base + c];
  }
  backend.typedArrayFromHeap(out).set(acc);
  return out;
}

// One kernel instance per wasm heap: restarting the backend makes a new one.
const kernels = new WeakMap<WebAssembly.Memory, BatchMatMulFn>();

function batchMatMulOver(memory: WebAssembly.Memory): BatchMatMulFn {
  let fn = kernels.get(memory);
  if (!fn) kernels.set(memory, fn = simdBatchMatMul(memory));
  return fn;
}

/** `a @ b` for float32 `[...batch, m, k] x [...batch, k, n]` with the same batch of 2 or more, or null. */
function batchedProduct(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  backend: WasmBackend,
): tf.TensorInfo | null {
  const rank = a.shape.length;
  if (rank < 3 || b.shape.length !== rank || a.dtype !== "float32" || b.dtype !== "float32") {
    return null;
  }
  const batch = a.shape.slice(0, -2);
  if (!tf.util.arraysEqual(batch, b.shape.slice(0, -2)) || tf.util.sizeFromShape(batch) < 2) {
    return null;
  }
  const [m, k] = a.shape.slice(-2), [k2, n] = b.shape.slice(-2);
  if (k !== k2) return null; // tfjs's kernel reports the mismatch
  const memory = backend.wasm.asm.memory ?? backend.wasm.wasmMemory;
  if (!memory) return null;
  const bmm = batchMatMulOver(memory);
  const out = backend.makeOutput([...batch, m, n], "float32");
  const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  bmm(at(a), at(b), at(out), tf.util.sizeFromShape(batch), m, k, n);
  return out;
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
 * Replaces the wasm backend's `Identity`, `Cast`, `Slice`, `SplitV`, `Sum`
 * and `BatchMatMul` with the faster versions described in this module's
 * notes. Values are unchanged within float32 rounding (tests compare them
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
    const plain = !transposeA && !transposeB;
    return (plain && batchedProduct(a, b, args.backend as WasmBackend)) || original(args);
  });
  installed = true;
}
