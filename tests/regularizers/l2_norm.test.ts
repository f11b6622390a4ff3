import { assert, assertEquals } from "@std/assert";
import * as tf from "@tensorflow/tfjs";
import { l2Norm } from "../../regularizers/l2_norm.ts";
import { standardNormals } from "../../utils/normal_stream.ts";
import { values } from "../_backend.ts";

Deno.test("l2Norm is the float64 norm of the whole tensor within float32 summation error", async () => {
  const before = tf.memory().numTensors;
  const cases: [number[], number][] = [[[3, 5, 7], 1], [[64, 16, 128], 1e-3], [[2, 2], 1e4]];
  for (const [shape, scale] of cases) {
    const xs = standardNormals(shape.reduce((a, b) => a * b), 11);
    const exact = Math.sqrt(xs.reduce((s, x) => s + (x * scale) ** 2, 0));
    const x = tf.tidy(() => tf.mul(tf.tensor(xs, shape), scale));
    const got = l2Norm(x);
    assertEquals(got.shape, []);
    const [norm] = await values(got);
    assert(Math.abs(norm - exact) <= 1e-4 * exact, `${shape}: ${norm} vs ${exact}`);
    tf.dispose([x, got]);
  }
  assertEquals(tf.memory().numTensors, before);
});
