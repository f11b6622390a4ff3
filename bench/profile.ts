/**
 * `deno run -A bench/profile.ts`: where one bench-small training step spends
 * its time, per tfjs kernel (count, total ms, share), from `tf.profile`.
 * Kernel counts are exact; times are as noisy as the machine.
 */
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../core/backend.ts";
import { BENCH_SMALL, benchSetup } from "./step_time.ts";

const backend = await useBackend((Deno.env.get("STARS_BACKEND") as "wasm" | undefined) ?? "wasm");
const setup = benchSetup(BENCH_SMALL);
const step = (i: number) => setup.run(i);
await step(0); // warm-up

const t0 = performance.now();
const info = await tf.profile(async () => {
  await step(1);
});
const wall = performance.now() - t0;
const byName = new Map<string, { count: number; ms: number }>();
for (const k of info.kernels) {
  const entry = byName.get(k.name) ?? { count: 0, ms: 0 };
  entry.count += 1;
  entry.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
  byName.set(k.name, entry);
}
const kernelMs = [...byName.values()].reduce((s, e) => s + e.ms, 0);
const rows = [...byName.entries()].sort((x, y) => y[1].ms - x[1].ms);
console.log(JSON.stringify({
  backend,
  config: BENCH_SMALL,
  wall_ms: Math.round(wall),
  kernels: info.kernels.length,
  kernel_ms: Math.round(kernelMs),
  new_tensors: info.newTensors,
  peak_bytes: info.peakBytes,
}));
for (const [name, e] of rows) {
  console.log(
    `${name.padEnd(24)} ${String(e.count).padStart(6)} ${e.ms.toFixed(1).padStart(9)} ms ${
      (100 * e.ms / kernelMs).toFixed(1).padStart(5)
    }%`,
  );
}
