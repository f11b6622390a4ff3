import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { cli } from "../_cli.ts";
import { generateWordProblems, toGsm8kJsonl } from "../../tasks/math/mod.ts";

const TINY = ["--d_model", "16", "--n_heads", "2", "--d_ff", "32", "--batch_size", "4"];

Deno.test("cli: train --task chain, eval --by_steps; a GSM8K file on a math checkpoint", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "chain-cli-" });
  try {
    const run = `${root}/chain`;
    await t.step("train and eval a chain run, by steps", async () => {
      const tr = await cli(
        "train",
        "--task",
        "chain",
        "--chain_steps_max",
        "2",
        "--chain_test_steps_max",
        "3",
        "--steps",
        "2",
        "--eval_size",
        "12",
        "--eval_every",
        "0",
        ...TINY,
        "--out",
        run,
      );
      assertEquals(tr.code, 0, tr.stderr);
      const ev = await cli("eval", "--checkpoint", run, "--loops", "1,2", "--by_steps", "--json");
      assertEquals(ev.code, 0, ev.stderr);
      const report = JSON.parse(ev.stdout);
      assertEquals(report.by_steps.loops, [1, 2]);
      assertEquals(report.by_steps.steps, [1, 2, 3]);
      const totals = report.by_steps.cells.map((r: { total: number }[]) => r[0].total);
      assertEquals(totals.reduce((a: number, b: number) => a + b, 0), 12);
      assertEquals(report.by_steps.overall[1].correct, report.results[1].correct);
      const table = await cli("eval", "--checkpoint", run, "--loops", "1", "--by_steps");
      assertEquals(table.code, 0, table.stderr);
      assertStringIncludes(table.stdout, "accuracy by steps x loops:");
      assertStringIncludes(table.stdout, "| steps | problems | 1 loops |");
      const data = await cli("eval", "--checkpoint", run, "--data", `${root}/x.jsonl`);
      assertEquals(data.code, 2);
      assertStringIncludes(data.stderr, "own generated test split");
    });
    await t.step("a GSM8K JSON-lines file on a math checkpoint", async () => {
      const file = `${root}/gsm8k_test.jsonl`;
      const problems = generateWordProblems({ count: 6, seed: 2, split: "test", stepsMax: 3 });
      await Deno.writeTextFile(file, toGsm8kJsonl(problems));
      const math = `${root}/math`;
      const tr = await cli(
        "train",
        "--task",
        "gsm8k-synthetic",
        "--steps",
        "2",
        "--eval_size",
        "4",
        "--eval_every",
        "0",
        ...TINY,
        "--out",
        math,
      );
      assertEquals(tr.code, 0, tr.stderr);
      const ev = await cli(
        "eval",
        "--checkpoint",
        math,
        "--data",
        file,
        "--loops",
        "1,2",
        "--exit",
        "kl:1e-3",
        "--json",
      );
      assertEquals(ev.code, 0, ev.stderr);
      const report = JSON.parse(ev.stdout);
      assertEquals(report.data, file);
      assertEquals(report.problems, 6);
      assertEquals(report.results.map((r: { loops: number }) => r.loops), [1, 2]);
      assertEquals(report.exits.length, 1);
      // GSM8K's problems report no steps: --by_steps says so before any work.
      const by = await cli("eval", "--checkpoint", math, "--data", file, "--by_steps");
      assertEquals(by.code, 2);
      assertStringIncludes(by.stderr, "reports no number of steps");
      assert(!by.stdout.includes("loops  exact match"));
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
