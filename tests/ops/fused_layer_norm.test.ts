/**
 * The fused LayerNorm (ops/layer_norm.ts) on wasm, and on WebGPU where
 * there is an adapter (llvmpipe in CI), against the same function built from
 * tfjs ops on the cpu backend: values, first-order gradients, second-order
 * derivatives (with respect to a direction, and with respect to the input
 * and the gain), and no leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertLessOrEqual } from "@std/assert";
import { gpuAdapter, useBackend } from "../../backends/select.ts";
import {
  fusedLayerNormReady,
  LAYER_NORM,
  LAYER_NORM_GRAD,
  LAYER_NORM_WITH_STATS,
} from "../../ops/layer_norm.ts";
import { layerNorm } from "../../models/norm.ts";
import { maxAbsDiff } from "../_backend.ts";

const BACKENDS = ["wasm", ...(await gpuAdapter() ? ["webgpu" as const] : [])] as const;

function fill(shape: number[], salt: number, scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = scale * Math.sin(i * 0.61 + salt) + 0.3 * Math.cos(i * 0.07);
  return tf.tensor(v, shape);
}

/** Loss `<LN(x), w>` and its gradients, then `d/du <dLN(x)^T u, v>` (a jvpExact). */
function workload(d: number): tf.Tensor[] {
  const x = fill([3, 5, d], 1, 2), gain = fill([d], 2), bias = fill([d], 3);
  const w = fill([3, 5, d], 4), v = fill([3, 5, d], 5);
  const ln = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(x, { gain: g, bias: b });
  const loss = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(ln(x, g, b), w));
  const [dx, dg, db] = tf.grads(loss)([x, gain, bias]);
  const vjpAt = (u: tf.Tensor) =>
    tf.grad((y: tf.Tensor) => tf.sum(tf.mul(ln(y, gain, bias), u)))(x);
  const jv = tf.grad((u: tf.Tensor) => tf.sum(tf.mul(vjpAt(u), v)))(tf.zerosLike(x));
  return [ln(x, gain, bias), dx, dg, db, jv];
}

for (const backend of BACKENDS) {
  Deno.test(`fused layer norm (${backend}): values, gradients and J v equal tfjs ops on cpu`, async () => {
    // On wasm, width 8 runs the SIMD kernels, width 6 the JavaScript ones.
    for (const d of [8, 6]) {
      await useBackend("cpu");
      assert(!fusedLayerNormReady());
      const reference = await Promise.all(tf.tidy(() => workload(d)).map((t) => t.data()));
      await useBackend(backend);
      assert(
        fusedLayerNormReady(),
        `useBackend('${backend}') should register the fused layer norm`,
      );
      const before = tf.memory().numTensors;
      const fused = tf.tidy(() => workload(d));
      const got = await Promise.all(fused.map((t) => t.data()));
      tf.dispose(fused);
      assertEquals(tf.memory().numTensors, before, "leaked tensors");
      const names = ["value", "dx", "dgain", "dbias", "J v"];
      reference.forEach((r, i) =>
        assertLessOrEqual(maxAbsDiff(r, got[i]), 2e-5, `${names[i]}, d ${d}`)
      );
    }
  });

  Deno.test(`fused layer norm (${backend}): second derivatives equal tfjs ops on cpu`, async () => {
    // A generic function of all three first-order gradients of <LN(x), u>,
    // differentiated with respect to x, the gain and u (the backward's dy).
    const workload = () => {
      const x = fill([2, 3, 8], 1, 2), gain = fill([8], 2), bias = fill([8], 3);
      const u = fill([2, 3, 8], 4), w = fill([2, 3, 8], 5), wg = fill([8], 6), wb = fill([8], 7);
      const outer = (x: tf.Tensor, g: tf.Tensor, u: tf.Tensor) => {
        const inner = (z: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(layerNorm(z, { gain: g, bias: b }), u));
        const [dx, dgain, dbias] = tf.grads(inner)([x, g, bias]);
        return tf.addN([
          tf.sum(tf.mul(dx, w)),
          tf.sum(tf.mul(dgain, wg)),
          tf.sum(tf.mul(dbias, wb)),
        ]);
      };
      return tf.grads(outer)([x, gain, u]);
    };
    await useBackend("cpu");
    const reference = await Promise.all(tf.tidy(workload).map((t) => t.data()));
    await useBackend(backend);
    const got = tf.tidy(workload);
    const values = await Promise.all(got.map((t) => t.data()));
    tf.dispose(got);
    const names = ["x", "gain", "u"];
    reference.forEach((r, i) => assertLessOrEqual(maxAbsDiff(r, values[i]), 1e-4, names[i]));
  });
}

if (BACKENDS.includes("webgpu")) {
  Deno.test("fused layer norm (webgpu): more rows than one dispatch dimension holds", async () => {
    // 70 000 rows: runWebGPUProgram folds the row dispatch into two dimensions.
    const run = () =>
      tf.tidy(() => layerNorm(fill([70_000, 4], 1, 2), { gain: fill([4], 2), bias: fill([4], 3) }));
    await useBackend("cpu");
    const reference = run();
    const want = await reference.data();
    reference.dispose();
    await useBackend("webgpu");
    const fused = run();
    const got = await fused.data();
    fused.dispose();
    assertLessOrEqual(maxAbsDiff(want, got), 2e-5);
  });
}

Deno.test("fused layer norm (wasm): the backward pass that reads the forward's statistics gives the recomputing kernel's bits", async () => {
  await useBackend("wasm");
  assert(
    tf.getKernel(LAYER_NORM_WITH_STATS, "wasm"),
    "wasm registers the forward kernel with stats",
  );
  for (const d of [128, 12, 10]) {
    const x = fill([6, 5, d], 1, 3),
      gain = fill([d], 2),
      bias = fill([d], 3),
      dy = fill([6, 5, d], 4);
    const attrs = { eps: 1e-5 } as unknown as tf.NamedAttrMap;
    // Under tf.grads the op runs the statistics-writing forward kernel.
    const viaStats = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(layerNorm(a, { gain: g, bias: b }), dy))
    )([x, gain, bias]);
    const recomputed = tf.engine().runKernel(
      LAYER_NORM_GRAD,
      { dy, x, gain },
      attrs,
    ) as tf.Tensor[];
    viaStats.forEach((t, i) =>
      assertEquals(t.dataSync(), recomputed[i].dataSync(), `output ${i}, d ${d}`)
    );
    const inputs = { x, gain, bias } as unknown as tf.NamedTensorMap;
    const [y] = tf.engine().runKernel(LAYER_NORM_WITH_STATS, inputs, attrs) as tf.Tensor[];
    const plain = tf.engine().runKernel(LAYER_NORM, inputs, attrs) as tf.Tensor;
    assertEquals(y.dataSync(), plain.dataSync(), `y, d ${d}`);
    tf.dispose([x, gain, bias, dy, ...viaStats, ...recomputed, y, plain]);
  }
});
