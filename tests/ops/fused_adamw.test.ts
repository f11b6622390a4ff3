/**
 * The fused AdamW update (ops/adamw.ts) on wasm, and on WebGPU where
 * there is an adapter (llvmpipe in CI), against the same optimizer's tfjs-op
 * path on the cpu backend: three steps with a clip factor, decayed and
 * undecayed parameters, sizes that are not multiples of a workgroup; and
 * no leaked tensors.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertLessOrEqual } from "@std/assert";
import { adamwArrays, adamwFactors, fusedAdamWReady } from "../../ops/adamw.ts";
import { simdAdamW } from "../../backends/wasm/simd_adamw.ts";
import { gpuAdapter, useBackend } from "../../backends/select.ts";
import { AdamW } from "../../train/adamw.ts";
import { maxAbsDiff } from "../_backend.ts";

const BACKENDS = ["wasm", ...(await gpuAdapter() ? ["webgpu" as const] : [])] as const;

function values(n: number, salt: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(i * 0.37 + salt) * Math.cos(i * 0.011 + salt);
  return v;
}

const SHAPES: Record<string, number[]> = {
  "block.w": [37, 29],
  "block.b": [29],
  "embed.pos": [5, 7],
};

/** Parameters and moments after three steps, as arrays by name (params, then m, then v). */
async function threeSteps(): Promise<Record<string, Float32Array>> {
  const params = new Map<string, tf.Variable>();
  Object.entries(SHAPES).forEach(([name, shape], i) => {
    params.set(name, tf.variable(tf.tensor(values(tf.util.sizeFromShape(shape), i), shape)));
  });
  const opt = new AdamW(params);
  const before = tf.memory().numTensors;
  for (let step = 0; step < 3; step++) {
    const grads: Record<string, tf.Tensor> = {};
    Object.entries(SHAPES).forEach(([name, shape], i) => {
      grads[name] = tf.tensor(values(tf.util.sizeFromShape(shape), 10 * step + i + 3), shape);
    });
    const scale = step === 1 ? undefined : tf.scalar(step === 0 ? 0.5 : 0.8);
    opt.apply(params, grads, { lr: 0.01, beta1: 0.9, beta2: 0.99, weight_decay: 0.1 }, scale);
    tf.dispose([...Object.values(grads), ...(scale ? [scale] : [])]);
  }
  assertEquals(tf.memory().numTensors, before, "leaked tensors");
  const out: Record<string, Float32Array> = {};
  for (const [name, p] of params) {
    out[name] = await p.data() as Float32Array;
    out[`m ${name}`] = await opt.m.get(name)!.data() as Float32Array;
    out[`v ${name}`] = await opt.v.get(name)!.data() as Float32Array;
  }
  opt.dispose();
  params.forEach((p) => p.dispose());
  return out;
}

for (const backend of BACKENDS) {
  Deno.test(`fused adamw (${backend}): three steps equal tfjs ops on cpu`, async () => {
    await useBackend("cpu");
    assert(!fusedAdamWReady(), "cpu is the tfjs-op reference");
    const reference = await threeSteps();
    await useBackend(backend);
    assert(fusedAdamWReady(), `useBackend('${backend}') should register the fused AdamW`);
    const fused = await threeSteps();
    for (const [name, r] of Object.entries(reference)) {
      const scale = Math.max(...r.map(Math.abs));
      if (backend === "wasm") assertEquals(fused[name], r, `${name}: not bit for bit`);
      else assertLessOrEqual(maxAbsDiff(r, fused[name]), 2e-6 * Math.max(scale, 1e-3), name);
    }
  });
}

Deno.test("simd adamw: the SIMD kernel equals the JavaScript update bit for bit", () => {
  const n = 4096;
  const memory = new WebAssembly.Memory({ initial: 8 });
  const heap = new Float32Array(memory.buffer);
  // Ordinary values, and the edges: subnormal and huge moments, zero gradients.
  const inputs = [0, 1, 2, 3].map((k) => values(n, k + 0.5));
  inputs[3] = inputs[3].map((x, i) => (i % 97 === 0 ? 1e-42 : i % 89 === 0 ? 3e30 : x * x));
  inputs[1] = inputs[1].map((x, i) => (i % 31 === 0 ? 0 : x));
  inputs.forEach((a, k) => heap.set(a, k * n));
  const c = {
    beta1: 0.9,
    beta2: 0.95,
    lr: 3e-3,
    decay: 1 - 3e-4,
    eps: 1e-8,
    c1: 0.271,
    c2: 0.0975,
  };
  for (const scale of [1, Math.fround(0.3)]) { // the clip factor is a float32 tensor
    heap.set(adamwFactors(scale, c), 7 * n);
    simdAdamW(memory).update(0, 4 * n, 8 * n, 12 * n, 16 * n, 20 * n, 24 * n, 28 * n, n);
    const expected = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    adamwArrays(inputs, scale, expected, c);
    expected.forEach((e, k) =>
      assertEquals(heap.slice((4 + k) * n, (5 + k) * n), e, `output ${k}, scale ${scale}`)
    );
  }
});
