import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from "../../train/checkpoint.ts";
import { CheckpointError } from "../../train/checkpoint_error.ts";
import { decodeSafetensors, encodeSafetensors } from "../../train/safetensors.ts";
import { openWeights } from "../../train/weights.ts";
import { train } from "../../train/trainer.ts";
import {
  copyDir,
  editManifest,
  readRaw,
  snapshot,
  TINY,
  trainedDir,
  writeF32,
  writeRaw,
} from "../_checkpoints.ts";
import "../_backend.ts";
import { NUMERICS_REVISION } from "../../utils/numerics.ts";

const ARM_A = new URL("../../docs/results/addition/arms/A", import.meta.url).pathname;

async function allValues(model: { params: Map<string, tf.Variable> }): Promise<number[]> {
  const out: number[] = [];
  for (const p of model.params.values()) out.push(...await p.data());
  return out;
}

// Each case damages a copy of a real checkpoint; the load must fail with a
// CheckpointError naming the file and the problem, having created no tensor.
type Damage = (dir: string) => Promise<void>;
const M = "model.safetensors", O = "optimizer.safetensors";

function corruptCases(
  other: { sameShape: string; larger: string },
): [string, Damage, string, string][] {
  const rewriteModel =
    (f: (t: Awaited<ReturnType<typeof readRaw>>) => void, raw = false) => async (dir: string) => {
      const file = await readRaw(`${dir}/${M}`);
      f(file);
      await (raw ? writeRaw : writeF32)(`${dir}/${M}`, file.tensors, file.metadata);
    };
  return [
    [
      "a tensor missing",
      rewriteModel((f) => {
        f.tensors = f.tensors.filter((t) => t.name !== "embed.pos");
      }),
      M,
      'tensor "embed.pos" missing',
    ],
    [
      "an extra tensor",
      rewriteModel((f) => {
        f.tensors.push({
          name: "block.9.extra",
          dtype: "F32",
          shape: [1],
          bytes: new Uint8Array(4),
        });
      }),
      M,
      '"block.9.extra" is not part of the model config',
    ],
    [
      "a tensor twice",
      async (dir) => {
        const f = await readRaw(`${dir}/${M}`);
        await writeRaw(`${dir}/${M}`, f.tensors, f.metadata, (e) => `{${[...e, e[1]].join(",")}}`);
      },
      M,
      'names "embed.tok" twice',
    ],
    [
      "an unknown dtype",
      rewriteModel((f) => {
        f.tensors[0].dtype = "F64";
        f.tensors[0].shape = [f.tensors[0].bytes.length / 8];
      }, true),
      M,
      'dtype "F64"',
    ],
    [
      "a BF16 tensor",
      rewriteModel((f) => {
        const t = f.tensors[0];
        t.dtype = "BF16";
        t.bytes = t.bytes.filter((_, i) => i % 4 >= 2); // the top halves
      }, true),
      M,
      'tensor "embed.tok" is BF16, checkpoints hold F32',
    ],
    [
      "a wrong shape for the config",
      rewriteModel((f) => {
        f.tensors[0].shape = [...f.tensors[0].shape].reverse();
      }),
      M,
      "has shape [16,15], the model config needs [15,16]",
    ],
    [
      "the weights of a larger config",
      async (dir) => {
        await Deno.copyFile(`${other.larger}/${M}`, `${dir}/${M}`);
      },
      M,
      '"model_config" does not match',
    ],
    [
      "offsets shifted by one float",
      rewriteModel((f) => {
        f.tensors[0].offsets = [4, 4 + f.tensors[0].bytes.length];
      }, true),
      M,
      "starts at data byte 4, expected 0",
    ],
    [
      "4 bytes appended",
      async (dir) => {
        const b = await Deno.readFile(`${dir}/${M}`);
        await Deno.writeFile(`${dir}/${M}`, new Uint8Array([...b, 0, 0, 0, 0]));
      },
      M,
      "4 bytes longer than its header says",
    ],
    [
      "cut short",
      async (dir) => {
        const b = await Deno.readFile(`${dir}/${M}`);
        await Deno.writeFile(`${dir}/${M}`, b.subarray(0, b.length - 8));
      },
      M,
      "8 bytes shorter than its header says",
    ],
    [
      "the weights of another run of the same shape",
      async (dir) => {
        await Deno.copyFile(`${other.sameShape}/${M}`, `${dir}/${M}`);
      },
      M,
      "content does not match checkpoint.json",
    ],
    [
      "one value changed in place",
      async (dir) => {
        const b = await Deno.readFile(`${dir}/${M}`);
        b[b.length - 1] ^= 1;
        await Deno.writeFile(`${dir}/${M}`, b);
      },
      M,
      "content does not match checkpoint.json",
    ],
    [
      "one NaN weight",
      async (dir) => {
        const b = await Deno.readFile(`${dir}/${M}`);
        new DataView(b.buffer).setFloat32(b.length - 4, NaN, true);
        await Deno.writeFile(`${dir}/${M}`, b);
      },
      M,
      "1 non-finite value(s), the first NaN",
    ],
    [
      "a negative second moment",
      async (dir) => {
        const f = await readRaw(`${dir}/${O}`);
        const sq = f.tensors.find((t) => t.name.startsWith("exp_avg_sq."))!;
        new DataView(sq.bytes.buffer).setFloat32(0, -1, true);
        await writeF32(`${dir}/${O}`, f.tensors, f.metadata);
      },
      O,
      "negative value -1",
    ],
    ["the model file deleted", (dir) => Deno.remove(`${dir}/${M}`), M, "is missing"],
    ["the optimizer file deleted", (dir) => Deno.remove(`${dir}/${O}`), O, "--reset_optimizer"],
    [
      "a manifest that is not JSON",
      (dir) => Deno.writeTextFile(`${dir}/checkpoint.json`, "{ half"),
      "checkpoint.json",
      "is not valid JSON",
    ],
    [
      "a manifest without optimizer_step",
      (dir) => editManifest(dir, (m) => delete m.optimizer_step),
      "checkpoint.json",
      'field "optimizer_step" is missing',
    ],
    [
      '"step": "abc"',
      (dir) => editManifest(dir, (m) => m.step = "abc"),
      "checkpoint.json",
      'field "step" must be a non-negative integer, got "abc"',
    ],
    [
      "a step that disagrees with the tensor file",
      (dir) => editManifest(dir, (m) => m.step = 5),
      M,
      '"step" is "6", checkpoint.json says "5"',
    ],
    [
      "a file outside the folder",
      (dir) =>
        editManifest(dir, (m) => (m.files as { model: { file: string } }).model.file = "../x"),
      "checkpoint.json",
      'field "files.model.file" must be a file name',
    ],
    [
      "a model config of the wrong type",
      (dir) => editManifest(dir, (m) => (m.model as Record<string, unknown>).d_model = "16"),
      "checkpoint.json",
      'field "model.d_model" must be an integer >= 1',
    ],
  ];
}

Deno.test("the loader refuses every damaged checkpoint before creating a tensor, naming file and problem", async (t) => {
  const [good, sameShape, larger] = await Promise.all([
    trainedDir(),
    trainedDir({ ...TINY, seed: 2 }),
    trainedDir({ ...TINY, d_model: 32, d_ff: 64 }),
  ]);
  // The intact checkpoint loads, so every failure below is the damage's.
  const intact = await loadCheckpoint(good);
  assertEquals(intact.optimizerState, "loaded");
  intact.model.dispose();
  intact.optimizer.dispose();
  for (const [name, damage, file, problem] of corruptCases({ sameShape, larger })) {
    await t.step(name, async () => {
      const dir = await copyDir(good);
      await damage(dir);
      const before = tf.memory().numTensors;
      const e = await assertRejects(() => loadCheckpoint(dir), CheckpointError);
      assertEquals(e.file, `${dir}/${file}`);
      assertStringIncludes(e.message, `${dir}/${file}: `);
      assertStringIncludes(e.message, problem);
      assertEquals(tf.memory().numTensors, before);
      await Deno.remove(dir, { recursive: true });
    });
  }
  await t.step("eval-only loads skip the optimizer file, and only it", async () => {
    const dir = await copyDir(good);
    await Deno.remove(`${dir}/${O}`);
    const ckpt = await loadCheckpoint(dir, { optimizer: false });
    assertEquals(ckpt.optimizerState, "skipped");
    ckpt.model.dispose();
    ckpt.optimizer.dispose();
    await Deno.remove(dir, { recursive: true });
  });
  for (const d of [good, sameShape, larger]) await Deno.remove(d, { recursive: true });
});

Deno.test("the files are safetensors any reader can use: names, F32, the config in __metadata__", async () => {
  const dir = await trainedDir();
  const { tensors, metadata } = decodeSafetensors(await Deno.readFile(`${dir}/${M}`), M);
  assertEquals(JSON.parse(metadata.model_config).d_model, 16);
  assertEquals(metadata.step, "6");
  assertEquals(tensors.get("embed.tok")!.shape, [15, 16]);
  assert([...tensors.values()].every((t) => t.dtype === "F32"));
  const opt = decodeSafetensors(await Deno.readFile(`${dir}/${O}`), O);
  assertEquals(opt.metadata.optimizer_step, "6");
  assert(opt.tensors.has("exp_avg.embed.tok") && opt.tensors.has("exp_avg_sq.embed.tok"));
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint.json`));
  assertEquals([manifest.version, manifest.step, manifest.optimizer_step], [2, 6, 6]);
  assertEquals(manifest.rng, { seed: 1, next_step: 6 });
  assertEquals(manifest.computed_by.backend, tf.getBackend());
  assertEquals(manifest.computed_by.numerics, NUMERICS_REVISION);
  if (tf.getBackend() === "wasm") {
    assert(["native", "wasm"].includes(manifest.computed_by.products.products));
  }
  assertEquals(manifest.files.model.file, M);
  assertEquals(manifest.files.model.sha256.length, 64);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a safetensors file whose model_config is out of range is refused before any tensor", async () => {
  const dir = await trainedDir();
  const { tensors, metadata } = decodeSafetensors(await Deno.readFile(`${dir}/${M}`), M);
  const file = `${dir}/bad.safetensors`;
  const config = JSON.stringify(
    JSON.parse(await Deno.readTextFile(`${dir}/checkpoint.json`)).config,
  );
  const cases: [Record<string, unknown>, string][] = [
    [{ n_heads: 3 }, '"n_heads" must divide d_model (16), got 3'],
    [{ dropout: 2 }, '"dropout" must be a number >= 0 and <= 0.99, got 2'],
    [{ norm_type: "batchnorm" }, '"norm_type" must be one of'],
  ];
  for (const [change, problem] of cases) {
    const model = { ...JSON.parse(metadata.model_config), ...change };
    const list = [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    await Deno.writeFile(
      file,
      encodeSafetensors(list, {
        ...metadata,
        stars_config: config,
        model_config: JSON.stringify(model),
      }),
    );
    const before = tf.memory().numTensors;
    const e = await assertRejects(() => openWeights(file), CheckpointError);
    assertStringIncludes(e.message, problem);
    assertEquals(tf.memory().numTensors, before);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loading and disposing a checkpoint 10 times leaks no tensor", async () => {
  const dir = await trainedDir();
  const once = async () => {
    const c = await loadCheckpoint(dir);
    c.model.dispose();
    c.optimizer.dispose();
  };
  await once();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 10; i++) await once();
  assertEquals(tf.memory().numTensors, before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("old-format checkpoints (weights-<step>.bin) load: the committed arm A", async () => {
  const before = await snapshot(ARM_A);
  const ckpt = await loadCheckpoint(ARM_A);
  assertEquals(ckpt.manifest.version, 1);
  assertEquals(ckpt.manifest.step, 6000);
  assertEquals(ckpt.optimizerState, "loaded");
  assertEquals(ckpt.optimizer.t, 6000);
  assertEquals(ckpt.model.params.get("embed.tok")!.shape, [15, 64]);
  assert((await allValues(ckpt.model)).every(Number.isFinite));
  ckpt.model.dispose();
  ckpt.optimizer.dispose();
  assertEquals(await snapshot(ARM_A), before);
});

Deno.test("old-format checkpoints are checked too: 4 extra bytes, a tensor missing", async () => {
  const dir = await copyDir(ARM_A);
  const weights = `${dir}/weights-00006000.bin`;
  const bytes = await Deno.readFile(weights);
  await Deno.writeFile(weights, new Uint8Array([...bytes, 0, 0, 0, 0]));
  await assertRejects(() => loadCheckpoint(dir), CheckpointError, "4 bytes longer");
  await Deno.writeFile(weights, bytes);
  await editManifest(dir, (m) => {
    (m.tensors as { name: string }[]).splice(1, 1); // param:embed.pos
  });
  await assertRejects(() => loadCheckpoint(dir), CheckpointError, "starts at float");
  await Deno.remove(dir, { recursive: true });
});

// The old writer, kept here to make an old-format checkpoint of a tiny run.
async function saveOldFormat(dir: string, step: number, config: Record<string, unknown>) {
  const ckpt = await loadCheckpoint(dir);
  const list: [string, tf.Tensor][] = [
    ...[...ckpt.model.params].map(([n, p]): [string, tf.Tensor] => [`param:${n}`, p]),
    ...[...ckpt.optimizer.m].map(([n, p]): [string, tf.Tensor] => [`adam.m:${n}`, p]),
    ...[...ckpt.optimizer.v].map(([n, p]): [string, tf.Tensor] => [`adam.v:${n}`, p]),
  ];
  const values: number[] = [], tensors = [];
  for (const [name, t] of list) {
    tensors.push({ name, shape: t.shape, offset: values.length });
    values.push(...await t.data());
  }
  const weights = `weights-${String(step).padStart(8, "0")}.bin`;
  for (const f of [M, O]) await Deno.remove(`${dir}/${f}`);
  await Deno.writeFile(`${dir}/${weights}`, new Uint8Array(new Float32Array(values).buffer));
  await Deno.writeTextFile(
    `${dir}/checkpoint.json`,
    JSON.stringify({
      format: "stars-checkpoint",
      version: 1,
      step,
      model: ckpt.model.config,
      config,
      adam_t: ckpt.optimizer.t,
      weights,
      tensors,
      extra: {},
    }),
  );
  ckpt.model.dispose();
  ckpt.optimizer.dispose();
}

Deno.test("an old-format run resumes on its trajectory and is saved in the new format", async () => {
  const straight = await train(TINY);
  const dir = await Deno.makeTempDir();
  const c = new AbortController();
  const first = await train(TINY, {
    outDir: dir,
    signal: c.signal,
    onEvent: (e) => e.kind === "step" && e.step === 3 && c.abort(),
  });
  await saveOldFormat(dir, 3, first.config as unknown as Record<string, unknown>);
  first.model.dispose();
  const resumed = await train(TINY, { outDir: dir });
  assertEquals(resumed.step, 6);
  assertEquals(await allValues(resumed.model), await allValues(straight.model));
  const files = Object.keys(await snapshot(dir)).sort();
  assertEquals(files, ["checkpoint.json", "metrics.jsonl", M, O]);
  assertEquals((await loadCheckpoint(dir)).manifest.version, 2);
  straight.model.dispose();
  resumed.model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("optimizer state missing on resume is an error unless resetOptimizer is asked for", async () => {
  const dir = await Deno.makeTempDir();
  const c = new AbortController();
  const first = await train(TINY, {
    outDir: dir,
    signal: c.signal,
    onEvent: (e) => e.kind === "step" && e.step === 3 && c.abort(),
  });
  // A checkpoint saved without its moments, as a library caller may do.
  await saveCheckpoint(dir, first.model, undefined, 3, first.config as never);
  first.model.dispose();
  assertEquals(Object.keys(await snapshot(dir)).includes(O), false);
  const before = await snapshot(dir);
  const e = await assertRejects(() => train(TINY, { outDir: dir }), CheckpointError);
  assertEquals(e.file, `${dir}/checkpoint.json`);
  assertStringIncludes(e.message, "no optimizer state");
  assertStringIncludes(e.message, "--reset_optimizer");
  assertEquals(await snapshot(dir), before);
  const notes: string[] = [];
  const r = await train(TINY, {
    outDir: dir,
    resetOptimizer: true,
    onEvent: (e) => e.kind === "note" && notes.push(e.message),
  });
  assertEquals(r.step, 6);
  assertStringIncludes(notes.join("\n"), "fresh AdamW moments");
  const saved = await loadCheckpoint(dir);
  assertEquals([saved.optimizerState, saved.optimizer.t], ["loaded", 3]);
  saved.model.dispose();
  saved.optimizer.dispose();
  r.model.dispose();
  assert(await hasCheckpoint(dir));
  await Deno.remove(dir, { recursive: true });
});
