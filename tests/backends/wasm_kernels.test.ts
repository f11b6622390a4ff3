/**
 * The wasm kernels the toolkit replaces (backends/wasm/install.ts) and its SIMD
 * matrix products (backends/wasm/simd_matmul.ts) compute what tfjs's own
 * kernels compute: checked against float64 sums, against the cpu backend
 * (which the replacements do not touch), and for leaks of wasm buffers.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertLessOrEqual } from "@std/assert";
import { useBackend } from "../../backends/select.ts";
import {
  compileSimdMatMul,
  gemmScratchBytes,
  type SimdMatMul,
  simdMatMulModule,
} from "../../backends/wasm/simd_matmul.ts";
import { hasRelaxedSimd } from "../../backends/wasm/asm.ts";
import { PAPER_MODEL } from "../../models/config.ts";
import { LoopedLM } from "../../models/looped.ts";
import { resolveConfig } from "../../train/config.ts";
import { trainBatch } from "../../train/data.ts";
import { maskedCrossEntropy } from "../../train/loss.ts";
import { maxAbsDiff } from "../_backend.ts";

/** The kernels over `memory`, with or without relaxed SIMD's fused multiply-add. */
function kernels(memory: WebAssembly.Memory, fused: boolean): SimdMatMul {
  const module = new WebAssembly.Module(simdMatMulModule(false, fused));
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdMatMul;
}

/** Deterministic values in [-1, 1]. */
function fill(n: number, salt: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < v.length; i++) v[i] = Math.sin(i * 0.37 + salt) * Math.cos(i * 0.011 + salt);
  return v;
}

Deno.test("simd batched products: equal float64 sums, A plain or transposed, B plain or transposed", () => {
  for (const fused of [true, false]) batchedCase(fused);
});

/** Where `X[g][r, c]` of a `[g, rows, cols]` matrix stack lies, stored plain or transposed. */
function at(base: number, rows: number, cols: number, transposed: boolean) {
  return (g: number, r: number, c: number) =>
    base / 4 + g * rows * cols + (transposed ? c * rows + r : r * cols + c);
}

function batchedCase(fused: boolean) {
  const memory = new WebAssembly.Memory({ initial: 64 });
  const { bmm, bmmT } = kernels(memory, fused);
  const heap = new Float32Array(memory.buffer);
  // n = 37 takes the 16-, 4- and 1-column paths, k = 7 and 33 bmmT's 4-lane
  // and scalar parts; m = 1 and k = 1 are the edges.
  const shapes = [[3, 5, 7, 37], [2, 16, 32, 16], [4, 1, 32, 3], [2, 3, 1, 20], [2, 4, 33, 5]];
  for (const [g, m, k, n] of shapes) {
    for (const variant of ["plain", "A transposed", "B transposed"]) {
      const a = 16, b = a + g * m * k * 4, c = b + g * k * n * 4;
      heap.set(fill(g * m * k, 1), a / 4);
      heap.set(fill(g * k * n, 2), b / 4);
      heap.fill(99, c / 4, c / 4 + g * m * n + 8); // also catches writes past the end
      const aT = variant === "A transposed", bT = variant === "B transposed";
      if (bT) bmmT(a, b, c, g, m, k, n);
      else bmm(a, b, c, g, m, k, n, aT ? 4 : 4 * k, aT ? 4 * m : 4);
      const A = at(a, m, k, aT), B = at(b, k, n, bT);
      let worst = 0;
      for (let gi = 0; gi < g; gi++) {
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let p = 0; p < k; p++) sum += heap[A(gi, i, p)] * heap[B(gi, p, j)];
            worst = Math.max(worst, Math.abs(sum - heap[c / 4 + (gi * m + i) * n + j]));
          }
        }
      }
      assertLessOrEqual(worst, 1e-5 * k, `[${g}, ${m}, ${k}, ${n}] ${variant}, fused ${fused}`);
      assertEquals(heap[c / 4 + g * m * n], 99, "wrote past the output");
    }
  }
}

Deno.test("simd tiled product: equals float64 sums, with A stored plain or transposed", () => {
  for (const fused of [true, false]) tiledCase(fused);
});

function tiledCase(fused: boolean) {
  const memory = new WebAssembly.Memory({ initial: 64 });
  const { gemm } = kernels(memory, fused);
  const heap = new Float32Array(memory.buffer);
  // m past whole tiles and blocks (13 = two tiles and one row; blocks of
  // 12 and of 8, the last mid-tile), k odd (the unrolled loop's remainder).
  const cases = [[1, 1, 8, 6], [6, 2, 8, 6], [13, 7, 24, 12], [12, 33, 16, 8], [29, 64, 40, 12]];
  for (const [m, k, n, block] of cases) {
    for (const transposed of [false, true]) {
      const a = 16, b = a + m * k * 4, c = b + k * n * 4, scratch = c + (m * n + 8) * 4;
      heap.set(fill(m * k, 6), a / 4);
      heap.set(fill(k * n, 7), b / 4);
      heap.fill(99, c / 4, c / 4 + m * n + 8);
      const scratchEnd = scratch + gemmScratchBytes(k, block);
      heap.fill(77, scratchEnd / 4, scratchEnd / 4 + 8);
      const [aRow, aK] = transposed ? [4, 4 * m] : [4 * k, 4];
      gemm(a, b, c, m, k, n, aRow, aK, block, scratch);
      let worst = 0;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let p = 0; p < k; p++) {
            const aip = heap[(a + i * aRow + p * aK) / 4];
            sum += aip * heap[b / 4 + p * n + j];
          }
          worst = Math.max(worst, Math.abs(sum - heap[c / 4 + i * n + j]));
        }
      }
      const what = `[${m}, ${k}, ${n}] block ${block} transposed ${transposed} fused ${fused}`;
      assertLessOrEqual(worst, 1e-5 * k, what);
      assertEquals(heap[c / 4 + m * n], 99, `wrote past the output: ${what}`);
      assertEquals(heap[scratchEnd / 4], 77, `wrote past the scratch: ${what}`);
    }
  }
}

/** Runs `f` on the cpu backend and on wasm; returns both results' values. */
async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const run = async () => {
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    const vals = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
    tf.dispose(list);
    return vals;
  };
  await useBackend("cpu");
  const reference = await run();
  await useBackend("wasm");
  return [reference, await run()];
}

async function assertClose(f: () => tf.Tensor | tf.Tensor[], tol: number, what: string) {
  const [reference, wasm] = await onBoth(f);
  assertEquals(wasm.length, reference.length, what);
  reference.forEach((r, i) => assertLessOrEqual(maxAbsDiff(r, wasm[i]), tol, `${what} #${i}`));
}

Deno.test("wasm kernels: installed by useBackend, Identity shares its input's buffer", async () => {
  await useBackend("wasm");
  const x = tf.tensor([1, 2, 3]);
  const y = tf.clone(x);
  assert(y.dataId === x.dataId, "Identity copied its input");
  x.dispose(); // y keeps the shared buffer alive
  assertEquals(Array.from(await y.data()), [1, 2, 3]);
  y.dispose();
});

Deno.test("wasm kernels: sums, slices, splits and products match the cpu backend", async () => {
  const x = () => tf.tensor(fill(6 * 5 * 8, 3), [6, 5, 8]);
  await assertClose(() => tf.sum(x(), 0), 1e-5, "sum over the first axis");
  await assertClose(() => tf.sum(x(), [0, 1], true), 1e-5, "sum over leading axes, kept");
  await assertClose(() => tf.sum(x(), [1, 2]), 1e-5, "sum over trailing axes (tfjs's path)");
  await assertClose(() => tf.sum(x(), [0, 2]), 1e-5, "sum over mixed axes (tfjs's path)");
  await assertClose(() => tf.slice(x(), [2, 0, 0], [3, 5, 8]), 0, "contiguous slice");
  await assertClose(() => tf.slice(x(), [1, 1, 2], [2, 3, 4]), 0, "strided slice");
  await assertClose(() => tf.split(x(), [1, 2, 3], 0), 0, "contiguous split");
  await assertClose(() => tf.split(x(), 2, 2), 0, "strided split");
  await assertClose(() => tf.cast(tf.cast(x(), "int32"), "int32"), 0, "same-dtype cast");
  await assertClose(
    () => tf.concat([x(), x().slice([0, 0, 0], [6, 2, 8])], 1),
    0,
    "concat, axis 1",
  );
  await assertClose(() => tf.concat([x(), tf.ones([6, 5, 3]), x()], 2), 0, "concat, last axis");
  await assertClose(() => tf.concat([x(), x()], 0), 0, "concat, first axis");
  await assertClose(() => tf.concat([tf.zeros([6, 0, 8]), x()], 1), 0, "concat, an empty input");
  await assertClose(
    () => tf.cast(tf.concat([tf.cast(x(), "int32"), tf.ones([6, 1, 8], "int32")], 1), "float32"),
    0,
    "concat, int32",
  );
  const h = () => tf.tensor(fill(2 * 3 * 5 * 7, 9), [2, 3, 5, 7]);
  for (const perm of [[2, 0, 1, 3], [1, 2, 0, 3], [0, 2, 1, 3], [3, 2, 1, 0], [0, 1, 3, 2]]) {
    await assertClose(() => tf.transpose(h(), perm), 0, `transpose ${perm} (rank 4)`);
  }
  await assertClose(() => tf.transpose(x(), [1, 0, 2]), 0, "transpose, rank 3");
  await assertClose(() => tf.transpose(x().reshape([30, 8])), 0, "transpose, rank 2 (tfjs's)");
  await assertClose(
    () => tf.cast(tf.transpose(tf.cast(h(), "int32"), [2, 0, 1, 3]), "float32"),
    0,
    "transpose, int32",
  );
  await assertClose(() => tf.transpose(tf.zeros([2, 0, 3, 4]), [2, 0, 1, 3]), 0, "empty");
  const a = () => tf.tensor(fill(6 * 5 * 7, 4), [2, 3, 5, 7]);
  const b = () => tf.tensor(fill(6 * 7 * 9, 5), [2, 3, 7, 9]);
  await assertClose(() => tf.matMul(a(), b()), 1e-5, "batched product, rank 4");
  await assertClose(
    () => tf.matMul(a(), b().slice([0, 0, 0, 0], [1, 1, 7, 9])),
    1e-5,
    "broadcast batch",
  );
  await assertClose(() => tf.matMul(a(), a(), false, true), 1e-5, "batched, transposed b");
  await assertClose(() => tf.matMul(a(), a(), true, false), 1e-5, "batched, transposed a");
  await assertClose(
    () => tf.matMul(a(), a().reshape([2, 3, 7, 5]), true, true),
    1e-5,
    "both (tfjs's)",
  );
  const p = () => tf.tensor(fill(12 * 20, 6), [12, 20]);
  const q = () => tf.tensor(fill(12 * 16, 7), [12, 16]);
  const r = () => tf.tensor(fill(20 * 16, 8), [20, 16]);
  await assertClose(() => tf.matMul(p(), r()), 1e-5, "single product, tiled");
  await assertClose(() => tf.matMul(p(), q(), true, false), 1e-5, "transposed a, tiled");
  await assertClose(() => tf.matMul(q(), q(), false, true), 1e-5, "single, transposed b (tfjs's)");
  await assertClose(() => tf.matMul(p().slice([0, 0], [7, 20]), r()), 1e-5, "7 rows (tfjs's)");
  const s = () => r().slice([0, 0], [20, 12]);
  await assertClose(() => tf.matMul(p(), s()), 1e-5, "12 columns (tfjs's)");
});

Deno.test("wasm kernels: a looped model's gradients match the cpu backend, without leaking buffers", async () => {
  const config = resolveConfig({ digits: 4, batch_size: 8, dropout: 0 });
  const batch = trainBatch(config, 3);
  const shape: [number, number] = [batch.batch, batch.seqLen];
  const gradients = () => {
    const model = new LoopedLM(
      { ...PAPER_MODEL, max_seq_len: 16, d_model: 32, n_heads: 4, d_ff: 64, dropout: 0 },
      5,
    );
    const ids = tf.tensor2d(batch.inputs, shape, "int32");
    const targets = tf.tensor2d(batch.targets, shape, "int32");
    const mask = tf.tensor2d(batch.mask, shape, "float32");
    const { value, grads } = tf.variableGrads(
      () => maskedCrossEntropy(model.forward(ids, 3).logits, targets, mask),
      [...model.params.values()],
    );
    const out = [value, ...[...model.params.values()].map((v) => grads[v.name])];
    model.dispose();
    return out;
  };
  await assertClose(gradients, 2e-5, "loss and gradients");

  const dataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  tf.dispose(tf.tidy(gradients)); // warm-up: first-use allocations
  const before = { tensors: tf.memory().numTensors, buffers: dataIds() };
  for (let i = 0; i < 3; i++) tf.dispose(tf.tidy(gradients));
  assertEquals(tf.memory().numTensors, before.tensors, "tensors leaked");
  assertEquals(dataIds(), before.buffers, "wasm buffers leaked");
});

Deno.test("relaxed SIMD is detected by validating a one-instruction probe", () => {
  // The probe agrees with the full kernel module: a module that then fails to
  // compile is an assembler bug, and compileSimdMatMul reports it.
  assertEquals(hasRelaxedSimd(), WebAssembly.validate(simdMatMulModule(false, true)));
  assert(WebAssembly.validate(simdMatMulModule(false, false)));
  assert(compileSimdMatMul(false) instanceof WebAssembly.Module);
});
