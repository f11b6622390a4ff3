/**
 * The tiled WebGPU product (backends/webgpu/matmul.ts) on a WebGPU adapter
 * (llvmpipe in CI) against the cpu backend: both tile sizes, every
 * transpose, batches, sizes that leave partial tiles; then the registered
 * kernel inside a model-sized product and its gradients, without leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertLessOrEqual, assertThrows } from "@std/assert";
import { gpuAdapter, useBackend } from "../../backends/select.ts";
import type { WebGPUBackend } from "../../backends/webgpu/program.ts";
import {
  registerWebgpuMatMul,
  runTiledMatMul,
  tiledMatMulSize,
  WEBGPU_MATMUL_ENV,
  webgpuMatMulFromEnv,
} from "../../backends/webgpu/matmul.ts";
import { maxAbsDiff } from "../_backend.ts";
import { InputError } from "../../utils/errors.ts";

const hasGpu = !!(await gpuAdapter());

/** Deterministic values in [-1, 1]. */
function values(n: number, salt: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(i * 0.37 + salt) * Math.cos(i * 0.011 + salt);
  return v;
}

/** `op(a) op(b)` on the cpu backend, from the same values. */
async function onCpu(
  a: [Float32Array, number[]],
  b: [Float32Array, number[]],
  transposeA: boolean,
  transposeB: boolean,
): Promise<Float32Array> {
  const active = tf.getBackend();
  await useBackend("cpu");
  const c = tf.tidy(() => tf.matMul(tf.tensor(...a), tf.tensor(...b), transposeA, transposeB));
  const out = await c.data() as Float32Array;
  c.dispose();
  await useBackend(active as "webgpu");
  return out;
}

Deno.test("webgpu matmul: which products take the tiled program", () => {
  assertEquals(tiledMatMulSize(1, 8192, 512, 1536), 8); // the paper's QKV projection
  assertEquals(tiledMatMulSize(1, 8192, 1024, 512), 8); // 256 tiles of 128
  assertEquals(tiledMatMulSize(1, 512, 8192, 1536), 4); // weight gradient: 48 tiles of 128
  assertEquals(tiledMatMulSize(1, 256, 64, 256), 4); // 16 tiles of 64
  assertEquals(tiledMatMulSize(4096, 16, 64, 16), null); // attention: tfjs's kernel
  assertEquals(tiledMatMulSize(1, 64, 4, 64), null); // k below one staged step
});

Deno.test("webgpu matmul: STARS_WEBGPU_MATMUL is tfjs (default) or toolkit", () => {
  const saved = Deno.env.get(WEBGPU_MATMUL_ENV);
  try {
    Deno.env.delete(WEBGPU_MATMUL_ENV);
    assertEquals(webgpuMatMulFromEnv(), "tfjs");
    Deno.env.set(WEBGPU_MATMUL_ENV, "toolkit");
    assertEquals(webgpuMatMulFromEnv(), "toolkit");
    Deno.env.set(WEBGPU_MATMUL_ENV, "fast");
    assertThrows(() => webgpuMatMulFromEnv(), InputError, '"tfjs" or "toolkit"');
  } finally {
    if (saved === undefined) Deno.env.delete(WEBGPU_MATMUL_ENV);
    else Deno.env.set(WEBGPU_MATMUL_ENV, saved);
  }
});

Deno.test({
  name: "webgpu matmul: the tiled program equals the cpu backend (tiles, transposes, batches)",
  ignore: !hasGpu,
  fn: async () => {
    await useBackend("webgpu");
    const backend = tf.backend() as unknown as WebGPUBackend;
    // Partial tiles on every side; k not a multiple of the staged depth (8).
    const cases: [number, number, number, number][] = [[1, 70, 37, 130], [3, 129, 20, 65]];
    for (const [batch, m, k, n] of cases) {
      for (const perSide of [4, 8] as const) {
        for (
          const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [
            true,
            true,
          ]]
        ) {
          const aShape = [batch, ...(transposeA ? [k, m] : [m, k])];
          const bShape = [batch, ...(transposeB ? [n, k] : [k, n])];
          const a: [Float32Array, number[]] = [values(batch * m * k, 1), aShape];
          const b: [Float32Array, number[]] = [values(batch * k * n, 2), bShape];
          const expected = await onCpu(a, b, transposeA, transposeB);
          const [ta, tb] = [tf.tensor(...a), tf.tensor(...b)];
          const before = tf.memory().numTensors;
          const info = runTiledMatMul(backend, ta, tb, transposeA, transposeB, perSide);
          const c = tf.engine().makeTensorFromTensorInfo(info);
          assertEquals(c.shape, [batch, m, n]);
          const got = await c.data();
          tf.dispose([c, ta, tb]);
          assertEquals(tf.memory().numTensors, before - 2, "leaked tensors");
          const what =
            `[${batch}, ${m}, ${k}, ${n}] per side ${perSide} tA ${transposeA} tB ${transposeB}`;
          assertLessOrEqual(maxAbsDiff(expected, got), 1e-5 * k, what);
        }
      }
    }
  },
});

Deno.test({
  name: "webgpu matmul: registered, a large product and its gradients equal the cpu backend",
  ignore: !hasGpu,
  fn: async () => {
    const [m, k, n] = [256, 96, 320]; // 20 tiles of 64
    assertEquals(tiledMatMulSize(1, m, k, n), 4);
    const a = values(m * k, 3), b = values(k * n, 4), w = values(m * n, 5);
    const workload = () =>
      tf.tidy(() => {
        const [x, y, u] = [tf.tensor(a, [m, k]), tf.tensor(b, [k, n]), tf.tensor(w, [m, n])];
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), u));
        const [dx, dy] = tf.grads(f)([x, y]); // dx = u y^T (transposeB), dy = x^T u (transposeA)
        return [tf.matMul(x, y), dx, dy];
      });
    await useBackend("cpu");
    const expected = await Promise.all(workload().map((t) => t.data()));
    await useBackend("webgpu");
    registerWebgpuMatMul();
    registerWebgpuMatMul(); // idempotent
    const before = tf.memory().numTensors;
    const out = workload();
    const got = await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
    assertEquals(tf.memory().numTensors, before, "leaked tensors");
    ["product", "d/dx", "d/dy"].forEach((name, i) =>
      assertLessOrEqual(maxAbsDiff(expected[i], got[i]), 1e-4, name)
    );
    assert(tf.getKernel("BatchMatMul", "webgpu"));
  },
});
