/**
 * The PyTorch bridge (interop/pytorch/): the same model, the same streams,
 * files both ways, the penalty, DistributedDataParallel, and bad input.
 * Ignored where no python3 imports torch (CI installs python3-torch).
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertLess, assertRejects } from "@std/assert";
import { Rng } from "../../utils/rng.ts";
import { LoopedLM } from "../../models/looped.ts";
import { NORM_PLACEMENTS } from "../../models/config.ts";
import { randomUnitVector } from "../../regularizers/probes.ts";
import { jacobianPenalty } from "../../regularizers/jacobian_penalty.ts";
import { sampleLoops } from "../../regularizers/loop_sampler.ts";
import { loadCheckpoint } from "../../train/checkpoint.ts";
import { DEFAULT_CONFIG, resolveConfig, type TrainConfig } from "../../train/config.ts";
import { loopSpecOf, modelConfigOf, taskOf, trainBatch } from "../../train/data.ts";
import { decodeSafetensors, encodeSafetensors } from "../../train/safetensors.ts";
import { CheckpointError } from "../../train/checkpoint_error.ts";
import { encodeWeights, openWeights } from "../../train/weights.ts";
import { train } from "../../train/trainer.ts";
import { PYTHON, python } from "../_python.ts";
import { values } from "../_backend.ts";

const ignore = PYTHON === null;
const ORACLE = "tests/interop/oracle.py";
const TRAIN = "interop/pytorch/train.py";

const SMALL: Partial<TrainConfig> = {
  digits: 2,
  d_model: 16,
  n_heads: 2,
  d_ff: 32,
  init_std: 0.3,
  seed: 3,
};

async function oracle(command: string, spec: unknown): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/spec.json`, JSON.stringify(spec));
  const r = await python([ORACLE, command, `${dir}/spec.json`, `${dir}/out`]);
  if (r.code !== 0) throw new Error(`oracle ${command}: ${r.stderr}`);
  return `${dir}/out`;
}

async function readTensors(path: string) {
  return decodeSafetensors(await Deno.readFile(path), path).tensors;
}

async function modelValues(model: LoopedLM): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [n, p] of model.params) out.set(n, await p.data() as Float32Array);
  return out;
}

function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

// The key bias has no gradient in exact arithmetic (softmax ignores a shift
// of every score), so AdamW turns its rounding noise into full-size steps:
// only its query and value thirds are compared.
function comparable(name: string, data: Float32Array): Float32Array {
  if (!name.endsWith("attn.bqkv")) return data;
  const d = data.length / 3;
  return new Float32Array([...data.subarray(0, d), ...data.subarray(2 * d)]);
}

function idsOf(config: TrainConfig): number[][] {
  const b = trainBatch({ ...config, batch_size: 3 }, 7);
  return Array.from(
    { length: 3 },
    (_, i) => Array.from(b.inputs.slice(i * b.seqLen, (i + 1) * b.seqLen)),
  );
}

Deno.test({
  name: "interop: the PyTorch side's config defaults are the toolkit's",
  ignore,
  fn: async () => {
    const out = await oracle("defaults", {});
    assertEquals(JSON.parse(await Deno.readTextFile(out)), { ...DEFAULT_CONFIG });
  },
});

Deno.test({
  name: "interop: same batches, loop counts, dropout masks and initial weights for (seed, step)",
  ignore,
  fn: async () => {
    const config = resolveConfig({
      ...SMALL,
      batch_size: 5,
      loop_sampler: "lognormal",
    });
    const out = JSON.parse(
      await Deno.readTextFile(
        await oracle("streams", {
          config,
          steps: 3,
          loop_steps: 300,
          drop_seed: 12345,
          drop_n: 64,
        }),
      ),
    );
    for (let s = 0; s < 3; s++) {
      const b = trainBatch(config, s);
      assertEquals(out.batches[s], [
        Array.from(b.inputs),
        Array.from(b.targets),
        Array.from(b.mask),
      ]);
    }
    const spec = loopSpecOf(config);
    assertEquals(
      out.loops,
      Array.from({ length: 300 }, (_, s) => sampleLoops(spec, config.seed, s).total),
    );
    const uniform = loopSpecOf({ ...config, loop_sampler: "uniform" });
    assert(sampleLoops(uniform, 1, 0).total >= 1);
    const model = new LoopedLM(modelConfigOf(config), config.seed);
    assertEquals(out.model, model.config);
    for (const [name, p] of model.params) {
      assertEquals(out.init[name], Array.from(await p.data()), name);
    }
    model.dispose();
    const rng = new Rng(12345);
    const mask = Array.from({ length: 64 }, () => rng.next() < 0.25 ? 0 : Math.fround(1 / 0.75));
    assertEquals(out.mask, mask);
  },
});

for (const placement of NORM_PLACEMENTS) {
  for (const normType of placement === "sandwich_dual" ? ["layernorm", "rmsnorm"] : ["layernorm"]) {
    Deno.test({
      name:
        `interop: ${placement}/${normType}: PyTorch logits = the toolkit's at 1, 4, 16 loops; ` +
        "toolkit -> PyTorch -> toolkit bit for bit",
      ignore,
      fn: async () => {
        const config = resolveConfig({
          ...SMALL,
          norm_placement: placement,
          norm_type: normType as TrainConfig["norm_type"],
          ...(placement === "sandwich_branch" ? { coda_layers: 1, prelude_layers: 1 } : {}),
          ...(placement === "pre_norm" ? { injection: "linear", n_layers: 2 } : {}),
        });
        const model = new LoopedLM(modelConfigOf(config), 5);
        const dir = await Deno.makeTempDir();
        const original = encodeWeights(model.config, await modelValues(model), "toolkit", {
          trainConfig: config as unknown as Record<string, unknown>,
          step: 0,
        });
        await Deno.writeFile(`${dir}/w.safetensors`, original);
        const ids = idsOf(config);
        const loops = [1, 4, 16];
        const out = await oracle("logits", {
          weights: `${dir}/w.safetensors`,
          ids,
          loops,
          resave: `${dir}/back.safetensors`,
        });
        const torchLogits = await readTensors(out);
        const input = tf.tensor2d(ids, undefined, "int32");
        for (const n of loops) {
          const ours = tf.tidy(() => model.forward(input, n).logits);
          const err = relativeError(torchLogits.get(`logits.${n}`)!.data, await values(ours));
          ours.dispose();
          assertLess(err, 1e-5, `${n} loops: relative error ${err}`);
        }
        input.dispose();
        // The way back: the same bytes, and the same bits once loaded.
        const back = await Deno.readFile(`${dir}/back.safetensors`);
        assertEquals(back, original);
        const opened = await openWeights(`${dir}/back.safetensors`);
        const again = await opened.load();
        for (const [name, p] of model.params) {
          const a = new Uint32Array((await p.data() as Float32Array).buffer);
          const b = new Uint32Array((await again.params.get(name)!.data() as Float32Array).buffer);
          assertEquals(a, b, name);
        }
        again.dispose();
        model.dispose();
      },
    });
  }
}

Deno.test({
  name: "interop: a file exported with reference names loads into the reference's layout " +
    "(load_state_dict strict) and gives the toolkit's logits",
  ignore,
  fn: async () => {
    const config = resolveConfig({
      ...SMALL,
      steps: 2,
      batch_size: 4,
      eval_size: 5,
      eval_every: 0,
    });
    const dir = await Deno.makeTempDir();
    const run = await train(config, { outDir: `${dir}/run` });
    const ids = idsOf(config);
    const ours = tf.tidy(() => run.model.forward(tf.tensor2d(ids, undefined, "int32"), 4).logits);
    const expected = await values(ours);
    ours.dispose();
    run.model.dispose();
    const cli = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "cli/main.ts",
        "export",
        "--checkpoint",
        `${dir}/run`,
        "--names",
        "reference",
        "--out",
        `${dir}/ref.safetensors`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(cli.code, 0, new TextDecoder().decode(cli.stderr));
    const out = await oracle("reference", { weights: `${dir}/ref.safetensors`, ids, loops: 4 });
    const err = relativeError((await readTensors(out)).get("logits")!.data, expected);
    assertLess(err, 1e-5, `relative error ${err}`);
    // And back: the reference-named file opens (detected) to the same weights.
    const opened = await openWeights(`${dir}/ref.safetensors`);
    assertEquals(opened.naming, "reference");
    const back = await opened.load();
    const ckpt = await loadCheckpoint(`${dir}/run`, { optimizer: false });
    for (const [name, p] of ckpt.model.params) {
      assertEquals(await values(back.params.get(name)!), await values(p), name);
    }
    back.dispose();
    ckpt.model.dispose();
    ckpt.optimizer.dispose();
  },
});

for (const [mode, iters] of [["vjp", 2], ["jvp", 2], ["vjp", 1]] as const) {
  Deno.test({
    name: `interop: the PyTorch penalty (${mode}, K ${iters}) = the toolkit's: value and ` +
      "parameter gradients within 1e-2",
    ignore,
    fn: async () => {
      const config = resolveConfig({ ...SMALL, init_std: 0.2 });
      const model = new LoopedLM(modelConfigOf(config), 9);
      const ids = idsOf(config);
      const input = tf.tensor2d(ids, undefined, "int32");
      const h = tf.tidy(() => model.forward(input, 3).state);
      const v0 = randomUnitVector(h.shape, 77);
      const dir = await Deno.makeTempDir();
      await Deno.writeFile(
        `${dir}/w.safetensors`,
        encodeWeights(model.config, await modelValues(model), "toolkit"),
      );
      await Deno.writeFile(
        `${dir}/in.safetensors`,
        encodeSafetensors([
          { name: "h", shape: h.shape, data: await h.data() as Float32Array },
          { name: "v0", shape: v0.shape, data: await v0.data() as Float32Array },
        ]),
      );
      const penalty = jacobianPenalty({ iters, mode });
      const vars = [...model.params.values()];
      const { value, grads } = tf.variableGrads(
        () => penalty(model, model.embed(input), h, 77).value,
        vars,
      );
      const out = await readTensors(
        await oracle("penalty", {
          weights: `${dir}/w.safetensors`,
          inputs: `${dir}/in.safetensors`,
          ids,
          iters,
          mode,
        }),
      );
      const ours = (await value.data())[0];
      const theirs = out.get("value")!.data[0];
      assertLess(Math.abs(ours - theirs) / Math.abs(theirs), 1e-2, `value ${ours} vs ${theirs}`);
      for (const [name, p] of model.params) {
        const g = grads[p.name];
        const mine = g ? await values(g) : new Array(p.size).fill(0);
        const err = relativeError(out.get(`grad.${name}`)!.data, mine);
        assertLess(err, 1e-2, `${name}: relative error ${err}`);
      }
      tf.dispose([value, ...Object.values(grads), h, v0, input]);
      model.dispose();
    },
  });
}

const RUN: Partial<TrainConfig> = {
  ...SMALL,
  init_std: 0.08,
  dropout: 0.1,
  loop_sampler: "lognormal",
  loop_mu: 1,
  loop_sigma: 0.5,
  loop_max: 4,
  reg_weight: 0.1,
  reg_mode: "vjp",
  batch_size: 8,
  steps: 5,
  warmup_steps: 2,
  checkpoint_every: 0,
};

async function torchTrain(
  config: Partial<TrainConfig>,
  out: string,
  procs: number,
  extra: string[] = [],
): Promise<{ code: number; stderr: string }> {
  await Deno.mkdir(out, { recursive: true });
  const cfg = `${out}.json`;
  await Deno.writeTextFile(cfg, JSON.stringify(config));
  const args = procs > 1
    ? [
      "-m",
      "torch.distributed.run",
      "--nproc_per_node",
      String(procs),
      "--master_port",
      String(29500 + Math.floor(Math.random() * 2000)),
      // Debian's torch 1.13 on Python 3.11 cannot parse the default "0" of these.
      "--redirects",
      "2",
      "--tee",
      "2",
      "--log_dir",
      `${out}-logs`,
      TRAIN,
    ]
    : [TRAIN];
  const r = await python([...args, "--config", cfg, "--out", out, ...extra]);
  return { code: r.code, stderr: r.stderr + r.stdout };
}

Deno.test({
  name: "interop: torchrun --nproc_per_node 2 (gloo) trains 5 steps to the weights of one " +
    "process on the whole batch; the toolkit reads and resumes the run",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const one = await torchTrain(RUN, `${dir}/one`, 1);
    assertEquals(one.code, 0, one.stderr);
    const two = await torchTrain(RUN, `${dir}/two`, 2);
    assertEquals(two.code, 0, two.stderr);
    const a = await readTensors(`${dir}/one/model.safetensors`);
    const b = await readTensors(`${dir}/two/model.safetensors`);
    for (const [name, t] of a) {
      const err = relativeError(comparable(name, b.get(name)!.data), comparable(name, t.data));
      assertLess(err, 1e-5, `${name}: relative difference ${err}`);
    }
    // Back in the toolkit: the run folder is a checkpoint it loads, checks and resumes.
    const ckpt = await loadCheckpoint(`${dir}/two`);
    assertEquals(ckpt.manifest.step, 5);
    assertEquals(ckpt.optimizerState, "loaded");
    ckpt.model.dispose();
    ckpt.optimizer.dispose();
    const more = await train({ ...RUN, steps: 5, eval_size: 5 }, { outDir: `${dir}/two` });
    assertEquals(more.step, 5);
    more.model.dispose();
    // And PyTorch resumes its own run: stopped at 3, then on to 5, equals 5 at once.
    const stopped = await torchTrain(RUN, `${dir}/resume`, 1, ["--stop_at", "3"]);
    assertEquals(stopped.code, 0, stopped.stderr);
    assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/resume/checkpoint.json`)).step, 3);
    const resumed = await torchTrain(RUN, `${dir}/resume`, 1);
    assertEquals(resumed.code, 0, resumed.stderr);
    assertEquals(
      await Deno.readFile(`${dir}/resume/model.safetensors`),
      await Deno.readFile(`${dir}/one/model.safetensors`),
    );
  },
});

const REFERENCE_LIKE: Partial<TrainConfig> = {
  attn_dropout: "probs",
  decay_scope: "all",
  grad_clip: 0,
  min_lr_ratio: 0,
  weight_decay: 0.1,
};

for (const [label, options] of [["defaults", {}], ["reference-like", REFERENCE_LIKE]] as const) {
  Deno.test({
    name: `interop: without the penalty, PyTorch training follows the toolkit's trajectory ` +
      `(${label}: same init, batches, loop counts, dropout masks, AdamW)`,
    ignore,
    fn: async () => {
      const config = { ...RUN, reg_weight: 0, ...options };
      const dir = await Deno.makeTempDir();
      const r = await torchTrain(config, `${dir}/torch`, 1);
      assertEquals(r.code, 0, r.stderr);
      const losses: number[] = [];
      const ours = await train({ ...config, eval_size: 5, eval_every: 0 }, {
        onEvent: (e) => e.kind === "step" && losses.push(e.metrics.loss),
      });
      const theirs = (await Deno.readTextFile(`${dir}/torch/metrics.jsonl`)).trim().split("\n")
        .map((l) => JSON.parse(l).loss as number);
      for (let i = 0; i < losses.length; i++) {
        assertLess(
          Math.abs(losses[i] - theirs[i]),
          1e-4,
          `step ${i + 1}: ${losses[i]} vs ${theirs[i]}`,
        );
      }
      const weights = await readTensors(`${dir}/torch/model.safetensors`);
      for (const [name, p] of ours.model.params) {
        const mine = comparable(name, await p.data() as Float32Array);
        const err = relativeError(comparable(name, weights.get(name)!.data), mine);
        assertLess(err, 1e-4, `${name}: ${err}`);
      }
      ours.model.dispose();
    },
  });
}

Deno.test({
  name: "interop: bad input is an error naming it, exit code 2, before any work",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const cases: [Record<string, unknown>, string[], RegExp][] = [
      [{ task: "gsm8k-synthetic" }, [], /config key "task"/],
      [{ loop_sampler: "poisson" }, [], /config key "loop_sampler"/],
      [{ no_such_key: 1 }, [], /unknown config key "no_such_key"/],
      [{ d_model: 16, n_heads: 3 }, [], /n_heads/],
    ];
    await Deno.writeFile(
      `${dir}/odd.safetensors`,
      encodeSafetensors([{ name: "weights.w", shape: [1], data: new Float32Array([1]) }]),
    );
    cases.push([{ ...SMALL }, ["--init", `${dir}/odd.safetensors`], /neither/]);
    const big = new LoopedLM(modelConfigOf(resolveConfig({ ...SMALL, d_model: 32 })), 1);
    await Deno.writeFile(
      `${dir}/big.safetensors`,
      encodeWeights(big.config, await modelValues(big), "reference"),
    );
    big.dispose();
    cases.push([{ ...SMALL }, ["--init", `${dir}/big.safetensors`], /does not fit/]);
    for (const [i, [config, extra, message]] of cases.entries()) {
      const r = await torchTrain(config, `${dir}/run${i}`, 1, extra);
      assertEquals(r.code, 2, r.stderr);
      assert(message.test(r.stderr), r.stderr);
      assert(!(await Deno.stat(`${dir}/run${i}/metrics.jsonl`).catch(() => null)), "no work done");
    }
    // The toolkit's side of the same files.
    await assertRejects(() => openWeights(`${dir}/odd.safetensors`), CheckpointError, "neither");
    const small = resolveConfig(SMALL);
    const bigCfg = resolveConfig({ ...SMALL, d_model: 32 });
    const opened = await openWeights(`${dir}/big.safetensors`, { config: bigCfg });
    assertEquals(opened.naming, "reference");
    await assertRejects(
      () =>
        Deno.writeFile(
          `${dir}/x`,
          encodeWeights(modelConfigOf(small), new Map(), "toolkit"),
        ),
      RangeError,
    );
    assertEquals(taskOf(small).tokenizer.vocabSize, 15);
  },
});
