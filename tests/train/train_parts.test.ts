import * as tf from "@tensorflow/tfjs";
import { assertAlmostEquals, assertEquals, assertLess } from "@std/assert";
import { AdamW, clipByGlobalNorm } from "../../train/adamw.ts";
import { maskedCrossEntropy, teacherForcedExactMatch } from "../../train/loss.ts";
import { learningRate } from "../../train/schedule.ts";
import { values } from "../_backend.ts";

Deno.test("AdamW applies bias-corrected moments and decoupled decay to matrices only", async () => {
  const params = new Map<string, tf.Variable>([
    ["w", tf.variable(tf.tensor2d([[1, -2], [3, 0.5]]))],
    ["b", tf.variable(tf.tensor1d([1, 1]))],
  ]);
  const opt = new AdamW(params);
  const g = { w: tf.tensor2d([[0.5, 0.5], [-1, 2]]), b: tf.tensor1d([0.5, -0.25]) };
  opt.apply(params, g, { lr: 0.1, beta1: 0.9, beta2: 0.999, weight_decay: 0.01 });
  // First step: m_hat = g, v_hat = g^2, so the update is g / (|g| + eps) = sign(g).
  const w = await values(params.get("w")!);
  [[1, 0.5], [-2, 0.5], [3, -1], [0.5, 2]].forEach(([p, gi], i) =>
    assertAlmostEquals(w[i], p * (1 - 0.1 * 0.01) - 0.1 * Math.sign(gi), 1e-6)
  );
  const b = await values(params.get("b")!);
  assertAlmostEquals(b[0], 1 - 0.1, 1e-6); // no decay on a bias
  assertAlmostEquals(b[1], 1 + 0.1, 1e-6);
  // Second step with the same gradient: the moments are bias-corrected again.
  opt.apply(params, g, { lr: 0.1, beta1: 0.9, beta2: 0.999, weight_decay: 0 });
  assertAlmostEquals((await values(params.get("b")!))[0], 0.8, 1e-5);
  assertEquals(opt.t, 2);
});

Deno.test("global-norm clipping rescales to the limit and reports the norm", async () => {
  const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
  const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
  assertAlmostEquals((await values(norm))[0], 5, 1e-5);
  assertAlmostEquals((await values(clipped.a))[0], 0.6, 1e-5);
  assertAlmostEquals((await values(clipped.b))[1], 0.8, 1e-5);
  const { grads: same } = clipByGlobalNorm(grads, 10);
  assertAlmostEquals((await values(same.b))[1], 4, 1e-5);
});

Deno.test("global-norm clipping sums many tensors (WebGPU's addN fails past 8 inputs)", async () => {
  const grads: Record<string, tf.Tensor> = {};
  for (let i = 1; i <= 20; i++) grads[`g${i}`] = tf.fill([3], i);
  const { norm } = clipByGlobalNorm(grads, 0);
  const expected = Math.sqrt(
    Array.from({ length: 20 }, (_, i) => 3 * (i + 1) ** 2).reduce((a, b) => a + b),
  );
  assertAlmostEquals((await values(norm))[0], expected, 1e-3);
});

Deno.test("learning rate warms up linearly, then follows a cosine to the floor", () => {
  const c = { lr: 1, warmup_steps: 10, steps: 110, min_lr_ratio: 0.1 };
  assertAlmostEquals(learningRate(0, c), 0.1, 1e-12);
  assertAlmostEquals(learningRate(9, c), 1, 1e-12);
  assertAlmostEquals(learningRate(10, c), 1, 1e-12);
  assertAlmostEquals(learningRate(60, c), 0.55, 1e-12); // halfway: (1 + 0.1) / 2
  assertAlmostEquals(learningRate(110, c), 0.1, 1e-12);
});

Deno.test("cross-entropy counts only the masked (answer) positions", async () => {
  const logits = tf.tensor3d([[[2, 0, 0], [0, 1, 0], [5, 5, 5]]]);
  const targets = tf.tensor2d([[0, 1, 2]], undefined, "int32");
  const mask = tf.tensor2d([[1, 1, 0]]);
  const lse = (xs: number[]) => Math.log(xs.reduce((s, x) => s + Math.exp(x), 0));
  const expected = ((lse([2, 0, 0]) - 2) + (lse([0, 1, 0]) - 1)) / 2;
  assertAlmostEquals((await values(maskedCrossEntropy(logits, targets, mask)))[0], expected, 1e-5);
  // Changing the logits at a masked-out position changes nothing.
  const other = tf.tensor3d([[[2, 0, 0], [0, 1, 0], [-9, 9, 0]]]);
  assertLess(
    Math.abs((await values(maskedCrossEntropy(other, targets, mask)))[0] - expected),
    1e-6,
  );
  // Exact match: both answer positions right (position 2 is masked out).
  assertEquals((await values(teacherForcedExactMatch(other, targets, mask)))[0], 1);
  const wrong = tf.tensor3d([[[0, 2, 0], [0, 1, 0], [5, 5, 5]]]);
  assertEquals((await values(teacherForcedExactMatch(wrong, targets, mask)))[0], 0);
});
