/**
 * `init` (a new run from given weights) and the reference-faithful options:
 * each option changes the trajectory only when set, the preset sets them
 * all, and weights that do not fit are an input error before any work.
 */
import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { LoopedLM } from "../../models/looped.ts";
import { ConfigError, PRESETS, resolveConfig, type TrainConfig } from "../../train/config.ts";
import { readManifest } from "../../train/checkpoint.ts";
import { modelConfigOf } from "../../train/data.ts";
import { encodeWeights } from "../../train/weights.ts";
import { train } from "../../train/trainer.ts";
import { InputError } from "../../train/errors.ts";
import { values } from "../_backend.ts";
import { cli } from "../_cli.ts";

const TINY: Partial<TrainConfig> = {
  digits: 2,
  d_model: 16,
  n_heads: 2,
  d_ff: 32,
  dropout: 0.1,
  reg_weight: 0.1,
  reg_warmup: 1,
  warmup_steps: 1,
  batch_size: 8,
  steps: 3,
  eval_size: 5,
  eval_every: 0,
  checkpoint_every: 0,
};

async function losses(config: Partial<TrainConfig>, outDir?: string): Promise<number[]> {
  const out: number[] = [];
  const r = await train(config, {
    outDir,
    onEvent: (e) => e.kind === "step" && out.push(e.metrics.loss),
  });
  r.model.dispose();
  return out;
}

Deno.test("each reference-faithful option changes the trajectory; the preset sets them all", async () => {
  const base = await losses(TINY);
  const options: Partial<TrainConfig>[] = [
    { attn_dropout: "probs" },
    { reg_dropout: true },
    { reg_start: "after_warmup" },
    { decay_scope: "all", weight_decay: 0.5 },
  ];
  for (const o of options) {
    assertNotEquals(await losses({ ...TINY, ...o }), base, JSON.stringify(o));
  }
  assertEquals(await losses({ ...TINY, ...PRESETS.reference, seed: 1 }).then((l) => l.length), 3);
  const preset = resolveConfig(PRESETS.reference as Record<string, unknown>);
  assertEquals(
    [preset.attn_dropout, preset.reg_dropout, preset.reg_mode, preset.reg_start],
    ["probs", true, "vjp", "after_warmup"],
  );
  assertEquals([preset.decay_scope, preset.grad_clip, preset.min_lr_ratio], ["all", 0, 0]);
});

Deno.test("init: a new run starts from a checkpoint's or a file's weights, records it, fresh optimizer", async () => {
  const dir = await Deno.makeTempDir();
  const first = await train({ ...TINY, steps: 2 }, { outDir: `${dir}/a` });
  const trained = new Map<string, number[]>();
  for (const [n, p] of first.model.params) trained.set(n, await values(p));
  first.model.dispose();
  // Zero steps are not a run; one step with lr ~0 keeps the weights all but unchanged.
  const tiny = { ...TINY, steps: 1, lr: 1e-30, warmup_steps: 0, weight_decay: 0 };
  const fromDir = await train({ ...tiny, init: `${dir}/a` }, { outDir: `${dir}/b` });
  for (const [n, p] of fromDir.model.params) assertEquals(await values(p), trained.get(n), n);
  fromDir.model.dispose();
  const manifest = await readManifest(`${dir}/b`);
  assertEquals(manifest.config.init, `${dir}/a`);
  assertEquals((manifest.extra as Record<string, Record<string, unknown>>).init.kind, "checkpoint");
  assertEquals((manifest as { optimizer_step?: number }).optimizer_step, 1);
  // Resuming the same command keeps the run (init is a trajectory key).
  const again = await train({ ...tiny, init: `${dir}/a` }, { outDir: `${dir}/b` });
  assertEquals(again.step, 1);
  again.model.dispose();
  // A reference-named file (exported by the CLI) starts a run the same way.
  const exported = await cli(...[
    "export",
    "--checkpoint",
    `${dir}/a`,
    "--names",
    "reference",
    "--out",
    `${dir}/ref.safetensors`,
  ]);
  assertEquals(exported.code, 0, exported.stderr);
  const fromFile = await train({ ...tiny, init: `${dir}/ref.safetensors` });
  for (const [n, p] of fromFile.model.params) assertEquals(await values(p), trained.get(n), n);
  fromFile.model.dispose();
});

Deno.test("init: weights that do not fit, or fit no naming, are an input error naming them", async () => {
  const dir = await Deno.makeTempDir();
  const wide = resolveConfig({ ...TINY, d_model: 32 });
  const model = new LoopedLM(modelConfigOf(wide), 1);
  const vals = new Map<string, Float32Array>();
  for (const [n, p] of model.params) vals.set(n, await p.data() as Float32Array);
  model.dispose();
  await Deno.writeFile(
    `${dir}/wide.safetensors`,
    encodeWeights(model.config, vals, "toolkit", {
      trainConfig: wide as unknown as Record<string, unknown>,
    }),
  );
  await assertRejects(
    () => train({ ...TINY, init: `${dir}/wide.safetensors` }, { outDir: `${dir}/run` }),
    ConfigError,
    "d_model 16 (the weights have 32)",
  );
  const bad = await cli(...[
    "train",
    ...flags(TINY),
    "--init",
    `${dir}/nothing`,
    "--out",
    `${dir}/c`,
  ]);
  assertEquals(bad.code, 2, bad.stderr);
  assert(bad.stderr.includes(`${dir}/nothing`), bad.stderr);
  const preset = await cli(...["train", "--preset", "bogus", "--out", `${dir}/d`]);
  assertEquals(preset.code, 2);
  assert(preset.stderr.includes("--preset must be one of reference"), preset.stderr);
  await assertRejects(() => train({ ...TINY, init: `${dir}/nothing` }), InputError);
});

function flags(c: Partial<TrainConfig>): string[] {
  return Object.entries(c).flatMap(([k, v]) => [`--${k}`, String(v)]);
}
