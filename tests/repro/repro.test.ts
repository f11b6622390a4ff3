import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { armConfig, ARMS, PROFILES } from "../../repro/arms.ts";
import { paperCheck, runRepro } from "../../repro/run.ts";
import {
  reproAccuracySvg,
  reproDynamicsSvg,
  reproLossSvg,
  reproMarkdown,
} from "../../repro/report.ts";
import { resolveConfig } from "../../train/config.ts";
import { loadArithmeticJsonl } from "../../tasks/paper_data.ts";
import { xmlProblem } from "../xml_check.ts";
import "../_backend.ts";

const PAPER_TEST = new URL("../../data/stars_addition_test_4digit.jsonl", import.meta.url);

Deno.test("the arms' configs differ only in the keys that define each arm", () => {
  for (const profile of PROFILES) {
    const configs = ARMS.map((arm) => resolveConfig(armConfig(profile, arm)));
    const keys = Object.keys(configs[0]) as (keyof typeof configs[0])[];
    const differing = (i: number, j: number) =>
      keys.filter((k) => configs[i][k] !== configs[j][k]).sort();
    // A vs B: only the norm placement.
    assertEquals(differing(0, 1), ["norm_placement"]);
    // B vs C: only the loop sampler.
    assertEquals(differing(1, 2), ["loop_sampler"]);
    // C vs D: only the penalty weight (K and mode are the defaults, and the same).
    assertEquals(differing(2, 3), ["reg_weight"]);
    assertEquals([configs[3].reg_weight, configs[3].reg_iters, configs[3].reg_mode], [
      0.1,
      1,
      "jvp",
    ]);
    // The penalty starts when the warm-up ends, as in the paper.
    assertEquals(configs[3].reg_warmup, configs[3].warmup_steps);
    // Everything else (model, data, budget, seed) is shared.
    for (const k of ["d_model", "steps", "batch_size", "lr", "seed", "digits"] as const) {
      assert(configs.every((c) => c[k] === configs[0][k]), `${profile}: ${k}`);
    }
  }
});

Deno.test("the micro profile runs end to end and writes a well-formed table and plots", async () => {
  const dir = await Deno.makeTempDir();
  const testProblems = await loadArithmeticJsonl(PAPER_TEST);
  assertEquals(testProblems.length, 5076);
  const result = await runRepro({ profile: "micro", outDir: dir, testProblems });
  assertEquals(result.arms.map((a) => a.id), ["A", "B", "C", "D"]);
  for (const arm of result.arms) {
    assertEquals(arm.sweep.map((p) => p.depth), [1, 2, 4, 8]);
    assertEquals(arm.dynamics.map((d) => d.depth), [1, 2, 4, 8]);
    assert(arm.sweep.every((p) => p.total === 16 && p.low <= p.accuracy && p.accuracy <= p.high));
    assert(arm.dynamics.every((d) => d.rho !== null && d.rho > 0 && d.relStep !== null));
    // Its loss curve covers the 3 steps; times are measured.
    assertEquals(arm.lossCurve.map(([step]) => step), [1, 2, 3]);
    assert(arm.lossCurve.every(([, ce]) => ce > 0 && ce < 10));
    assert(arm.trainSeconds > 0 && arm.sweepSeconds > 0);
    // Each arm resumed from / saved its own checkpoint.
    assert((await Deno.stat(`${dir}/arms/${arm.id}/checkpoint.json`)).isFile);
  }
  const md = reproMarkdown(result, "deno task repro --profile micro");
  assertEquals(md.split("\n").filter((l) => /^\| \d+ \|/.test(l)).length, 8); // 4 depths x 2 tables
  assertStringIncludes(md, "| loops | A | B | C | D |");
  for (const svg of [reproAccuracySvg(result), reproDynamicsSvg(result), reproLossSvg(result)]) {
    assertEquals(xmlProblem(svg), null);
  }
  assertEquals((reproAccuracySvg(result).match(/A: fixed 4, pre_norm/g) ?? []).length > 0, true);
  // A second run reads each arm's saved result instead of measuring again.
  const saved = JSON.parse(await Deno.readTextFile(`${dir}/arms/B/result.json`));
  await Deno.writeTextFile(
    `${dir}/arms/B/result.json`,
    JSON.stringify({ ...saved, trainAccuracy: 0.123 }),
  );
  const again = await runRepro({ profile: "micro", outDir: dir, testProblems, arms: ["B"] });
  assertEquals(again.arms[0].trainAccuracy, 0.123);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the paper's check: D flat to the deepest depth, A collapsed by 32", () => {
  const arm = (id: string, acc: Record<number, number>) => ({
    id,
    peak: { depth: 4, accuracy: Math.max(...Object.values(acc)) },
    sweep: Object.entries(acc).map(([d, a]) => ({ depth: Number(d), accuracy: a })),
  });
  const held = paperCheck([
    arm("A", { 4: 1, 32: 0.3, 100: 0 }),
    arm("D", { 4: 0.9, 32: 0.9, 100: 0.88 }),
  ] as never);
  assertEquals(held.held, true);
  const failed = paperCheck([
    arm("A", { 4: 1, 32: 0.6, 100: 0 }),
    arm("D", { 4: 0.9, 32: 0.9, 100: 0.88 }),
  ] as never);
  assertEquals(failed.held, false);
});
