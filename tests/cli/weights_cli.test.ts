/**
 * `export` and a safetensors `--checkpoint` for `analyze` (either naming,
 * detected or given; a run config from the file or `--config`), and the
 * input errors (exit 2) of files that fit no naming or not the config.
 */
import { assert, assertEquals } from "@std/assert";
import { decodeSafetensors, encodeSafetensors } from "../../train/safetensors.ts";
import { train } from "../../train/trainer.ts";
import { cli } from "../_cli.ts";
import "../_backend.ts";

const TINY = {
  digits: 2,
  d_model: 16,
  n_heads: 2,
  d_ff: 32,
  steps: 2,
  batch_size: 8,
  eval_size: 5,
  eval_every: 0,
  checkpoint_every: 0,
};

Deno.test("export, then analyze the file: reference or toolkit names, with or without metadata", async () => {
  const dir = await Deno.makeTempDir();
  const run = await train(TINY, { outDir: `${dir}/run` });
  run.model.dispose();
  for (const names of ["reference", "toolkit"]) {
    const out = `${dir}/${names}.safetensors`;
    const r = await cli("export", "--checkpoint", `${dir}/run`, "--names", names, "--out", out);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.includes(`${names} names, step 2`), r.stdout);
    const a = await cli("analyze", "--checkpoint", out, "--samples", "2", "--loops", "2", "--json");
    assertEquals(a.code, 0, a.stderr);
    assertEquals(JSON.parse(a.stdout).step, 2);
  }
  const ev = await cli(
    ...["eval", "--checkpoint", `${dir}/reference.safetensors`, "--checkpoint", `${dir}/run`],
    ...["--loops", "1,2", "--limit", "3", "--json"],
  );
  assertEquals(ev.code, 0, ev.stderr);
  const [fromFile, fromDir] = JSON.parse(ev.stdout).runs ?? JSON.parse(ev.stdout);
  assertEquals(fromFile.results, fromDir.results);
  const wrong = await cli(
    "analyze",
    "--checkpoint",
    `${dir}/toolkit.safetensors`,
    "--names",
    "reference",
  );
  assertEquals(wrong.code, 2);
  assert(wrong.stderr.includes("the tensor names are the toolkit's"), wrong.stderr);
  // A bare state_dict (no metadata) needs the run's config, and must fit it.
  const file = decodeSafetensors(await Deno.readFile(`${dir}/reference.safetensors`), "f");
  const tensors = [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  await Deno.writeFile(`${dir}/bare.safetensors`, encodeSafetensors(tensors));
  const bare = await cli("analyze", "--checkpoint", `${dir}/bare.safetensors`);
  assertEquals(bare.code, 2);
  assert(bare.stderr.includes("--config FILE.json"), bare.stderr);
  await Deno.writeTextFile(`${dir}/c.json`, JSON.stringify(TINY));
  const given = await cli(
    ...["analyze", "--checkpoint", `${dir}/bare.safetensors`, "--config", `${dir}/c.json`],
    ...["--samples", "2", "--loops", "2"],
  );
  assertEquals(given.code, 0, given.stderr);
  await Deno.writeTextFile(`${dir}/wide.json`, JSON.stringify({ ...TINY, d_model: 32 }));
  const misfit = await cli(
    ...["analyze", "--checkpoint", `${dir}/bare.safetensors`, "--config", `${dir}/wide.json`],
  );
  assertEquals(misfit.code, 2);
  assert(
    misfit.stderr.includes('tensor "token_embedding.weight" has shape [15,16]'),
    misfit.stderr,
  );
  await Deno.writeFile(
    `${dir}/odd.safetensors`,
    encodeSafetensors([{ name: "w", shape: [1], data: new Float32Array(1) }]),
  );
  const odd = await cli("analyze", "--checkpoint", `${dir}/odd.safetensors`);
  assertEquals(odd.code, 2);
  assert(odd.stderr.includes("fit neither"), odd.stderr);
  const noCkpt = await cli(
    "export",
    "--checkpoint",
    `${dir}/none`,
    "--out",
    `${dir}/x.safetensors`,
  );
  assertEquals(noCkpt.code, 2);
  const badNames = await cli("export", "--checkpoint", `${dir}/run`, "--names", "hf", "--out", "x");
  assertEquals(badNames.code, 2);
  assert(badNames.stderr.includes("--names must be one of toolkit, reference"), badNames.stderr);
});
