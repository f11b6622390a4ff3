/**
 * The threaded wasm build (backends/wasm/threads.ts) computes what the
 * single-threaded one does. Both run in this process, one after the other:
 * reference numbers single-threaded, then the wasm backend is restarted on 2
 * threads.
 */
import * as tf from "@tensorflow/tfjs";
import { assertEquals, assertLessOrEqual, assertRejects, assertThrows } from "@std/assert";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { useBackend } from "../../backends/select.ts";
import {
  MAX_WASM_THREADS,
  useWasmThreads,
  WASM_THREADS_ENV,
  wasmKernelThreads,
  wasmThreadsFromEnv,
} from "../../backends/wasm/threads.ts";
import { PAPER_MODEL } from "../../models/config.ts";
import { LoopedLM } from "../../models/looped.ts";
import { resolveConfig } from "../../train/config.ts";
import { InputError } from "../../utils/errors.ts";
import { trainBatch } from "../../train/data.ts";
import { maskedCrossEntropy } from "../../train/loss.ts";

/** A fixed matrix with entries in [-1, 1]. */
function matrix(rows: number, cols: number, salt: number): tf.Tensor2D {
  const v = new Float32Array(rows * cols);
  for (let i = 0; i < v.length; i++) v[i] = Math.sin(i * 0.7 + salt) * Math.cos(i * 0.013);
  return tf.tensor2d(v, [rows, cols]);
}

/** A matmul, then a looped model's loss and gradients on one batch. */
async function workload(): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const product = tf.tidy(() => tf.matMul(matrix(256, 320, 1), matrix(320, 192, 2)));
  out.push(await product.data() as Float32Array);
  product.dispose();

  const config = resolveConfig({ digits: 4, batch_size: 16, dropout: 0 });
  const model = new LoopedLM(
    { ...PAPER_MODEL, max_seq_len: 16, d_model: 64, n_heads: 4, d_ff: 128, dropout: 0 },
    5,
  );
  const batch = trainBatch(config, 3);
  const shape: [number, number] = [batch.batch, batch.seqLen];
  const { value, grads } = tf.tidy(() => {
    const ids = tf.tensor2d(batch.inputs, shape, "int32");
    const targets = tf.tensor2d(batch.targets, shape, "int32");
    const mask = tf.tensor2d(batch.mask, shape, "float32");
    return tf.variableGrads(
      () => maskedCrossEntropy(model.forward(ids, 3).logits, targets, mask),
      [...model.params.values()],
    );
  });
  out.push(await value.data() as Float32Array);
  for (const v of model.params.values()) out.push(await grads[v.name].data() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

Deno.test("STARS_WASM_THREADS: unset means 0, else an integer in 1..8", () => {
  const saved = Deno.env.get(WASM_THREADS_ENV);
  try {
    Deno.env.delete(WASM_THREADS_ENV);
    assertEquals(wasmThreadsFromEnv(), 0);
    Deno.env.set(WASM_THREADS_ENV, "2");
    assertEquals(wasmThreadsFromEnv(), 2);
    for (const bad of ["0", "1.5", "two", String(MAX_WASM_THREADS + 1)]) {
      Deno.env.set(WASM_THREADS_ENV, bad);
      assertThrows(() => wasmThreadsFromEnv(), InputError);
    }
  } finally {
    if (saved === undefined) Deno.env.delete(WASM_THREADS_ENV);
    else Deno.env.set(WASM_THREADS_ENV, saved);
  }
});

Deno.test({
  name: "threaded wasm (2 threads) gives the single-threaded numbers",
  // The pool workers outlive the test (unref'd, they do not hold Deno open).
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    assertEquals(await useBackend("wasm"), "wasm");
    const reference = await workload();
    await assertRejects(() => useWasmThreads(2), Error, "already started");

    // Restart the wasm backend: same factory, fresh module.
    const factory = tf.findBackendFactory("wasm");
    tf.removeBackend("wasm");
    tf.registerBackend("wasm", factory, 2);
    assertEquals(await useWasmThreads(2), 2);
    assertEquals(wasmKernelThreads(), 2); // the toolkit's products on 2 threads
    assertEquals(getThreadsCount(), 1); // tfjs's XNNPACK on 1 (see backends/wasm/threads.ts)
    assertEquals(tf.getBackend(), "wasm");
    assertEquals(globalThis.Worker.name, "Worker"); // Deno's own, restored

    const threaded = await workload();
    assertEquals(threaded.length, reference.length);
    for (let k = 0; k < reference.length; k++) {
      let scale = 0, diff = 0;
      for (let i = 0; i < reference[k].length; i++) {
        scale = Math.max(scale, Math.abs(reference[k][i]));
        diff = Math.max(diff, Math.abs(reference[k][i] - threaded[k][i]));
      }
      assertLessOrEqual(diff, 1e-5 * scale, `array ${k}: max |diff| ${diff}, scale ${scale}`);
    }
  },
});
