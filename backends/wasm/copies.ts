/**
 * Copies without the copy, or with one block copy: tfjs-wasm's `Identity`,
 * `Cast`, `Slice`, `SplitV`, `Concat` and `Transpose` replaced.
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
 *   (`copy.ts`), not one JavaScript call per row; a `Transpose` that keeps
 *   the last axis (the model's head split and merge) is one block copy per
 *   row.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { wasmCopy } from "./copy.ts";
import { offsetOf, perHeap, type WasmBackend } from "./heap.ts";
import { replaceKernel } from "./replace_kernel.ts";

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

/** Replaces `Identity`, `Cast`, `Slice`, `SplitV`, `Concat` and `Transpose` (see the module notes). */
export function replaceCopyKernels(): void {
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
}
