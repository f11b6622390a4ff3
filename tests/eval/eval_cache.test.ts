import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals } from "@std/assert";
import { BACKEND, maxAbsDiff, values } from "../_backend.ts";
import { PAPER_MODEL } from "../../models/config.ts";
import { LoopedLM } from "../../models/looped.ts";
import { greedyGenerate } from "../../eval/greedy.ts";
import { decodeLoopwise, type TokenTrace } from "../../eval/decode.ts";
import { exitChoice } from "../../eval/sweep.ts";

// A model whose attention is far from uniform (qkv weights scaled up), with
// prelude and coda layers and input injection, so every cache path matters.
function sharpModel(): LoopedLM {
  const model = new LoopedLM({
    ...PAPER_MODEL,
    d_model: 16,
    n_heads: 2,
    d_ff: 32,
    n_layers: 2,
    prelude_layers: 1,
    coda_layers: 1,
    dropout: 0,
    injection: "add",
    init_std: 0.3,
  }, 7);
  for (const [name, p] of model.params) {
    if (name.endsWith("wqkv")) p.assign(tf.tidy(() => tf.mul(p, 4)));
  }
  return model;
}

const PROMPTS = [[1, 2, 10, 3, 4, 11], [9, 8, 10, 7, 6, 11], [5, 5, 10, 0, 1, 11]];

Deno.test(`cached and uncached greedy decoding agree, without leaks (${BACKEND})`, async () => {
  const model = sharpModel();
  try {
    // Attention is non-uniform: the scores of one head spread widely.
    const spread = tf.tidy(() => {
      const x = model.embed(tf.tensor2d([PROMPTS[0]], undefined, "int32"));
      const qkv = tf.matMul(x.reshape([6, 16]), model.params.get("block.0.attn.wqkv")!);
      const [q, k] = tf.split(qkv, 3, 1);
      const s = tf.matMul(q.slice([0, 0], [-1, 8]), k.slice([0, 0], [-1, 8]), false, true);
      return tf.sub(tf.max(s), tf.min(s));
    });
    assert((await values(spread))[0] > 5, "attention scores should spread widely");
    spread.dispose();

    const before = tf.memory().numTensors;
    const distinct = new Set<string>();
    for (const loops of [1, 2, 3, 7, 12]) {
      const slow = await greedyGenerate(model, PROMPTS, 5, loops, false);
      const fast = await greedyGenerate(model, PROMPTS, 5, loops, true);
      const loopwise = await decodeLoopwise(model, PROMPTS, 5, loops);
      const loopwiseSlow = await decodeLoopwise(model, PROMPTS, 5, loops, { cache: false });
      assertEquals(fast, slow, `greedyGenerate cached, ${loops} loops`);
      assertEquals(loopwise.tokens, slow, `decodeLoopwise, ${loops} loops`);
      assertEquals(loopwiseSlow.tokens, slow, `decodeLoopwise uncached, ${loops} loops`);
      assertEquals(loopwise.loopsUsed, slow.map((r) => r.map(() => loops)));
      distinct.add(JSON.stringify(slow));
    }
    assert(distinct.size >= 2, "different loop counts should decode differently");
    assertEquals(tf.memory().numTensors, before, "decoding leaked tensors");
  } finally {
    model.dispose();
  }
});

Deno.test("every loop's read-out equals a fixed-depth forward on the emitted prefix", async () => {
  const model = sharpModel();
  try {
    const maxLoops = 5;
    const traces: TokenTrace[] = [];
    // Emit from varying loops: argmax unchanged for one loop, per row.
    const choose = exitChoice([{ kind: "argmax", loops: 1 }]);
    const before = tf.memory().numTensors;
    const out = await decodeLoopwise(model, PROMPTS, 4, maxLoops, {
      everyLoop: true,
      keepStates: true,
      choose: (trace) => {
        traces.push({ ...trace, logProbs: [...trace.logProbs], states: [...trace.states] });
        return choose(trace);
      },
    });
    assertEquals(tf.memory().numTensors, before, "loop-wise decoding leaked tensors");
    assert(out.loopsUsed.flat().some((t) => t < maxLoops), "some tokens should exit early");
    for (let i = 0; i < traces.length; i++) {
      const prefix = PROMPTS.map((p, r) => [...p, ...out.tokens[r].slice(0, i)]);
      for (let t = 1; t <= maxLoops; t++) {
        const ref = tf.tidy(() => {
          const { logits, state } = model.forward(tf.tensor2d(prefix, undefined, "int32"), t);
          const last = (x: tf.Tensor3D) => x.slice([0, x.shape[1] - 1, 0], [-1, 1, -1]);
          return [tf.logSoftmax(last(logits)).reshape([-1]), last(state).reshape([-1])];
        });
        const [lp, h] = await Promise.all(ref.map(values));
        tf.dispose(ref);
        // Relative: this sharp model's log-probs reach ~6, and the two paths
        // run different matmul kernels (one position vs the whole prefix).
        const scale = Math.max(1, ...lp.map(Math.abs));
        assert(
          maxAbsDiff(traces[i].logProbs[t]!, lp) < 1e-4 * scale,
          `token ${i}, loop ${t}: log-probs`,
        );
        assert(maxAbsDiff(traces[i].states[t]!, h) < 1e-4, `token ${i}, loop ${t}: state`);
      }
    }
  } finally {
    model.dispose();
  }
});
