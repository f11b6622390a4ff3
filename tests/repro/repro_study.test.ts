import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { armConfig, profileArms, STUDY_ARMS } from "../../repro/arms.ts";
import { runRepro } from "../../repro/run.ts";
import { productPathOf } from "../../repro/provenance.ts";
import type { ArmResult } from "../../repro/run.ts";
import { plateauExit } from "../../repro/plateau.ts";
import { spread, studyCheck, summarizeArms } from "../../repro/study.ts";
import {
  studyAccuracySvg,
  studyDynamicsSvg,
  studyLossSvg,
  studyMarkdown,
  studySeedsSvg,
  studyStabilitySvg,
} from "../../repro/study_report.ts";
import { resolveConfig, type TrainConfig } from "../../train/config.ts";
import { loadArithmeticJsonl } from "../../tasks/paper_data.ts";
import { xmlProblem } from "../xml_check.ts";
import "../_backend.ts";
import { NUMERICS_REVISION } from "../../utils/numerics.ts";

const PAPER_TEST = new URL("../../data/stars_addition_test_4digit.jsonl", import.meta.url);

Deno.test("study arms: every pair differs only in the keys that define the two arms", () => {
  for (const profile of ["study", "study-micro"] as const) {
    const arms = profileArms(profile);
    assertEquals(arms.length, 10);
    const configs = arms.map((arm) => resolveConfig(armConfig(profile, arm)));
    const keys = Object.keys(configs[0]) as (keyof TrainConfig)[];
    for (let i = 0; i < arms.length; i++) {
      for (let j = i + 1; j < arms.length; j++) {
        const differing = keys.filter((k) => configs[i][k] !== configs[j][k]);
        const defining = new Set([
          ...Object.keys(arms[i].overrides),
          ...Object.keys(arms[j].overrides),
        ]);
        for (const k of differing) {
          assert(defining.has(k), `${profile} ${arms[i].id} vs ${arms[j].id}: ${k} differs`);
        }
        assert(differing.length > 0, `${arms[i].id} and ${arms[j].id} are the same arm`);
      }
    }
    // The penalty arms: lambda 0.1, K 1, switching on when the warm-up ends.
    for (const c of configs.filter((c) => c.reg_weight > 0)) {
      assertEquals([c.reg_weight, c.reg_iters, c.reg_warmup], [0.1, 1, c.warmup_steps]);
    }
    // Seeds change the seed and nothing else.
    for (const arm of arms) {
      const a = resolveConfig(armConfig(profile, arm, 1));
      const b = resolveConfig(armConfig(profile, arm, 3));
      assertEquals(keys.filter((k) => a[k] !== b[k]), ["seed"]);
    }
  }
  // Every placement appears at fixed and at random depth; STARS with two.
  const placements = (pick: (c: TrainConfig) => boolean) =>
    STUDY_ARMS.map((a) => resolveConfig(armConfig("study", a))).filter(pick)
      .map((c) => c.norm_placement).sort();
  const all = ["post_norm", "pre_norm", "sandwich_branch", "sandwich_dual"];
  assertEquals(placements((c) => c.loop_sampler === "fixed"), all);
  assertEquals(placements((c) => c.loop_sampler === "lognormal" && c.reg_weight === 0), all);
  assertEquals(placements((c) => c.reg_weight > 0), ["pre_norm", "sandwich_dual"]);
});

Deno.test("plateau exit: the first step whose 50-step mean cross-entropy is below 0.1", () => {
  const records = Array.from({ length: 300 }, (_, i) => ({
    step: i + 1,
    ce: i < 100 ? 1.4 : 0.05,
  }));
  // The mean over steps 51..100+k falls below 0.1 once 1.4 * (50 - k) + 0.05 k < 5.
  const k = Math.ceil((1.4 * 50 - 5) / (1.4 - 0.05));
  assertEquals(plateauExit(records), 100 + k + (1.4 * (50 - k) + 0.05 * k < 5 ? 0 : 1));
  assertEquals(plateauExit(records.slice(0, 100)), null);
  // A single lucky batch does not count.
  const spike = records.slice(0, 100).map((r, i) => i === 70 ? { ...r, ce: 0 } : r);
  assertEquals(plateauExit(spike), null);
});

// A constructed run: accuracies at the grid's depths.
function run(id: string, seed: number, config: Partial<TrainConfig>, acc: number[]): ArmResult {
  const grid = [1, 4, 32, 100];
  return {
    id,
    seed,
    label: id,
    config: resolveConfig(config),
    trainAccuracy: 0,
    sweep: grid.map((depth, i) => ({
      depth,
      accuracy: acc[i],
      low: acc[i],
      high: acc[i],
      correct: 0,
      total: 100,
    })),
    dynamics: grid.map((depth) => ({ depth, rho: 1, relStep: 0.01 })),
    peak: { depth: 4, accuracy: Math.max(...acc) },
    trainSeconds: 1,
    sweepSeconds: 1,
    lossCurve: [],
    plateauExit: 1000 + seed,
  };
}

const FIXED_PRE = { loop_sampler: "fixed", norm_placement: "pre_norm" } as const;
const RANDOM = { loop_sampler: "lognormal", norm_placement: "sandwich_dual" } as const;
const STARS = { ...RANDOM, reg_weight: 0.1 } as const;

Deno.test("study summary: mean and seed range per depth, peaks and stability per seed", () => {
  assertEquals(spread([0.5]), { mean: 0.5, min: 0.5, max: 0.5, sd: 0, n: 1 });
  const runs = [
    run("R", 2, RANDOM, [0, 0.8, 0.8, 0.4]),
    run("R", 1, RANDOM, [0, 1, 1, 1]),
  ];
  const [r] = summarizeArms(runs);
  assertEquals(r.seeds.map((s) => s.seed), [1, 2]);
  assertEquals(r.depths.map((d) => d.accuracy.mean), [0, 0.9, 0.9, 0.7]);
  assertEquals(r.depths[3].accuracy.min, 0.4);
  assertEquals(r.depths[3].accuracy.max, 1);
  assertEquals(r.seeds.map((s) => s.keepAtDeepest), [1, 0.5]);
  assertEquals(r.peak.mean, 0.9);
  assertEquals(r.seeds.map((s) => s.plateauExit), [1001, 1002]);
});

Deno.test("study check: per seed, STARS keeps 95% at the deepest depth and pre_norm collapses", () => {
  const good = [
    run("F-pre", 1, FIXED_PRE, [0, 1, 0.2, 0]),
    run("F-pre", 2, FIXED_PRE, [0, 0.9, 0.4, 0]),
    run("S", 1, STARS, [0, 1, 1, 0.96]),
    run("S", 2, STARS, [0, 0.8, 0.8, 0.78]),
    run("R", 1, RANDOM, [0, 0.6, 0.6, 0.6]),
    run("R", 2, RANDOM, [0, 0.7, 0.7, 0.7]),
  ];
  const parts = studyCheck(summarizeArms(good), good);
  assertEquals(parts.map((p) => p.held), [true, true, null]);
  assert(parts[2].report);
  assertStringIncludes(parts[2].detail, "difference +25.0 points");
  // One STARS seed below 95% of its own peak, one pre_norm seed at half its peak: both fail.
  const bad = good.map((r) =>
    r.id === "S" && r.seed === 2
      ? run("S", 2, STARS, [0, 0.8, 0.8, 0.7])
      : r.id === "F-pre" && r.seed === 2
      ? run("F-pre", 2, FIXED_PRE, [0, 0.9, 0.45, 0])
      : r
  );
  assertEquals(studyCheck(summarizeArms(bad), bad).map((p) => p.held), [false, false, null]);
  // Without the arms a part needs, it is not evaluated.
  const onlyR = good.filter((r) => r.id === "R");
  assertEquals(studyCheck(summarizeArms(onlyR), onlyR).map((p) => p.held), [null, null]);
});

Deno.test("the study-micro profile runs end to end with 2 seeds: table, bands, stability plot", async () => {
  const dir = await Deno.makeTempDir();
  const testProblems = await loadArithmeticJsonl(PAPER_TEST);
  const arms = ["F-pre", "R-sd", "S-sd"];
  const result = await runRepro({ profile: "study-micro", outDir: dir, testProblems, arms });
  assertEquals(result.arms.map((a) => `${a.id}/${a.seed}`), [
    "F-pre/1",
    "F-pre/2",
    "R-sd/1",
    "R-sd/2",
    "S-sd/1",
    "S-sd/2",
  ]);
  for (const r of result.arms) {
    assertEquals(r.config.seed, r.seed);
    assert((await Deno.stat(`${dir}/arms/${r.id}/seed-${r.seed}/checkpoint.json`)).isFile);
    assert((await Deno.stat(`${dir}/arms/${r.id}/seed-${r.seed}/result.json`)).isFile);
  }
  // Two seeds of one arm are two different runs.
  assert(
    JSON.stringify(result.arms[0].lossCurve) !== JSON.stringify(result.arms[1].lossCurve),
  );
  const md = studyMarkdown(result, "deno task repro --profile study-micro");
  assertStringIncludes(md, "| loops | F-pre | R-sd | S-sd |");
  assertEquals(md.split("\n").filter((l) => /^\| \d+ \|/.test(l)).length, 4); // 4 depths
  assertEquals(md.split("\n").filter((l) => /^\| [FRS]-\w+ \| \d \|/.test(l)).length, 6); // runs
  const svgs = [
    studyAccuracySvg(result),
    studySeedsSvg(result),
    studyStabilitySvg(result),
    studyDynamicsSvg(result),
    studyLossSvg(result),
  ];
  for (const svg of svgs) assertEquals(xmlProblem(svg), null);
  // Bands: one polygon per arm in each family panel it appears in (F: 1, R: 1, R+S: 2).
  assertEquals((svgs[0].match(/<polygon /g) ?? []).length, 4);
  // Stability: one marker per seed (6), squares for the STARS arm's two.
  const stability = svgs[2].split('class="series"').slice(1).map((s) => s.split("</g>")[0]);
  assertEquals(stability.length, 3);
  assertEquals(stability.map((s) => (s.match(/<(circle|rect) /g) ?? []).length), [2, 2, 2]);
  // A second run reads every saved result instead of training again.
  const again = await runRepro({ profile: "study-micro", outDir: dir, testProblems, arms });
  assertEquals(again.arms.map((a) => a.trainSeconds), result.arms.map((a) => a.trainSeconds));
  // The report of a partial study: finished runs are read, the rest listed, nothing trained.
  const partial = await runRepro({
    profile: "study-micro",
    outDir: dir,
    testProblems,
    arms: ["F-pre", "F-sd"],
    finishedOnly: true,
  });
  assertEquals(partial.arms.map((a) => `${a.id}/${a.seed}`), ["F-pre/1", "F-pre/2"]);
  assertEquals(partial.missing, [{ id: "F-sd", seed: 1 }, { id: "F-sd", seed: 2 }]);
  assertEquals(
    (await Array.fromAsync(Deno.readDir(`${dir}/arms`))).some((e) => e.name === "F-sd"),
    false,
  );
  assertStringIncludes(studyMarkdown(partial, "x"), "Not run yet (2 runs");
  // Runs of one study on one product path: finished wasm runs refuse a native process.
  const saved = `${dir}/arms/F-pre/seed-1/result.json`;
  const old = JSON.parse(await Deno.readTextFile(saved));
  await Deno.writeTextFile(
    saved,
    JSON.stringify({ ...old, provenance: { kernels: "toolkit wasm SIMD" } }),
  );
  const err = await assertRejects(() =>
    runRepro({
      profile: "study-micro",
      outDir: dir,
      testProblems,
      arms: ["F-pre"],
      provenance: { products: { products: "native" } },
    })
  );
  assertStringIncludes((err as Error).message, "add --blas off");
  assertEquals(productPathOf({ products: { products: "wasm" } }), "wasm");
  // ... and runs from before the fused attention refuse a process running it.
  await Deno.writeTextFile(
    saved,
    JSON.stringify({ ...old, provenance: { products: { products: "native" } } }),
  );
  const mixed = await assertRejects(() =>
    runRepro({
      profile: "study-micro",
      outDir: dir,
      testProblems,
      arms: ["F-pre"],
      provenance: { products: { products: "native" }, attention: "fused" },
    })
  );
  assertStringIncludes((mixed as Error).message, "reference attention");
  assertStringIncludes((mixed as Error).message, "STARS_FUSED_ATTENTION=off");
  // ... and runs of an earlier numerics revision (recording none: 1) refuse this code's.
  const fused = { products: { products: "native" }, attention: "fused" };
  await Deno.writeTextFile(
    saved,
    JSON.stringify({ ...old, provenance: { ...fused, commit: "c0ffee" } }),
  );
  const older = await assertRejects(() =>
    runRepro({
      profile: "study-micro",
      outDir: dir,
      testProblems,
      arms: ["F-pre"],
      provenance: { ...fused, numerics: NUMERICS_REVISION },
    })
  );
  assertStringIncludes((older as Error).message, "numerics revision 1 (commit c0ffee)");
  assertStringIncludes((older as Error).message, `computes revision ${NUMERICS_REVISION}`);
  await Deno.remove(dir, { recursive: true });
});
