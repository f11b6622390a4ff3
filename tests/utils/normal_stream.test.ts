/**
 * The toolkit's seeded normal stream against tfjs's `randomNormal`, which it
 * replaces in the probes: the same floats for every seed form a run uses
 * (mixed 32-bit seeds, small integers, fractions), so runs recorded with
 * tfjs's generator replay bit for bit.
 */
import * as tf from "@tensorflow/tfjs";
import { assertEquals } from "@std/assert";
import { useBackend } from "../../backends/select.ts";
import { gaussianProbe } from "../../regularizers/probes.ts";
import { mixSeed } from "../../utils/rng.ts";
import { standardNormals } from "../../utils/normal_stream.ts";

Deno.test("standardNormals gives tf.randomNormal's values, float for float", async () => {
  await useBackend("cpu");
  for (const seed of [1, 7, 123456789, 4294967295, 0.25, mixSeed(3, 11), mixSeed(99, 0, 4)]) {
    const n = seed === 1 ? 131072 : 5001; // an odd count ends on half a pair
    const ours = standardNormals(n, seed);
    const theirs = tf.tidy(() => tf.randomNormal([n], 0, 1, "float32", seed).dataSync());
    assertEquals(ours, theirs, `seed ${seed}`);
  }
  const before = tf.memory().numTensors;
  const probe = gaussianProbe([2, 3, 5], 17);
  assertEquals(probe.shape, [2, 3, 5]);
  assertEquals(
    probe.dataSync(),
    tf.tidy(() => tf.randomNormal([30], 0, 1, "float32", 17).dataSync()),
  );
  probe.dispose();
  assertEquals(tf.memory().numTensors, before);
});
