/**
 * `deno run -A bench/profile.ts`: where the time goes, per tfjs kernel
 * (count, total ms, share), from `tf.profile`, for one bench-small training
 * step (without and with the STARS penalty, K = 1) and for one depth of the sweep (512 problems decoded at 10 loops with
 * the per-loop cache). `STARS_PROFILE_CONFIG=paper` profiles the paper's
 * configuration's step instead (a GPU job), `STARS_BACKEND` picks the backend. Each summary line sets the wall time against the time
 * inside kernels: the rest is dispatch (JavaScript, tfjs bookkeeping, reads).
 * Kernel counts are exact; times are as noisy as the machine.
 */
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../backends/select.ts";
import { depthSweep } from "../eval/sweep.ts";
import { PAPER_MODEL } from "../models/config.ts";
import { LoopedLM } from "../models/looped.ts";
import { jacobianPenalty } from "../regularizers/jacobian_penalty.ts";
import { arithmeticTask } from "../tasks/arithmetic_task.ts";
import { BENCH_SMALL, benchSetup, PAPER_BENCH } from "./step_time.ts";

const backend = await useBackend((Deno.env.get("STARS_BACKEND") as "wasm" | undefined) ?? "wasm");

/** Profiles `run` once (after one warm-up call) and prints a summary line and a kernel table. */
async function profile(what: Record<string, unknown>, run: () => Promise<unknown>): Promise<void> {
  await run(); // warm-up
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await run();
  });
  const wall = performance.now() - t0;
  const byName = new Map<string, { count: number; ms: number }>();
  // Custom-gradient wrappers ("forward", "unnamed scope") also appear, timed
  // around the kernels they run: count registered kernels only.
  const kernels = info.kernels.filter((k) => tf.getKernel(k.name, tf.getBackend()) !== undefined);
  for (const k of kernels) {
    const entry = byName.get(k.name) ?? { count: 0, ms: 0 };
    entry.count += 1;
    entry.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    byName.set(k.name, entry);
  }
  const kernelMs = [...byName.values()].reduce((s, e) => s + e.ms, 0);
  console.log(JSON.stringify({
    ...what,
    backend,
    wall_ms: Math.round(wall),
    kernels: kernels.length,
    kernel_ms: Math.round(kernelMs),
    outside_kernels_ms: Math.round(wall - kernelMs),
    new_tensors: info.newTensors,
    peak_bytes: info.peakBytes,
  }));
  for (const [name, e] of [...byName.entries()].sort((x, y) => y[1].ms - x[1].ms)) {
    console.log(
      `${name.padEnd(24)} ${String(e.count).padStart(6)} ${e.ms.toFixed(1).padStart(9)} ms ${
        (100 * e.ms / kernelMs).toFixed(1).padStart(5)
      }%`,
    );
  }
}

// 1. One training step.
const paper = Deno.env.get("STARS_PROFILE_CONFIG") === "paper";
const config = paper ? PAPER_BENCH : BENCH_SMALL;
const setup = benchSetup(config);
let step = 0;
await profile({ profile: "train_step", config }, () => setup.run(step++));
if (paper) Deno.exit(0);

// 1b. The same step with the STARS penalty (K = 1, JVP): what the penalty adds.
const penalty = { weight: 0.1, compute: jacobianPenalty({ iters: 1, mode: "jvp" }) };
await profile({ profile: "train_step_penalty", config }, () => setup.run(step++, penalty));
setup.dispose();

// 2. One depth of the sweep: 512 problems, every answer token at 10 loops.
const task = arithmeticTask({ digits: 4 });
const problems = task.sample("test", 1, 512);
const model = new LoopedLM({ ...PAPER_MODEL, d_model: 128, n_heads: 4, d_ff: 256, dropout: 0 }, 1);
await profile(
  { profile: "sweep_depth", problems: 512, loops: 10, model: { d: 128, heads: 4, ff: 256 } },
  () => depthSweep(model, task, problems, [10], { batchSize: 512 }),
);
model.dispose();
