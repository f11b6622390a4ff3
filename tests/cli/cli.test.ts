import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { cli, cliWithEnv, PAPER_DATA } from "../_cli.ts";

const TINY = [
  "--digits",
  "2",
  "--d_model",
  "16",
  "--n_heads",
  "2",
  "--d_ff",
  "32",
  "--batch_size",
  "8",
];

Deno.test("bad input exits 2 with a message naming what is wrong", async (t) => {
  const dir = await Deno.makeTempDir();
  const badConfig = `${dir}/bad.json`;
  await Deno.writeTextFile(badConfig, JSON.stringify({ steps: 5, d_modle: 3 }));
  const cases: [string[], string][] = [
    [["train", "--bogus", "1"], "--bogus"],
    [["train", "--steps", "abc"], '"steps"'],
    [["train", "--lr", "-1"], '"lr"'],
    [["train", "--norm_placement", "middle"], "pre_norm"],
    [["train", "--config", badConfig], '"d_modle"'],
    [["train", "--config", `${dir}/missing.json`], "cannot read"],
    [["train", "--digits", "1", "--out", `${dir}/d1`], '"eval_size"'],
    [["frobnicate"], "unknown command"],
    [["eval"], "--checkpoint"],
    [["eval", "--checkpoint", `${dir}/nothing`], "no checkpoint"],
  ];
  for (const [args, expected] of cases) {
    await t.step(args.join(" "), async () => {
      const r = await cli(...args);
      assertEquals(r.code, 2, r.stderr);
      assertStringIncludes(r.stderr, expected);
    });
  }
  await t.step("STARS_WASM_THREADS=lots", async () => {
    const r = await cliWithEnv({ STARS_WASM_THREADS: "lots" }, "train", "--steps", "1");
    assertEquals(r.code, 2, r.stderr);
    assertStringIncludes(r.stderr, "STARS_WASM_THREADS must be an integer from 1 to 8");
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--help documents every option and exits 0", async () => {
  const train = await cli("train", "--help");
  assertEquals(train.code, 0);
  for (const key of ["--d_model", "--norm_placement", "--loop_sampler", "--lr", "--out"]) {
    assertStringIncludes(train.stdout, key);
  }
  // Each key's type, range and default, as the schema has them.
  assertStringIncludes(train.stdout, "(int in 1..9; default 4)");
  assertStringIncludes(train.stdout, "(number in 0..0.99; default 0)");
  assertStringIncludes(train.stdout, "--lr               peak learning rate (number > 0; default");
  const ev = await cli("eval", "--help");
  assertEquals(ev.code, 0);
  assertStringIncludes(ev.stdout, "--loops");
});

Deno.test("train then eval from the command line, on generated and file data", async () => {
  const dir = await Deno.makeTempDir();
  const tr = await cli("train", ...TINY, "--steps", "3", "--eval_size", "10", "--out", dir);
  assertEquals(tr.code, 0, tr.stderr);
  assertStringIncludes(tr.stdout, "held-out exact match");
  const ev = await cli("eval", "--checkpoint", dir, "--loops", "1,2,3", "--json");
  assertEquals(ev.code, 0, ev.stderr);
  const report = JSON.parse(ev.stdout);
  assertEquals(report.results.map((r: { loops: number }) => r.loops), [1, 2, 3]);
  // Each loop count's row reaches stderr as it completes (stdout stays the JSON).
  for (const r of report.results) {
    assertStringIncludes(ev.stderr, `${dir}: ${r.loops} loops ${(100 * r.accuracy).toFixed(1)}%`);
  }
  for (const r of report.results) assert(r.accuracy >= 0 && r.accuracy <= 1 && r.total === 10);
  // A bad --loops value and a malformed data line are input errors.
  const badLoops = await cli("eval", "--checkpoint", dir, "--loops", "1,x");
  assertEquals(badLoops.code, 2);
  assertStringIncludes(badLoops.stderr, '"x"');
  const badData = `${dir}/bad.jsonl`;
  const good = (await Deno.readTextFile(PAPER_DATA)).split("\n")[0];
  await Deno.writeTextFile(badData, `${good}\n{"num1": 1\n`);
  const badFile = await cli("eval", "--checkpoint", dir, "--data", badData);
  assertEquals(badFile.code, 2);
  assertStringIncludes(badFile.stderr, "bad.jsonl:2");
  // A second run in the same folder resumes, unless told --no-resume; a finished
  // run is reported, and other steps (another learning-rate schedule) are refused.
  const again = await cli("train", ...TINY, "--steps", "3", "--eval_size", "10", "--out", dir);
  assertEquals(again.code, 0, again.stderr);
  assertStringIncludes(again.stdout, "resuming at step 3");
  const longer = await cli("train", ...TINY, "--steps", "4", "--eval_size", "10", "--out", dir);
  assertEquals(longer.code, 2, longer.stderr);
  assertStringIncludes(longer.stderr, "is finished (3 of 3 steps)");
  const fresh = await cli(
    "train",
    ...TINY,
    ...["--steps", "4", "--eval_size", "10", "--out", dir, "--no-resume"],
  );
  assertEquals(fresh.code, 0, fresh.stderr);
  assert(!fresh.stdout.includes("resuming"), fresh.stdout);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("eval reads the paper's test file (4-digit model)", async () => {
  const dir = await Deno.makeTempDir();
  const tr = await cli(
    "train",
    ...TINY.slice(2), // every flag once: --digits 4, not TINY's 2
    "--digits",
    "4",
    "--steps",
    "1",
    "--eval_size",
    "5",
    "--out",
    dir,
  );
  assertEquals(tr.code, 0, tr.stderr);
  const ev = await cli(
    "eval",
    "--checkpoint",
    dir,
    "--data",
    PAPER_DATA.pathname,
    "--limit",
    "40",
    "--loops",
    "2",
  );
  assertEquals(ev.code, 0, ev.stderr);
  assertStringIncludes(ev.stdout, "40 problems");
  // The same file by URL (packaged files are URLs when the toolkit is loaded from a
  // registry): a file: URL, and over https-like http from a local server.
  const byFileUrl = await cli(
    ...["eval", "--checkpoint", dir, "--data", PAPER_DATA.href, "--limit", "40", "--loops", "2"],
  );
  assertEquals(byFileUrl.stdout, ev.stdout, byFileUrl.stderr);
  const text = await Deno.readTextFile(PAPER_DATA);
  const server = Deno.serve(
    { port: 0, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/test.jsonl"
        ? new Response(text)
        : new Response("no", { status: 404 }),
  );
  try {
    const base = `http://localhost:${server.addr.port}`;
    const byHttp = await cli(
      ...["eval", "--checkpoint", dir, "--data", `${base}/test.jsonl`, "--limit", "40"],
      ...["--loops", "2"],
    );
    assertEquals(byHttp.stdout, ev.stdout, byHttp.stderr);
    const missing = await cli("eval", "--checkpoint", dir, "--data", `${base}/gone.jsonl`);
    assertEquals(missing.code, 2, missing.stderr);
    assertStringIncludes(missing.stderr, "gone.jsonl");
  } finally {
    await server.shutdown();
  }
  await Deno.remove(dir, { recursive: true });
});
