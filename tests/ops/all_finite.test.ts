import { assert, assertEquals } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import { ALL_FINITE, nonFiniteFlag, nonFiniteFlagReference } from "../../ops/all_finite.ts";
import { BACKEND, values } from "../_backend.ts";

const flagOf = async (f: () => tf.Scalar) => {
  const flag = f();
  const [v] = await values(flag);
  flag.dispose();
  return v;
};

Deno.test("the all-finite flag is 0 for finite tensors and NaN for any NaN or infinity, as its reference", async () => {
  if (BACKEND === "wasm") assert(tf.getKernel(ALL_FINITE, "wasm"), "the wasm kernel is registered");
  const before = tf.memory().numTensors;
  const shapes = [[3], [2, 5], [4, 4, 4], [1]];
  const finite = shapes.map((s, i) =>
    tf.tidy(() => tf.mul(tf.tanh(tf.randomNormal(s, 0, 1, "float32", i + 1)), 3e38))
  );
  for (const f of [nonFiniteFlag, nonFiniteFlagReference]) {
    assertEquals(await flagOf(() => f(finite)), 0, "huge finite values do not overflow the flag");
    assertEquals(await flagOf(() => f([])), 0);
  }
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (const [t, at] of [[0, 0], [1, 9], [2, 37], [3, 0]]) {
      const broken = finite.map((x, i) => {
        if (i !== t) return x;
        const v = x.dataSync().slice();
        v[at] = bad;
        return tf.tensor(v, x.shape);
      });
      assert(
        Number.isNaN(await flagOf(() => nonFiniteFlag(broken))),
        `${bad} in tensor ${t} at ${at}`,
      );
      assert(Number.isNaN(await flagOf(() => nonFiniteFlagReference(broken))));
      broken[t].dispose();
    }
  }
  tf.dispose(finite);
  assertEquals(tf.memory().numTensors, before);
});
