import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { loadCheckpoint } from "../../train/checkpoint.ts";
import { cli } from "../_cli.ts";
import { copyDir, editManifest, snapshot, TINY, trainedDir } from "../_checkpoints.ts";
import "../_backend.ts";

// The CLI flags of TINY, for `train` to resume the checkpoints trainedDir makes.
const flagsOf = (c: Record<string, unknown>) =>
  Object.entries(c).flatMap(([k, v]) => [`--${k}`, String(v)]);
const TINY_FLAGS = flagsOf(TINY);

function assertNoStack(stderr: string) {
  assert(!/\n\s+at /.test(stderr), `stack trace in:\n${stderr}`);
}

Deno.test("damaged checkpoints: exit 2, the file and problem named, nothing changed", async (t) => {
  const good = await trainedDir();
  const nan = async (dir: string) => {
    const b = await Deno.readFile(`${dir}/model.safetensors`);
    new DataView(b.buffer).setFloat32(b.length - 4, NaN, true);
    await Deno.writeFile(`${dir}/model.safetensors`, b);
  };
  const cases: [string, (dir: string) => Promise<void>, string, string, string][] = [
    ["eval: one NaN weight", nan, "eval", "model.safetensors", "non-finite"],
    ["analyze: one NaN weight", nan, "analyze", "model.safetensors", "non-finite"],
    [
      'eval: "step": "abc"',
      (d) => editManifest(d, (m) => m.step = "abc"),
      "eval",
      "checkpoint.json",
      'field "step"',
    ],
    [
      "train: 4 bytes appended",
      async (d) => {
        const b = await Deno.readFile(`${d}/model.safetensors`);
        await Deno.writeFile(`${d}/model.safetensors`, new Uint8Array([...b, 1, 2, 3, 4]));
      },
      "train",
      "model.safetensors",
      "4 bytes longer",
    ],
    [
      "train: optimizer state missing",
      (d) => Deno.remove(`${d}/optimizer.safetensors`),
      "train",
      "optimizer.safetensors",
      "--reset_optimizer",
    ],
  ];
  for (const [name, damage, command, file, problem] of cases) {
    await t.step(name, async () => {
      const dir = await copyDir(good);
      await damage(dir);
      const before = await snapshot(dir);
      const args = command === "train" ? ["train", ...TINY_FLAGS, "--out", dir] : [
        command,
        "--checkpoint",
        dir,
        ...(command === "analyze" ? ["--samples", "2", "--loops", "2"] : ["--loops", "1"]),
      ];
      const r = await cli(...args);
      assertEquals(r.code, 2, r.stdout + r.stderr);
      assertStringIncludes(r.stderr, `${dir}/${file}: `);
      assertStringIncludes(r.stderr, problem);
      assertNoStack(r.stderr);
      assertEquals(await snapshot(dir), before);
      await Deno.remove(dir, { recursive: true });
    });
  }
  await t.step("train --reset_optimizer loads without the optimizer file", async () => {
    const dir = await copyDir(good);
    await Deno.remove(`${dir}/optimizer.safetensors`);
    const before = await snapshot(dir);
    const r = await cli("train", ...TINY_FLAGS, "--out", dir, "--reset_optimizer");
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "done: 6 steps");
    assertEquals(await snapshot(dir), before); // finished: reported, not redone
    await Deno.remove(dir, { recursive: true });
  });
  await Deno.remove(good, { recursive: true });
});

Deno.test("train: a folder in use exits 2 naming the process; a non-finite step exits 3 naming the step", async () => {
  const dir = await Deno.makeTempDir();
  const held = await Deno.open(`${dir}/train.lock`, { read: true, write: true, create: true });
  assert(await held.tryLock(true));
  await held.write(new TextEncoder().encode(JSON.stringify({ pid: Deno.pid })));
  const busy = await cli("train", ...TINY_FLAGS, "--out", dir);
  assertEquals(busy.code, 2, busy.stderr);
  assertStringIncludes(busy.stderr, `in use by another trainer (process ${Deno.pid})`);
  held.close();
  await Deno.remove(`${dir}/train.lock`);

  const r = await cli("train", ...TINY_FLAGS, "--lr", "1e308", "--out", dir);
  assertEquals(r.code, 3, r.stdout + r.stderr);
  assertStringIncludes(r.stderr, "non-finite update at step 0");
  assertStringIncludes(
    r.stderr,
    `the checkpoint of step 0 in ${dir} holds the last finite weights`,
  );
  assertNoStack(r.stderr);
  const kept = await loadCheckpoint(dir);
  assertEquals(kept.manifest.step, 0);
  kept.model.dispose();
  kept.optimizer.dispose();
  const help = await cli("train", "--help");
  assertStringIncludes(help.stdout, "3 a step went non-finite");
  assertStringIncludes(help.stdout, "--reset_optimizer");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train: SIGTERM saves and stops like Ctrl-C; the resumed run ends bit for bit where a straight one does", async () => {
  // Enough steps that a fast machine (6 ms a step in CI) is still training
  // when the signal lands; 60 steps once finished first.
  const STEPS = 400;
  const flags = flagsOf({ ...TINY, steps: STEPS, d_model: 32, d_ff: 64 });
  const straight = await Deno.makeTempDir();
  assertEquals((await cli("train", ...flags, "--out", straight)).code, 0);
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../cli/main.ts", import.meta.url).pathname,
      "train",
      ...flags,
      "--out",
      dir,
    ],
    env: { NO_COLOR: "1", STARS_BACKEND: "wasm" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Wait until it is training (its metrics log has a step), then stop it.
  for (let i = 0; i < 3000; i++) {
    const text = await Deno.readTextFile(`${dir}/metrics.jsonl`).catch(() => "");
    if (text.includes('"loss"')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill("SIGTERM");
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 143, stdout + new TextDecoder().decode(out.stderr));
  assertStringIncludes(stdout, "interrupted at step");
  const step = Number(/interrupted at step (\d+)/.exec(stdout)![1]);
  assert(step > 0 && step < STEPS, stdout);
  const resumed = await cli("train", ...flags, "--out", dir);
  assertEquals(resumed.code, 0, resumed.stderr);
  assertStringIncludes(resumed.stdout, `resuming at step ${step}/${STEPS}`);
  const [a, b] = await Promise.all([snapshot(straight), snapshot(dir)]);
  assertEquals(b["model.safetensors"], a["model.safetensors"]);
  assertEquals(b["optimizer.safetensors"], a["optimizer.safetensors"]);
  for (const d of [straight, dir]) await Deno.remove(d, { recursive: true });
});
