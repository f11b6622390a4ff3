/**
 * The fused GELU (ops/gelu.ts) on wasm, and on WebGPU where there is an
 * adapter (llvmpipe in CI), against the same function built from tfjs ops on
 * the cpu backend: values, first- and second-order derivatives (on wasm, on
 * the SIMD path and the JavaScript one), and no leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertLessOrEqual } from "@std/assert";
import { gpuAdapter, useBackend } from "../../backends/select.ts";
import { fusedGeluReady, GELU, GELU_GRAD, GELU_WITH_SLOPE } from "../../ops/gelu.ts";
import { gelu } from "../../ops/gelu.ts";
import { maxAbsDiff } from "../_backend.ts";
import { simdGelu } from "../../backends/wasm/simd_gelu.ts";

const BACKENDS = ["wasm", ...(await gpuAdapter() ? ["webgpu" as const] : [])] as const;

/** Values from -6 to 6 (both tails), and fixed weights. */
function ramp(n: number, salt = 0): tf.Tensor {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = salt ? Math.sin(i * 0.7 + salt) : -6 + 12 * i / (n - 1);
  return tf.tensor(v);
}

/** GELU, its gradient, and the gradients of a function of the gradient in x and dy. */
function workload(n: number): tf.Tensor[] {
  const x = ramp(n), w = ramp(n, 1), u = ramp(n, 2);
  const [dx] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(gelu(x), w)))([x]);
  const secondOrder = tf.grads((x: tf.Tensor, w: tf.Tensor) => {
    const back = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(gelu(z), w)))(x);
    return tf.sum(tf.mul(back, u));
  })([x, w]);
  return [gelu(x), dx, ...secondOrder];
}

for (const backend of BACKENDS) {
  Deno.test(`fused gelu (${backend}): values and first and second derivatives equal tfjs ops on cpu`, async () => {
    // On wasm, 64 values run the SIMD kernels, 63 the JavaScript ones.
    for (const n of [64, 63]) {
      await useBackend("cpu");
      assert(!fusedGeluReady());
      const reference = await Promise.all(tf.tidy(() => workload(n)).map((t) => t.data()));
      await useBackend(backend);
      assert(fusedGeluReady(), `useBackend('${backend}') should register the fused gelu`);
      const before = tf.memory().numTensors;
      const fused = tf.tidy(() => workload(n));
      const got = await Promise.all(fused.map((t) => t.data()));
      tf.dispose(fused);
      assertEquals(tf.memory().numTensors, before, "leaked tensors");
      const names = ["gelu", "gelu'", "d2 in x", "d2 in dy"];
      reference.forEach((r, i) =>
        assertLessOrEqual(maxAbsDiff(r, got[i]), 2e-6, `${names[i]}, n ${n}`)
      );
    }
  });
}

Deno.test("simd gelu: the unrolled blocks and the tail give each block what it gives alone", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const heap = new Float32Array(memory.buffer);
  const n = 4 * 19; // four unrolled iterations of 16 lanes, then three lone blocks
  for (let i = 0; i < n; i++) heap[i] = 3 * Math.sin(1.3 * i);
  for (let i = 0; i < n; i++) heap[n + i] = Math.cos(0.7 * i); // dy
  const k = simdGelu(memory);
  const [x, dy, y, dx, one] = [0, n, 2 * n, 3 * n, 4 * n].map((f) => 4 * f);
  k.forward(x, y, n);
  k.backward(dy, x, dx, n);
  for (let b = 0; b < n; b += 4) {
    k.forward(x + 4 * b, one, 4);
    assertEquals([...heap.slice(one / 4, one / 4 + 4)], [...heap.slice(y / 4 + b, y / 4 + b + 4)]);
    k.backward(dy + 4 * b, x + 4 * b, one, 4);
    assertEquals([...heap.slice(one / 4, one / 4 + 4)], [
      ...heap.slice(dx / 4 + b, dx / 4 + b + 4),
    ]);
  }
});

Deno.test("fused gelu (wasm): the backward pass that reads the forward's slope gives the recomputing kernel's bits", async () => {
  await useBackend("wasm");
  assert(tf.getKernel(GELU_WITH_SLOPE, "wasm"), "wasm registers the forward kernel with the slope");
  for (const n of [4096, 63]) {
    const x = tf.mul(ramp(n, 3), 4), dy = ramp(n, 4);
    // Under tf.grad the op runs the slope-writing forward kernel; the backward only multiplies.
    const viaSlope = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(gelu(z), dy)))(x);
    const recomputed = tf.engine().runKernel(GELU_GRAD, { dy, x } as unknown as tf.NamedTensorMap);
    const [y, slope] = tf.engine().runKernel(
      GELU_WITH_SLOPE,
      { x } as unknown as tf.NamedTensorMap,
    ) as tf.Tensor[];
    const plain = tf.engine().runKernel(GELU, { x } as unknown as tf.NamedTensorMap) as tf.Tensor;
    assertEquals(viaSlope.dataSync(), (recomputed as tf.Tensor).dataSync(), `dx, n ${n}`);
    assertEquals(y.dataSync(), plain.dataSync(), `y, n ${n}`);
    if (n % 4 === 0) {
      // The slope is the factor the recomputing kernel multiplies by: dy = 1 gives it back.
      const ones = tf.onesLike(x);
      const factor = tf.engine().runKernel(
        GELU_GRAD,
        { dy: ones, x } as unknown as tf.NamedTensorMap,
      );
      assertEquals(slope.dataSync(), (factor as tf.Tensor).dataSync());
      tf.dispose([ones, factor as tf.Tensor]);
    }
    tf.dispose([x, dy, viaSlope, recomputed as tf.Tensor, y, slope, plain]);
  }
});
