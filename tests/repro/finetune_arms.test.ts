import { assert, assertEquals } from "@std/assert";
import {
  BASE_LOOPS,
  FINETUNE_ARMS,
  FINETUNE_GRID,
  FINETUNE_PROFILE_SPECS,
  FINETUNE_PROFILES,
  finetuneConfig,
  finetuneRunDir,
  pretrainConfig,
} from "../../repro/finetune_arms.ts";
import { resolveConfig, type TrainConfig } from "../../train/config.ts";
import { loopSpecOf, modelConfigOf } from "../../train/data.ts";
import { parseExitRule } from "../../eval/exit.ts";

Deno.test("finetune profiles: every config valid; the arms share the base's model shape", () => {
  for (const profile of FINETUNE_PROFILES) {
    const spec = FINETUNE_PROFILE_SPECS[profile];
    const base = resolveConfig(pretrainConfig(profile));
    assertEquals(base.task, "chain");
    assertEquals([base.loop_sampler, base.loops, base.reg_weight], ["fixed", BASE_LOOPS, 0]);
    const shape = JSON.stringify(modelConfigOf(base));
    for (const arm of spec.arms) {
      for (const seed of spec.seeds) {
        const c = resolveConfig(finetuneConfig(profile, arm, seed));
        assertEquals(JSON.stringify(modelConfigOf(c)), shape, `${profile} ${arm.id}`);
        assertEquals(c.seed, seed);
        assertEquals(c.steps, spec.finetune.steps);
        // The arms differ only in their own keys.
        const others = spec.arms.map((a) => resolveConfig(finetuneConfig(profile, a, seed)));
        const differ = new Set<string>();
        for (const o of others) {
          for (const k of Object.keys(c) as (keyof TrainConfig)[]) {
            if (JSON.stringify(o[k]) !== JSON.stringify(c[k])) differ.add(k);
          }
        }
        const armKeys = new Set(spec.arms.flatMap((a) => Object.keys(a.overrides)));
        for (const k of differ) assert(armKeys.has(k), `${profile}: arms differ in ${k}`);
      }
    }
    for (const r of spec.exitRules) parseExitRule(r);
    assert(spec.exitMax >= 1 && spec.testSize >= 1);
    assertEquals(new Set(spec.seeds).size, spec.seeds.length);
  }
});

Deno.test("finetune profiles: the paper's sampler, penalty and grid", () => {
  const [sft, rand, stars] = FINETUNE_ARMS.map((a) =>
    resolveConfig(finetuneConfig("finetune", a, 1))
  );
  assertEquals(loopSpecOf(sft), { kind: "fixed", n: 4 });
  const ouro = { kind: "lognormal", mu: 1.7, sigma: 0.4, min: 1, max: 16 } as const;
  assertEquals(loopSpecOf(rand), ouro);
  assertEquals(loopSpecOf(stars), ouro);
  assertEquals([rand.reg_weight, stars.reg_weight, stars.reg_iters], [0, 0.1, 1]);
  assertEquals(FINETUNE_GRID, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 32, 64]);
  assertEquals(FINETUNE_PROFILE_SPECS.finetune.grid, FINETUNE_GRID);
  assertEquals(FINETUNE_PROFILE_SPECS.finetune.seeds.length >= 3, true);
  // The base sees shorter chains than the fine-tuning data; both test on 1-6 steps.
  const base = resolveConfig(pretrainConfig("finetune"));
  assertEquals([base.chain_steps_max, base.chain_test_steps_max], [2, 6]);
  assertEquals([sft.chain_steps_max, sft.chain_test_steps_max], [4, 6]);
  // One shape for every model: the longest row of any split fits.
  assertEquals(base.max_seq_len, sft.max_seq_len);
  assertEquals(finetuneRunDir("STARS", 2), "arms/STARS/seed-2");
});
