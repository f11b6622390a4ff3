import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { BACKEND } from "../_backend.ts";
import { entropy, klDivergence } from "../../eval/distribution.ts";
import { loopDynamics, modelDynamics } from "../../eval/dynamics.ts";
import { pca2 } from "../../eval/pca.ts";
import { PAPER_MODEL } from "../../models/config.ts";
import { LoopedLM } from "../../models/looped.ts";
import { arithmeticTask } from "../../tasks/arithmetic_task.ts";

const logSoftmax = (x: number[]) => {
  const m = Math.max(...x);
  const z = Math.log(x.reduce((s, v) => s + Math.exp(v - m), 0)) + m;
  return x.map((v) => v - z);
};

for (const a of [0.6, -0.7]) {
  Deno.test(`dynamics of the contraction h -> ${a} h + b (${BACKEND})`, async () => {
    const h0v = [[[1, -2, 0.5, 3]], [[0, 1, -1, 2]]]; // [2, 1, 4]
    const b = [0.3, -0.1, 0.2, 0.4];
    const h0 = tf.tensor3d(h0v);
    const bt = tf.tensor1d(b);
    const f = (h: tf.Tensor3D) => tf.add(tf.mul(h, a), bt) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const loops = 12;
    const r = await loopDynamics(f, h0, loops, {
      readout: (h) => tf.mul(h, 1) as tf.Tensor3D, // logits = the state itself (vocab 4)
      targets: [[3], [3]],
      rhoEvery: 4,
    });
    assertEquals(tf.memory().numTensors, before, "dynamics leaked tensors");
    assertEquals(r.points.length, loops + 1);
    // Closed form: h_t = h* + a^t (h_0 - h*), h* = b / (1 - a).
    const star = b.map((x) => x / (1 - a));
    const state = (row: number, t: number) =>
      h0v[row][0].map((x, i) => star[i] + a ** t * (x - star[i]));
    for (let t = 1; t < loops; t++) {
      // Steps shrink geometrically at rate |a|.
      assertAlmostEquals(r.points[t + 1].step! / r.points[t].step!, Math.abs(a), 1e-3);
    }
    const norm = (v: number[]) => Math.hypot(...v);
    for (const t of [0, 5, loops]) {
      const want = (norm(state(0, t)) + norm(state(1, t))) / 2;
      assertAlmostEquals(r.points[t].stateNorm, want, 1e-4);
    }
    // The relative step at the last loop, from the closed form.
    const rel = [0, 1].map((row) => {
      const d = state(row, loops).map((x, i) => x - state(row, loops - 1)[i]);
      return norm(d) / norm(state(row, loops));
    });
    assertAlmostEquals(r.points[loops].relStep!, (rel[0] + rel[1]) / 2, 1e-4);
    // rho(J) = |a| wherever measured (t = 0, 4, 8, 12), nowhere else.
    for (const p of r.points) {
      if (p.loop % 4 === 0) assertAlmostEquals(p.rho!, Math.abs(a), 1e-3);
      else assertEquals(p.rho, null);
    }
    // Entropy and KL of softmax(h_t), from the closed form.
    for (const t of [1, 6]) {
      const lp = [0, 1].map((row) => logSoftmax(state(row, t)));
      const prev = [0, 1].map((row) => logSoftmax(state(row, t - 1)));
      assertAlmostEquals(r.points[t].entropy!, (entropy(lp[0]) + entropy(lp[1])) / 2, 1e-4);
      const kl = (klDivergence(prev[0], lp[0]) + klDivergence(prev[1], lp[1])) / 2;
      assertAlmostEquals(r.points[t].kl!, kl, 1e-4);
    }
    assertEquals(r.points[0].kl, null);
    assertEquals(r.points[0].step, null);
    tf.dispose([h0, bt]);
  });
}

Deno.test("PCA of points on a line recovers the line", () => {
  const dir = [1, 2, 2].map((x) => x / 3);
  const ts = [-2, -1, 0, 0.5, 3];
  const points = ts.map((t) => dir.map((d) => 5 + t * d));
  const { coords, explained } = pca2(points);
  assertAlmostEquals(explained[0], 1, 1e-9);
  assertAlmostEquals(explained[1], 0, 1e-9);
  const mean = ts.reduce((a, b) => a + b) / ts.length;
  // Sign fixed so the largest entry of the component (2/3) is positive: coords = t - mean.
  coords.forEach(([x, y], i) => {
    assertAlmostEquals(x, ts[i] - mean, 1e-9);
    assertAlmostEquals(y, 0, 1e-9);
  });
});

Deno.test(`model dynamics over answer positions (${BACKEND})`, async () => {
  const task = arithmeticTask({ digits: 2 });
  const model = new LoopedLM({ ...PAPER_MODEL, d_model: 16, n_heads: 2, d_ff: 32, dropout: 0 }, 3);
  const problems = task.sample("test", 5, 6);
  const before = tf.memory().numTensors;
  const measured: number[] = [];
  const r = await modelDynamics(model, task, problems, 5, {
    rhoEvery: 5,
    rho: { maxIters: 10 },
    onLoop: (t) => measured.push(t),
  });
  assertEquals(tf.memory().numTensors, before, "model dynamics leaked tensors");
  assertEquals(r.points.length, 6);
  assertEquals(measured, [0, 1, 2, 3, 4, 5], "progress: one call per loop measured");
  assertEquals(r.rows, 6);
  assertEquals(r.pca.coords.length, 6 * 6);
  // The first answer target is the space; the PCA follows the first digit's position.
  assertEquals(r.pcaPosition, task.tokenizer.encode(problems[0].prompt).length);
  for (const p of r.points) {
    assert(p.stateNorm > 0 && p.entropy! >= 0 && p.accuracy! >= 0 && p.accuracy! <= 1);
  }
  assert(r.points[0].rho !== null && r.points[5].rho !== null && r.points[2].rho === null);
  model.dispose();
});
