/**
 * Every user error, as a tired researcher makes them: each case runs the
 * CLI and must exit with code 2, print one line naming the key, flag or
 * file (no stack trace), and leave every file as it was (nothing written,
 * created or changed, in the scratch folder or in runs/).
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { NonFiniteLossError } from "../../train/step.ts";
import { cli, cliWithEnv, PAPER_DATA } from "../_cli.ts";

const TINY = ["--d_model", "16", "--n_heads", "2", "--d_ff", "32", "--batch_size", "8"];

/** path -> size and mtime of every file and folder under `root`. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      const info = await Deno.lstat(path);
      out.set(path, `${info.size} ${info.mtime?.getTime()}`);
      if (info.isDirectory) await walk(path);
    }
  };
  await walk(root);
  return out;
}

async function runsListing(): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir("runs"))).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

const line = (o: Record<string, unknown>) => JSON.stringify(o);
const sum = (a: number, b: number) =>
  line({ num1: a, num2: b, sum: a + b, expression: `${a} + ${b}`, answer: a + b });

Deno.test("every user error exits 2, names what is wrong, and changes no file", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "stars-user-errors-" });
  const ck = `${root}/ck`;
  const tr = await cli(
    "train",
    ...TINY,
    ...["--digits", "2", "--steps", "2", "--eval_size", "10", "--out", ck],
  );
  assertEquals(tr.code, 0, tr.stderr);

  const f = (name: string) => `${root}/${name}`;
  const write = (name: string, text: string) => Deno.writeTextFile(f(name), text);
  await write("dup.json", '{"steps": 5, "lr": 1e-3, "lr": 2e-3}');
  await write("bom.json", '\uFEFF{"steps": 5, "d_modle": 8}');
  await write("overflow.json", '{"lr": 1e400}');
  await write("array.json", "[1, 2]");
  await Deno.mkdir(f("folder"));
  await write("a_file", "not a folder\n");
  await write("mix.jsonl", `${sum(12, 34)}\n${sum(123, 34)}\n`);
  await write("nine.jsonl", `${sum(123456789, 987654321)}\n`);
  await write("five.jsonl", `${sum(12345, 54321)}\n`);
  await write("dupdata.jsonl", `{"num1": 12, "num1": 13, "num2": 1, "sum": 13}\n`);
  await write("bomdata.jsonl", `\uFEFF${sum(12, 34)}\n{"num1": 1\n`);
  await write("empty.jsonl", "\n\n");
  await write("math_bad.jsonl", `{"question": "1+1?", "answer": "#### 2"}\n{"question": 3\n`);
  await write("math_empty.jsonl", "");
  await write("wrong_results.json", line({ checkpoint: "x", results: [{ loops: 1 }] }));
  await write("runs_results.json", line({ runs: "all" }));
  const paper = PAPER_DATA.pathname;

  // [args, strings the message must contain]
  const cases: [string[], string[]][] = [
    // flags
    [["train", "--lr", "5e-3", "--lr", "7e-3"], ["--lr given more than once", "7e-3"]],
    [["train", "--loops", "2", "--loops=4"], ["--loops given more than once"]],
    [["train", "--resume", "--no-resume"], ["--resume given more than once"]],
    [["analyze", "--checkpoint", ck, "--checkpoint", ck], ["--checkpoint given more than once"]],
    [["eval", "--checkpoint", ck, "--loops", "1", "--loops", "2"], ["--loops given more"]],
    [["train", "--out", ""], ["--out needs a value", '--out ""']],
    [["train", "--out="], ["--out needs a value", "--out="]],
    [["eval", "--checkpoint", ck, "--data="], ["--data needs a value"]],
    [["eval", "--checkpoint", ck, "--loops", "1,,2"], ["--loops", "item 2", "empty"]],
    [["eval", "--checkpoint", ck, "--loops", "1,2,"], ["--loops", "item 3"]],
    [["analyze", "--compare", `${f("mix.jsonl")},,x`, "--out", f("c")], ["--compare", "empty"]],
    [["train", "--steps", "0x3"], ['"steps"', "0x3", "not a decimal"]],
    [["train", "--steps", " 3 "], ['"steps"', "not a decimal"]],
    [["train", "--steps", "Infinity"], ['"steps"', "Infinity", "not a finite number"]],
    [["train", "--lr", "NaN"], ['"lr"', "not a finite number"]],
    [["train", "--lr", "1e400"], ['"lr"', "1e400", "overflows to Infinity"]],
    [["eval", "--checkpoint", ck, "--batch_size", "0x10"], ["--batch_size", "0x10"]],
    [["eval", "--checkpoint", ck, "--limit", "Infinity"], ["--limit", "not a finite number"]],
    [["analyze", "--checkpoint", ck, "--samples", " 4"], ["--samples", "not a plain decimal"]],
    [["train", "--bogus", "1"], ["--bogus"]],
    [["train", "--norm_placement", "middle"], ['"norm_placement"', "pre_norm"]],
    [["train", "--backend", "tpu"], ['"backend"', "wasm"]],
    [["eval", "--checkpoint", ck, "--backend", "tpu"], ["--backend", "tpu"]],
    [["eval", "--checkpoint", f("nothing")], ["no checkpoint"]],
    [["frobnicate"], ["unknown command"]],
    // config files
    [["train", "--config", f("dup.json")], ["dup.json", 'duplicate key "lr"']],
    [["train", "--config", f("bom.json")], ['"d_modle"']],
    [["train", "--config", f("overflow.json")], ["overflow.json", '"lr"', "1e400"]],
    [["train", "--config", f("array.json")], ["array.json", "one JSON object"]],
    [["train", "--config", f("missing.json")], ["missing.json", "cannot read"]],
    [["train", "--config", f("folder")], ["--config", "cannot read", "folder"]],
    [["train", "--config", f("dup.json"), "--config", f("bom.json")], ["--config given more"]],
    // data files: malformed, and problems that do not fit the checkpoint's model
    [["eval", "--checkpoint", ck, "--data", f("mix.jsonl")], ["mix.jsonl:2", "3 digits", "2"]],
    [["eval", "--checkpoint", ck, "--data", f("nine.jsonl")], ["nine.jsonl:1", "9 digits"]],
    [["eval", "--checkpoint", ck, "--data", paper], ["4digit.jsonl:1", "5075 more"]],
    [["analyze", "--checkpoint", ck, "--data", f("mix.jsonl")], ["mix.jsonl:2", "--skip_unfit"]],
    [["eval", "--checkpoint", ck, "--data", f("dupdata.jsonl")], ["dupdata.jsonl:1", '"num1"']],
    [["eval", "--checkpoint", ck, "--data", f("bomdata.jsonl")], ["bomdata.jsonl:2"]],
    [["eval", "--checkpoint", ck, "--data", f("empty.jsonl")], ["no problems", "empty.jsonl"]],
    [["eval", "--checkpoint", ck, "--data", f("folder")], ["--data", "cannot read", "folder"]],
    [["eval", "--checkpoint", ck, "--data", f("missing.jsonl")], ["missing.jsonl", "no such"]],
    [
      ["repro", "--profile", "micro", "--data", f("five.jsonl"), "--out", f("repro")],
      ["five.jsonl:1", "arm A", "5 digits"],
    ],
    // repro's lists: every item is one of the profile's (no "1.0" for seed 1, no empty item)
    [["repro", "--profile", "micro", "--arms", "A,Z", "--out", f("repro")], ['"Z"', "A,B,C,D"]],
    [["repro", "--profile", "study-micro", "--seeds", "1.0", "--out", f("r")], ['"1.0"', "1,2"]],
    [["repro", "--profile", "study-micro", "--seeds", "1,", "--out", f("r")], ["item 2", "empty"]],
    [["repro", "--pilot", "--candidates", "nope", "--out", f("r")], ['"nope"', "--candidates"]],
    ...[f("math_bad.jsonl"), f("math_empty.jsonl"), f("missing.jsonl"), f("folder")].map(
      (file): [string[], string[]] => [
        ["train", "--task", "gsm8k-synthetic", "--data", file, "--out", f("math")],
        ['"data"', file.endsWith("math_bad.jsonl") ? "math_bad.jsonl:2" : file.split("/").pop()!],
      ],
    ),
    [["train", "--digits", "1", "--out", f("d1")], ['"eval_size"']],
    // output folders
    [["train", "--steps", "1", "--out", f("a_file")], ["--out", "a_file", "not a folder"]],
    [["train", "--steps", "1", "--out", f("a_file/x")], ["--out", "a_file/x"]],
    [["eval", "--checkpoint", ck, "--loops", "1", "--out", f("a_file")], ["--out", "a_file"]],
    [
      ["analyze", "--checkpoint", ck, "--samples", "2", "--loops", "2", "--out", f("a_file/y")],
      ["--out", "a_file/y"],
    ],
    [["eval", "--checkpoint", ck, "--loops", "1", "--out", "/proc/stars-x"], ["--out", "/proc"]],
    [
      ["analyze", "--compare", f("wrong_results.json"), "--out", f("cmp")],
      ["wrong_results.json", "not a results.json", '"accuracy"'],
    ],
    [["analyze", "--compare", f("runs_results.json"), "--out", f("cmp")], ['"runs"']],
    [["analyze", "--compare", f("mix.jsonl"), "--out", f("cmp")], ["mix.jsonl", "valid JSON"]],
    // resource bounds
    [["train", "--d_model", "100000"], ['"d_model"', "<= 16384"]],
    [["train", "--d_model", "16000", "--n_heads", "1", "--out", f("big")], ["lower d_model"]],
    [["train", "--batch_size", "100000000"], ['"batch_size"', "<= 1048576"]],
    [["train", "--batch_size", "1000000", "--out", f("big")], ["lower batch_size", "GB"]],
    [["eval", "--checkpoint", ck, "--loops", "100000"], ["--loops", "10000"]],
    [["eval", "--checkpoint", ck, "--exit", "kl:1e-3", "--exit_max", "20000"], ["--exit_max"]],
    [["analyze", "--checkpoint", ck, "--loops", "100000"], ["--loops", "10000"]],
  ];
  const before = await snapshot(root);
  const runsBefore = await runsListing();
  for (const [args, expected] of cases) {
    await t.step(args.join(" ").replaceAll(root, "TMP"), async () => {
      const r = await cli(...args);
      assertEquals(r.code, 2, r.stderr);
      for (const text of expected) assertStringIncludes(r.stderr, text);
      const lines = r.stderr.trim().split("\n");
      assertEquals(lines.length, 1, `one line, no stack trace:\n${r.stderr}`);
      assert(lines[0].startsWith("error: "), r.stderr);
      assertEquals(await snapshot(root), before, "no file written or changed");
      assertEquals(await runsListing(), runsBefore, "nothing new in runs/");
    });
  }
  await t.step("STARS_WASM_THREADS=lots", async () => {
    const commands = [
      ["train", "--steps", "1", "--out", f("threads")],
      ["eval", "--checkpoint", ck],
      ["analyze", "--checkpoint", ck],
    ];
    for (const args of commands) {
      const r = await cliWithEnv({ STARS_WASM_THREADS: "lots" }, ...args);
      assertEquals(r.code, 2, r.stderr);
      assertStringIncludes(r.stderr, "STARS_WASM_THREADS must be an integer from 1 to 8");
    }
    assertEquals(await snapshot(root), before);
  });
  await t.step("STARS_BACKEND=tpu", async () => {
    const r = await cliWithEnv({ STARS_BACKEND: "tpu" }, "eval", "--checkpoint", ck);
    assertEquals(r.code, 2, r.stderr);
    assertStringIncludes(r.stderr, "STARS_BACKEND");
  });

  await t.step("--skip_unfit skips and counts what does not fit, and scores the rest", async () => {
    const r = await cli(
      ...["eval", "--checkpoint", ck, "--data", f("mix.jsonl"), "--loops", "1", "--skip_unfit"],
      "--json",
    );
    assertEquals(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assertEquals([report.problems, report.skipped_unfit], [1, 1]);
    assertEquals(report.results[0].total, 1);
  });
  await t.step("a byte-order mark is accepted in config and data files", async () => {
    await write("bom_ok.jsonl", `\uFEFF${sum(12, 34)}\n`);
    const r = await cli("eval", "--checkpoint", ck, "--data", f("bom_ok.jsonl"), "--loops", "1");
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "1 problems");
  });
  await t.step("analyze gives the same rho(J) twice", async () => {
    const run = async () => {
      const r = await cli(
        "analyze",
        "--checkpoint",
        ck,
        "--samples",
        "4",
        "--loops",
        "3",
        "--json",
      );
      assertEquals(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).points.map((p: { rho: number | null }) => p.rho);
    };
    const first = await run();
    assert(first.every((x: number | null) => typeof x === "number"), String(first));
    assertEquals(await run(), first);
  });
  await Deno.remove(root, { recursive: true });
});

Deno.test("a non-finite loss is printed as NaN or Infinity, not null", () => {
  const e = new NonFiniteLossError(7, { loss: NaN, ce: Infinity, accuracy: 0.5 });
  assertStringIncludes(e.message, "step 7: loss NaN, ce Infinity, accuracy 0.5");
});
