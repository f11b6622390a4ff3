import * as tf from "@tensorflow/tfjs";
import { assertEquals, assertGreater, assertLess, assertRejects } from "@std/assert";
import { sampleLoops } from "../../regularizers/loop_sampler.ts";
import { loadCheckpoint, saveCheckpoint } from "../../train/checkpoint.ts";
import { resolveConfig } from "../../train/config.ts";
import { loopSpecOf, trainBatch } from "../../train/data.ts";
import { AdamW } from "../../train/adamw.ts";
import { NonFiniteLossError, trainStep } from "../../train/step.ts";
import { jacobianPenalty } from "../../regularizers/jacobian_penalty.ts";
import { train } from "../../train/trainer.ts";
import { LoopedLM } from "../../models/looped.ts";
import { modelConfigOf } from "../../train/data.ts";
import { maxAbsDiff, values } from "../_backend.ts";
import { TINY } from "../_checkpoints.ts";

async function allParams(model: LoopedLM): Promise<number[]> {
  const out: number[] = [];
  for (const p of model.params.values()) out.push(...await values(p));
  return out;
}

Deno.test("a short run learns 2-digit addition: loss falls, accuracy rises", async () => {
  const losses: number[] = [];
  const result = await train(
    {
      ...TINY,
      d_model: 32,
      d_ff: 64,
      batch_size: 64,
      steps: 500,
      lr: 5e-3,
      warmup_steps: 50,
      eval_size: 200,
    },
    { onEvent: (e) => e.kind === "step" && losses.push(e.metrics.loss) },
  );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = mean(losses.slice(0, 20)), late = mean(losses.slice(-20));
  assertLess(late, 0.6 * early, `loss ${early} -> ${late}`);
  assertGreater(result.accuracy!, 0.3, `held-out exact match ${result.accuracy}`);
  result.model.dispose();
});

Deno.test("training steps leak no tensors (with truncated backprop and the penalty)", async () => {
  const config = resolveConfig({ ...TINY, dropout: 0.1 });
  const model = new LoopedLM(modelConfigOf(config), 1);
  const opt = new AdamW(model.params);
  const penalty = { weight: 0.1, compute: jacobianPenalty({ iters: 2, mode: "jvp" }) };
  const step = (i: number) =>
    trainStep(model, opt, trainBatch(config, i), { total: 2, noGrad: 1, withGrad: 1 }, i, {
      ...config,
      lr: 1e-3,
      penalty: i % 2 ? penalty : undefined,
    });
  await step(0);
  const before = tf.memory().numTensors;
  for (let i = 1; i < 5; i++) await step(i);
  assertEquals(tf.memory().numTensors, before);
  model.dispose();
  opt.dispose();
});

Deno.test("each step runs the sampler's loop count, deterministic per (seed, step)", async () => {
  const config = { ...TINY, loop_sampler: "lognormal" as const, loop_max: 6, steps: 5 };
  const loops: number[] = [];
  const r = await train(config, { onEvent: (e) => e.kind === "step" && loops.push(e.loops) });
  const spec = loopSpecOf(resolveConfig(config));
  assertEquals(loops, [0, 1, 2, 3, 4].map((s) => sampleLoops(spec, 1, s).total));
  r.model.dispose();
});

Deno.test("checkpoints round-trip weights and optimiser state exactly", async () => {
  const dir = await Deno.makeTempDir();
  const r = await train(TINY, { outDir: dir });
  const loaded = await loadCheckpoint(dir);
  assertEquals(loaded.manifest.step, 6);
  assertEquals(await allParams(loaded.model), await allParams(r.model));
  assertEquals(loaded.optimizer.t, 6);
  const ids = tf.tensor2d([[1, 2, 10, 3, 4, 11]], undefined, "int32");
  assertEquals(
    await values(loaded.model.forward(ids, 3).logits),
    await values(r.model.forward(ids, 3).logits),
  );
  const metrics = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n");
  assertEquals(metrics.filter((l) => "loss" in JSON.parse(l)).length, 6);
  r.model.dispose();
  loaded.model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an interrupted run resumes to the same weights as an uninterrupted one", async () => {
  const config = {
    ...TINY,
    dropout: 0.1,
    loop_sampler: "uniform" as const,
    loop_min: 1,
    loop_max: 3,
  };
  const straight = await train(config);
  const dir = await Deno.makeTempDir();
  const controller = new AbortController();
  const first = await train(config, {
    outDir: dir,
    signal: controller.signal,
    onEvent: (e) => e.kind === "step" && e.step === 3 && controller.abort(),
  });
  assertEquals(first.status, "interrupted");
  assertEquals(first.step, 3);
  first.model.dispose();
  const resumed = await train(config, { outDir: dir });
  assertEquals(resumed.step, 6);
  assertLess(maxAbsDiff(await allParams(resumed.model), await allParams(straight.model)), 1e-6);
  straight.model.dispose();
  resumed.model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resuming with a different model config is refused, naming the keys", async () => {
  const dir = await Deno.makeTempDir();
  (await train({ ...TINY, steps: 1 }, { outDir: dir })).model.dispose();
  await assertRejects(() => train({ ...TINY, d_model: 32 }, { outDir: dir }), Error, "d_model");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a non-finite loss stops the run and keeps the last good weights on disk", async () => {
  const config = { ...TINY, checkpoint_every: 3 };
  // The reference: the same run stopped cleanly after 4 good steps.
  const controller = new AbortController();
  const ref = await train(config, {
    signal: controller.signal,
    onEvent: (e) => e.kind === "step" && e.step === 4 && controller.abort(),
  });
  const dir = await Deno.makeTempDir();
  const err = await assertRejects(
    () =>
      train(config, {
        outDir: dir,
        penalty: (_c, step) => ({
          weight: step === 4 ? 0.5 : 0, // the 5th step goes non-finite
          compute: (model) => ({
            value: tf.mul(tf.sum(model.params.get("final_norm.gain")!), NaN) as tf.Scalar,
            logs: {},
          }),
        }),
      }),
    NonFiniteLossError,
    "step 4",
  );
  assertEquals(err.step, 4);
  const kept = await loadCheckpoint(dir);
  assertEquals(kept.manifest.step, 4);
  assertEquals(await allParams(kept.model), await allParams(ref.model));
  kept.model.dispose();
  ref.model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a save killed before its manifest is written leaves the previous checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  const model = new LoopedLM(modelConfigOf(resolveConfig(TINY)), 1);
  await saveCheckpoint(dir, model, undefined, 1, {});
  const before = await allParams(model);
  // What a crash mid-save leaves: a new, partial weights file and a temp manifest.
  await Deno.writeFile(`${dir}/model.safetensors.tmp-dead`, new Uint8Array(10));
  await Deno.writeTextFile(`${dir}/checkpoint.json.tmp-dead`, "{ half");
  const loaded = await loadCheckpoint(dir);
  assertEquals(loaded.manifest.step, 1);
  assertEquals(await allParams(loaded.model), before);
  model.dispose();
  loaded.model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("eval_loops sets the held-out evaluation's depth (0: loops); resuming may change it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const seen: number[] = [];
    const onEvent = (e: { kind: string; loops?: number }) => {
      if (e.kind === "eval") seen.push(e.loops!);
    };
    const config = { ...TINY, steps: 2, eval_every: 1 };
    (await train(config, { onEvent })).model.dispose();
    assertEquals(seen, [2, 2]); // steps 1 and 2 (the last is the final evaluation)
    seen.length = 0;
    (await train({ ...config, eval_loops: 5 }, { outDir: dir, onEvent })).model.dispose();
    assertEquals(seen, [5, 5]);
    const metrics = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l)).filter((r) => r.eval_loops !== undefined);
    assertEquals(metrics.map((r) => r.eval_loops), [5, 5]);
    // A finished run is reported again at another depth, not refused.
    seen.length = 0;
    (await train({ ...config, eval_loops: 3 }, { outDir: dir, onEvent })).model.dispose();
    assertEquals(seen, [3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
