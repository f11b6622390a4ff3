import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { cli, PAPER_DATA } from "../_cli.ts";
import { REPORT_CSV_HEADER } from "../../plots/report_text.ts";
import { xmlProblem } from "../xml_check.ts";
import { arithmeticTestFile } from "../../train/test_set.ts";
import { resolveConfig } from "../../train/config.ts";
import { taskOf } from "../../train/data.ts";

const TINY = ["--digits", "2", "--d_model", "16", "--n_heads", "2", "--d_ff", "32"];

async function tinyCheckpoint(dir: string, loops: number): Promise<void> {
  const tr = await cli(
    "train",
    ...TINY,
    "--loops",
    String(loops),
    "--steps",
    "2",
    "--batch_size",
    "8",
    "--eval_size",
    "12",
    "--out",
    dir,
  );
  assertEquals(tr.code, 0, tr.stderr);
}

Deno.test("eval sweep, exit rules, files and plots; analyze; bad input exits 2", async (t) => {
  const root = await Deno.makeTempDir();
  const [a, b] = [`${root}/fixed2`, `${root}/fixed3`];
  await Promise.all([tinyCheckpoint(a, 2), tinyCheckpoint(b, 3)]);

  await t.step("two checkpoints, exit rules, --out", async () => {
    const out = `${root}/eval`;
    const r = await cli(
      "eval",
      "--checkpoint",
      a,
      `--checkpoint=${b}`,
      "--loops",
      "1,2,8",
      "--exit",
      "kl:1e-3,argmax:2+max:4",
      "--limit",
      "6",
      "--out",
      out,
    );
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "95% interval");
    assertStringIncludes(r.stdout, "mean loops");
    const json = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    assertEquals(json.runs.map((x: { checkpoint: string }) => x.checkpoint), [a, b]);
    for (const run of json.runs) {
      assertEquals(run.results.map((x: { loops: number }) => x.loops), [1, 2, 8]);
      for (const x of run.results) assert(x.low <= x.accuracy && x.accuracy <= x.high);
      assertEquals(run.exits.map((e: { rule: string }) => e.rule), ["kl:0.001", "argmax:2+max:4"]);
      for (const e of run.exits) assert(e.meanLoops >= 1 && e.meanLoops <= 8 && e.maxLoops === 8);
      assert(run.exits[1].meanLoops <= 4);
    }
    const csv = (await Deno.readTextFile(`${out}/results.csv`)).trim().split("\n");
    assertEquals(csv[0], REPORT_CSV_HEADER);
    assertEquals(csv.length, 1 + 2 * (3 + 2));
    const svg = await Deno.readTextFile(`${out}/accuracy.svg`);
    assertEquals(xmlProblem(svg), null);
    assertEquals(svg.match(/<polyline /g)?.length, 2); // one line per checkpoint
    assertStringIncludes(svg, "train 2 (1)");
    assertStringIncludes(svg, "train 3 (2)");

    const cmp = await cli("analyze", "--compare", `${out}/results.json`, "--out", `${root}/cmp`);
    assertEquals(cmp.code, 0, cmp.stderr);
    const chart = await Deno.readTextFile(`${root}/cmp/accuracy.svg`);
    assertEquals(xmlProblem(chart), null);
    // Its own command draws the same chart.
    const own = await cli("compare", "--results", `${out}/results.json`, "--out", `${root}/cmp2`);
    assertEquals(own.code, 0, own.stderr);
    assertEquals(await Deno.readTextFile(`${root}/cmp2/accuracy.svg`), chart);
  });

  await t.step("one checkpoint: --json and --csv on stdout", async () => {
    const js = await cli("eval", "--checkpoint", a, "--loops", "1,4", "--limit", "5", "--json");
    assertEquals(js.code, 0, js.stderr);
    const report = JSON.parse(js.stdout);
    assertEquals(report.results.map((x: { loops: number }) => x.loops), [1, 4]);
    assertEquals(report.train_loops, 2);
    const csv = await cli("eval", "--checkpoint", a, "--loops", "3", "--limit", "5", "--csv");
    assertEquals(csv.code, 0, csv.stderr);
    assertEquals(csv.stdout.trim().split("\n").length, 2);
  });

  await t.step("analyze writes dynamics files", async () => {
    const out = `${root}/dyn`;
    const r = await cli(
      "analyze",
      "--checkpoint",
      a,
      "--samples",
      "4",
      "--loops",
      "6",
      "--json",
      "--out",
      out,
    );
    assertEquals(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assertEquals(report.points.length, 7);
    assertEquals(report.samples, 4);
    assertEquals(report.pca.length, 4);
    assertEquals(report.pca[0].length, 7);
    for (const f of ["dynamics.svg", "pca.svg"]) {
      assertEquals(xmlProblem(await Deno.readTextFile(`${out}/${f}`)), null, f);
    }
    const csv = (await Deno.readTextFile(`${out}/dynamics.csv`)).trim().split("\n");
    assertEquals(csv.length, 8);
  });

  await t.step("bad input", async (s) => {
    const badData = `${root}/bad.jsonl`;
    const good = (await Deno.readTextFile(PAPER_DATA)).split("\n")[0];
    await Deno.writeTextFile(badData, `${good}\n{"num1": 1\n`);
    const cases: [string[], string][] = [
      [["eval", "--checkpoint", `${root}/missing`], "no checkpoint"],
      [["eval", "--checkpoint", a, "--checkpoint", `${root}/missing`], "no checkpoint"],
      [["eval", "--checkpoint", a, "--data", badData], "bad.jsonl:2"],
      [["eval", "--checkpoint", a, "--loops", ","], "at least one loop count"],
      [["eval", "--checkpoint", a, "--loops", "1,two"], '"two"'],
      [["eval", "--checkpoint", a, "--exit", "fast:1"], "unknown criterion"],
      [["eval", "--checkpoint", a, "--exit", "kl:-1"], "threshold"],
      [["eval", "--checkpoint", a, "--exit_max", "0"], "--exit_max"],
      [["eval", "--checkpoint", a, "--json", "--csv"], "choose one"],
      [["eval", "--checkpoint"], "needs a value"],
      [["analyze"], "--checkpoint"],
      [["analyze", "--checkpoint", `${root}/missing`], "no checkpoint"],
      [["analyze", "--checkpoint", a, "--data", badData], "bad.jsonl:2"],
      [["analyze", "--checkpoint", a, "--loops", "many"], "--loops"],
      [["analyze", "--checkpoint", a, "--samples", "0"], "--samples"],
      [["analyze", "--compare", `${root}/none.json`, "--out", root], "cannot read"],
      [["analyze", "--compare", badData], "--out"],
      [["compare", "--out", root], "--results"],
      [["compare", "--results", `${root}/none.json`, "--out", root], "cannot read"],
    ];
    for (const [args, expected] of cases) {
      await s.step(args.join(" ").replaceAll(root, "TMP"), async () => {
        const r = await cli(...args);
        assertEquals(r.code, 2, r.stderr);
        assertStringIncludes(r.stderr, expected);
      });
    }
  });
  await Deno.remove(root, { recursive: true });
});

Deno.test("eval --data reads a file as the run writes answers: reverse false scores a perfect model right", async () => {
  for (const reverse of [true, false]) {
    const config = resolveConfig({ reverse });
    const problems = await arithmeticTestFile("data", PAPER_DATA.pathname, [
      { name: "run", config },
    ]);
    const task = taskOf(config);
    for (const p of problems.slice(0, 50)) {
      // The target is what a perfect model of this run emits, and it is scored right.
      const sum = String(p.a + p.b);
      assertEquals(p.target, " " + (reverse ? [...sum].reverse().join("") : sum));
      assert(task.isCorrect(p, p.target), `${p.prompt}${p.target} (reverse ${reverse})`);
    }
  }
});
