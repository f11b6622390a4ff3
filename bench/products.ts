/**
 * The bench-small step on each path of the wasm backend's matrix products:
 * the toolkit's wasm SIMD kernels only, the native BLAS with its default
 * thread count, and the native BLAS on one thread. Rounds alternate the
 * paths, so a busy machine slows each alike; the median of each is kept.
 *
 * @module
 */
import {
  blasThreads,
  nativeBlasStatus,
  setBlasThreads,
  setNativeBlas,
} from "../backends/native/blas.ts";
import { type BenchConfig, median, stepTime } from "./step_time.ts";

/** Median step times per product path, in ms (null where native products are unavailable). */
export async function productPathStepTimes(
  config: BenchConfig,
  rounds = 3,
): Promise<{ wasm: number; native: number | null; native1: number | null; threads: number }> {
  const threads = blasThreads();
  const native = nativeBlasStatus().products === "native";
  const times = { wasm: [] as number[], native: [] as number[], native1: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    setNativeBlas("off");
    times.wasm.push(await stepTime(config, { steps: 5, warmup: 2 }));
    setNativeBlas("auto");
    if (!native) continue;
    setBlasThreads(threads);
    times.native.push(await stepTime(config, { steps: 5, warmup: 2 }));
    setBlasThreads(1);
    times.native1.push(await stepTime(config, { steps: 5, warmup: 2 }));
    setBlasThreads(threads);
  }
  return {
    wasm: median(times.wasm),
    native: native ? median(times.native) : null,
    native1: native ? median(times.native1) : null,
    threads,
  };
}
