import * as tf from "@tensorflow/tfjs";
import { assertLess } from "@std/assert";
import { gpuAdapter, useBackend } from "../../backends/select.ts";
import { PAPER_MODEL } from "../../models/config.ts";
import { LoopedLM } from "../../models/looped.ts";
import { maskedCrossEntropy } from "../../train/loss.ts";
import { AdamW } from "../../train/adamw.ts";
import { resolveConfig } from "../../train/config.ts";
import { modelConfigOf, trainBatch } from "../../train/data.ts";
import { trainStep } from "../../train/step.ts";
import { BACKEND } from "../_backend.ts";

const adapter = await gpuAdapter();

async function forwardAndGrads(backend: "wasm" | "webgpu"): Promise<Float32Array[]> {
  await useBackend(backend);
  const model = new LoopedLM({ ...PAPER_MODEL, d_model: 32, n_heads: 4, d_ff: 64, dropout: 0 }, 7);
  const ids = tf.tensor2d(
    [[1, 2, 10, 3, 4, 11, 12, 5], [9, 8, 10, 7, 6, 11, 12, 1]],
    undefined,
    "int32",
  );
  const targets = tf.tensor2d(
    [[2, 10, 3, 4, 11, 12, 5, 14], [8, 10, 7, 6, 11, 12, 1, 14]],
    undefined,
    "int32",
  );
  const mask = tf.ones([2, 8]) as tf.Tensor2D;
  const vars = [...model.params.values()];
  const { value, grads } = tf.variableGrads(() => {
    const { logits } = model.forward(ids, 4);
    return maskedCrossEntropy(logits, targets, mask);
  }, vars);
  const logits = model.forward(ids, 4).logits;
  const out = [
    await logits.data(),
    await value.data(),
    ...await Promise.all(vars.map((v) => grads[v.name].data())),
  ];
  model.dispose();
  return out as Float32Array[];
}

Deno.test({
  name: "webgpu forward and backward match wasm",
  ignore: !adapter, // needs a WebGPU adapter: a GPU, or Mesa's llvmpipe (see README)
  fn: async () => {
    try {
      const wasm = await forwardAndGrads("wasm");
      const gpu = await forwardAndGrads("webgpu");
      wasm.forEach((a, i) => {
        const b = gpu[i];
        let diff = 0, scale = 1e-6;
        for (let j = 0; j < a.length; j++) {
          diff = Math.max(diff, Math.abs(a[j] - b[j]));
          scale = Math.max(scale, Math.abs(a[j]));
        }
        assertLess(diff / scale, 1e-3, `tensor ${i}: max diff ${diff} at scale ${scale}`);
      });
    } finally {
      await useBackend(BACKEND as "wasm");
    }
  },
});

async function trainingSteps(backend: "wasm" | "webgpu"): Promise<number[]> {
  await useBackend(backend);
  const config = resolveConfig({
    digits: 2,
    d_model: 16,
    n_heads: 2,
    d_ff: 32,
    batch_size: 16,
    dropout: 0.1,
  });
  const model = new LoopedLM(modelConfigOf(config), 1);
  const optimizer = new AdamW(model.params);
  const numbers: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await trainStep(
      model,
      optimizer,
      trainBatch(config, i),
      { total: 2, noGrad: 0, withGrad: 2 },
      i,
      {
        ...config,
        lr: 1e-3,
      },
    );
    numbers.push(r.loss, r.grad_norm);
  }
  for (const p of model.params.values()) numbers.push(...await p.data());
  model.dispose();
  optimizer.dispose();
  return numbers;
}

Deno.test({
  name: "webgpu training steps (dropout, clipping, AdamW) match wasm",
  ignore: !adapter,
  fn: async () => {
    try {
      const wasm = await trainingSteps("wasm");
      const gpu = await trainingSteps("webgpu");
      let diff = 0;
      wasm.forEach((a, i) => diff = Math.max(diff, Math.abs(a - gpu[i])));
      assertLess(diff, 1e-4, `max diff ${diff}`);
    } finally {
      await useBackend(BACKEND as "wasm");
    }
  },
});
