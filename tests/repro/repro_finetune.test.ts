import { assert, assertEquals, assertMatch } from "@std/assert";
import { cli } from "../_cli.ts";
import { BACKEND } from "../_backend.ts";
import {
  armRunConfig,
  BASE_ID,
  baseDir,
  type FinetuneResult,
  finetuneTestSet,
} from "../../repro/finetune.ts";
import { FINETUNE_ARMS, FINETUNE_PROFILE_SPECS } from "../../repro/finetune_arms.ts";
import { type ChainProblem, chainSplitOf } from "../../tasks/chain.ts";

Deno.test("finetune test set: fixed, distinct, from the test split, every number of steps", () => {
  const a = finetuneTestSet("finetune"), b = finetuneTestSet("finetune");
  const problems = a.problems as ChainProblem[];
  assertEquals(problems.length, FINETUNE_PROFILE_SPECS.finetune.testSize);
  assertEquals(problems.map((p) => p.prompt), b.problems.map((p) => p.prompt));
  assertEquals(new Set(problems.map((p) => p.prompt)).size, problems.length);
  for (const p of problems) assertEquals(chainSplitOf(p.key), "test");
  assertEquals([...new Set(problems.map((p) => p.steps))].sort((x, y) => x - y), [
    1,
    2,
    3,
    4,
    5,
    6,
  ]);
});

Deno.test("finetune arms start from the base in the output folder", () => {
  for (const arm of FINETUNE_ARMS) {
    const c = armRunConfig("finetune", arm, 2, "out/x");
    assertEquals([c.init, c.seed], [baseDir("out/x"), 2]);
  }
});

// `deno task repro --profile finetune-micro --out <out> ...args`.
const repro = (out: string, ...args: string[]) =>
  cli("repro", "--profile", "finetune-micro", "--out", out, ...args);

Deno.test({
  name: "finetune pipeline (micro): base, then arms from it; report; finished runs only read",
  ignore: BACKEND !== "wasm",
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "finetune-" });
    try {
      // An arm before its base: an input error that says what to run first.
      const early = await repro(out, "--arms", "SFT");
      assertEquals(early.code, 2, early.stderr);
      assertMatch(early.stderr, /base is not trained yet; run --arms base first/);
      const bad = await repro(out, "--arms", "X");
      assertEquals(bad.code, 2);
      assertMatch(bad.stderr, /allowed: base,SFT,RAND,STARS/);

      const base = await repro(out, "--arms", "base");
      assertEquals(base.code, 0, base.stderr);
      const run = await repro(out, "--arms", "SFT,RAND,STARS");
      assertEquals(run.code, 0, run.stderr);
      const spec = FINETUNE_PROFILE_SPECS["finetune-micro"];
      const baseManifest = JSON.parse(await Deno.readTextFile(`${out}/base/checkpoint.json`));
      for (const arm of spec.arms) {
        for (const seed of spec.seeds) {
          const m = JSON.parse(
            await Deno.readTextFile(`${out}/arms/${arm.id}/seed-${seed}/checkpoint.json`),
          );
          // Each run started from the base's final weights (fresh optimiser: tests/train_init).
          assertEquals(m.extra.init.source, baseDir(out));
          assertEquals(m.extra.init.step, baseManifest.step);
          assertEquals(m.step, spec.finetune.steps);
        }
      }
      const before = await Deno.readTextFile(`${out}/arms/STARS/seed-1/metrics.jsonl`);
      const report = await repro(out, "--report");
      assertEquals(report.code, 0, report.stderr);
      assertEquals(await Deno.readTextFile(`${out}/arms/STARS/seed-1/metrics.jsonl`), before);
      const r: FinetuneResult = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
      assertEquals(r.missing, []);
      assertEquals(r.models.map((m) => `${m.arm}/${m.seed}`), [
        `${BASE_ID}/1`,
        ...spec.arms.flatMap((a) => spec.seeds.map((s) => `${a.id}/${s}`)),
      ]);
      for (const m of r.models) {
        assertEquals(m.sweep.map((p) => p.depth), [...spec.grid]);
        assertEquals(m.sweep[0].total, spec.testSize);
        assertEquals(
          m.exits.map((e) => e.rule),
          spec.exitRules.map((x) => x.replace("1e-3", "0.001")),
        );
        // The steps table adds up to the overall accuracy at every loop count.
        m.bySteps.overall.forEach((c, j) => assertEquals(c.correct, m.sweep[j].correct));
        assertEquals(m.bySteps.steps, [1, 2, 3]);
      }
      assertEquals(r.metrics.map((a) => a.arm), [BASE_ID, "SFT", "RAND", "STARS"]);
      assertEquals(r.comparisons.map((c) => `${c.arm}-${c.against}`), [
        "STARS-SFT",
        "RAND-SFT",
        "STARS-RAND",
      ]);
      const md = await Deno.readTextFile(`${out}/results.md`);
      assertMatch(md, /## The paper's metrics/);
      assert((await Deno.readTextFile(`${out}/accuracy.svg`)).startsWith("<svg"));
      assert((await Deno.readTextFile(`${out}/steps.svg`)).startsWith("<svg"));
      // A moved output folder (as committed under docs/results/) still reports
      // from its saved results: the arms' init is the base of their own folder.
      const moved = `${out}-moved`;
      await Deno.rename(out, moved);
      try {
        const again = await repro(moved, "--report");
        assertEquals(again.code, 0, again.stderr);
        const m: FinetuneResult = JSON.parse(await Deno.readTextFile(`${moved}/results.json`));
        assertEquals([m.missing, m.models.length], [[], r.models.length]);
      } finally {
        await Deno.rename(moved, out);
      }
      // A finished model of an earlier numerics revision (recording none)
      // refuses a process that would add to the study; --report still reads it.
      const saved = `${out}/arms/SFT/seed-1/result.json`;
      const result = JSON.parse(await Deno.readTextFile(saved));
      delete result.provenance.numerics;
      await Deno.writeTextFile(saved, JSON.stringify(result));
      const mixed = await repro(out, "--arms", "SFT");
      assertEquals(mixed.code, 2, mixed.stderr);
      assertMatch(
        mixed.stderr,
        /arms\/SFT\/seed-1 was computed with the toolkit's numerics revision 1/,
      );
      const read = await repro(out, "--report");
      assertEquals(read.code, 0, read.stderr);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
