import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertGreater, assertLess, assertThrows } from "@std/assert";
import {
  INIT_STATES,
  INJECTIONS,
  type ModelConfig,
  NORM_PLACEMENTS,
  NORM_TYPES,
  PAPER_MODEL,
} from "../../models/config.ts";
import { causalMask } from "../../ops/attention.ts";
import { LoopedLM } from "../../models/looped.ts";
import { paramSpecs } from "../../models/params.ts";
import { maxAbsDiff, values } from "../_backend.ts";

const SMALL: ModelConfig = { ...PAPER_MODEL, d_model: 16, n_heads: 2, d_ff: 32, dropout: 0 };
const ids = () => tf.tensor2d([[1, 2, 10, 3, 4, 11], [9, 9, 10, 0, 1, 11]], undefined, "int32");

Deno.test("forward returns logits [B, T, V] and every loop's state", () => {
  const model = new LoopedLM(SMALL, 1);
  const out = model.forward(ids(), 5, { keepStates: true });
  assertEquals(out.logits.shape, [2, 6, 15]);
  assertEquals(out.states.length, 6); // h_0 .. h_5
  assertEquals(out.states[5], out.state);
  assertEquals(out.state.shape, [2, 6, 16]);
  model.dispose();
});

Deno.test("the loop count is an argument: N loops equal N applications of step", async () => {
  const model = new LoopedLM(SMALL, 3);
  const x = ids();
  const e = model.embed(x);
  let h = model.initialState(e);
  const f = model.loopMap(e);
  for (let i = 0; i < 3; i++) h = f(h);
  const viaForward = model.forward(x, 3);
  assertLess(maxAbsDiff(await values(h), await values(viaForward.state)), 1e-6);
  const fewer = model.forward(x, 2);
  assertGreater(maxAbsDiff(await values(fewer.logits), await values(viaForward.logits)), 1e-4);
  model.dispose();
});

Deno.test("continuing from a start state equals running all loops at once", async () => {
  const model = new LoopedLM(SMALL, 4);
  const x = ids();
  const first = model.forward(x, 2);
  const rest = model.forward(x, 3, { start: { state: first.state, loopsDone: 2 } });
  const all = model.forward(x, 5);
  assertLess(maxAbsDiff(await values(rest.logits), await values(all.logits)), 1e-5);
  model.dispose();
});

Deno.test("attention is causal: a later token never changes earlier logits", async () => {
  const model = new LoopedLM({ ...SMALL, n_layers: 2 }, 5);
  const a = tf.tensor2d([[1, 2, 10, 3, 4, 11]], undefined, "int32");
  const b = tf.tensor2d([[1, 2, 10, 3, 4, 7]], undefined, "int32");
  const la = model.forward(a, 4).logits, lb = model.forward(b, 4).logits;
  const early = (l: tf.Tensor3D) => values(l.slice([0, 0, 0], [1, 5, -1]));
  assertLess(maxAbsDiff(await early(la), await early(lb)), 1e-6);
  const last = (l: tf.Tensor3D) => values(l.slice([0, 5, 0], [1, 1, -1]));
  assertGreater(maxAbsDiff(await last(la), await last(lb)), 1e-4);
  model.dispose();
});

Deno.test("sandwich_dual re-normalises the state every loop; pre_norm does not", async () => {
  for (const placement of ["sandwich_dual", "pre_norm"] as const) {
    const model = new LoopedLM({ ...SMALL, norm_placement: placement }, 2);
    const { state } = model.forward(ids(), 6);
    const { variance } = tf.moments(state, -1);
    const v = await values(variance);
    const normalised = v.every((x) => Math.abs(x - 1) < 1e-3);
    assertEquals(normalised, placement === "sandwich_dual", placement);
    model.dispose();
  }
});

Deno.test("every placement, norm, injection and initial state builds and runs", async () => {
  for (const norm_placement of NORM_PLACEMENTS) {
    for (const norm_type of NORM_TYPES) {
      for (const injection of INJECTIONS) {
        for (const init_state of INIT_STATES) {
          if (init_state !== "embedding" && injection === "none") continue;
          const c = {
            ...SMALL,
            norm_placement,
            norm_type,
            injection,
            init_state,
            prelude_layers: 1,
            coda_layers: 1,
          };
          const model = new LoopedLM(c, 1);
          const names = paramSpecs(c).map(([n]) => n);
          assertEquals(names.includes("inject.w"), injection === "linear");
          assertEquals(names.some((n) => n.endsWith(".bias")), norm_type === "layernorm");
          assertEquals(names.includes("block.0.attn_pre.gain"), norm_placement !== "post_norm");
          assertEquals(names.includes("block.0.attn_post.gain"), norm_placement !== "pre_norm");
          const { logits } = model.forward(ids(), 2, { seed: 7 });
          assert((await values(logits)).every(Number.isFinite), JSON.stringify(c));
          model.dispose();
        }
      }
    }
  }
});

Deno.test("input injection makes the loop see the input even from a zero state", async () => {
  const model = new LoopedLM({ ...SMALL, injection: "linear", init_state: "zeros" }, 1);
  const a = model.forward(tf.tensor2d([[1, 2, 10]], undefined, "int32"), 3).logits;
  const b = model.forward(tf.tensor2d([[5, 6, 10]], undefined, "int32"), 3).logits;
  assertGreater(maxAbsDiff(await values(a), await values(b)), 1e-4);
  model.dispose();
});

Deno.test("dropout and the random initial state are reproducible from the seed", async () => {
  const model = new LoopedLM({ ...SMALL, dropout: 0.3, injection: "add", init_state: "random" }, 1);
  const run = (seed: number, training: boolean) =>
    values(model.forward(ids(), 3, { training, seed }).logits);
  assertEquals(await run(1, true), await run(1, true));
  assertGreater(maxAbsDiff(await run(1, true), await run(2, true)), 1e-4);
  model.dispose();
});

Deno.test("the same seed gives the same initial parameters", async () => {
  const a = new LoopedLM(SMALL, 9), b = new LoopedLM(SMALL, 9), c = new LoopedLM(SMALL, 10);
  const w = (m: LoopedLM) => values(m.params.get("block.0.attn.wqkv")!);
  assertEquals(await w(a), await w(b));
  assertGreater(maxAbsDiff(await w(a), await w(c)), 1e-3);
  [a, b, c].forEach((m) => m.dispose());
});

Deno.test("bad shapes and loop counts are clear errors", () => {
  assertThrows(() => new LoopedLM({ ...SMALL, n_heads: 3 }), RangeError, "n_heads");
  const model = new LoopedLM({ ...SMALL, max_seq_len: 4 }, 1);
  assertThrows(() => model.forward(ids(), 1), RangeError, "max_seq_len");
  assertThrows(() => model.forward(ids().slice([0, 0], [2, 4]), -1), RangeError, "loops");
  model.dispose();
});

Deno.test("the causal mask is -1e9 exactly where a key comes after its query, 0 elsewhere", async () => {
  // [Tq, Tk] with queries at Tk - Tq .. Tk - 1 (a prompt, and a cached decode step's tail).
  for (const [tq, tk] of [[6, 6], [1, 5], [3, 7], [2, 9]]) {
    const mask = causalMask(tq, tk);
    const got = await mask.data();
    mask.dispose();
    const offset = tk - tq;
    for (let i = 0; i < tq; i++) {
      for (let j = 0; j < tk; j++) {
        assertEquals(got[i * tk + j], j > offset + i ? -1e9 : 0, `[${i}, ${j}] of ${tq} x ${tk}`);
      }
    }
  }
});
