import * as tf from "@tensorflow/tfjs";
import { assertAlmostEquals, assertEquals } from "@std/assert";
import { layerNorm, residual, rmsNorm } from "../../models/norm.ts";
import type { NormPlacement } from "../../models/config.ts";
import { values } from "../_backend.ts";

Deno.test("layerNorm matches the formula on a hand-checked row", async () => {
  const x = tf.tensor2d([[1, 2, 3, 4]]);
  const y = layerNorm(x, { gain: tf.tensor1d([1, 2, 1, 1]), bias: tf.tensor1d([0, 0, 1, 0]) });
  const s = Math.sqrt(1.25 + 1e-5); // mean 2.5, variance 1.25
  const expected = [-1.5 / s, 2 * (-0.5 / s), 0.5 / s + 1, 1.5 / s];
  (await values(y)).forEach((v, i) => assertAlmostEquals(v, expected[i], 1e-5));
});

Deno.test("rmsNorm divides by the root mean square and scales by the gain", async () => {
  const y = rmsNorm(tf.tensor2d([[3, 4]]), { gain: tf.tensor1d([1, 3]) });
  const r = Math.sqrt(12.5 + 1e-5);
  const got = await values(y);
  assertAlmostEquals(got[0], 3 / r, 1e-5);
  assertAlmostEquals(got[1], 12 / r, 1e-5);
});

Deno.test("each norm placement composes branch and norms as the paper's table says", async () => {
  const x = tf.tensor1d([1, 2, 3]);
  const branch = (v: tf.Tensor) => tf.mul(v, 2); // F
  const pre = (v: tf.Tensor) => tf.add(v, 1); // stands in for N_pre
  const post = (v: tf.Tensor) => tf.mul(v, 10); // stands in for N_post
  const expected: Record<NormPlacement, number[]> = {
    pre_norm: [5, 8, 11], // x + F(pre(x))
    post_norm: [30, 60, 90], // post(x + F(x))
    sandwich_branch: [41, 62, 83], // x + post(F(pre(x)))
    sandwich_dual: [50, 80, 110], // post(x + F(pre(x)))
  };
  for (const [placement, want] of Object.entries(expected)) {
    const got = await values(residual(placement as NormPlacement, x, branch, pre, post));
    assertEquals(got, want, placement);
  }
});
