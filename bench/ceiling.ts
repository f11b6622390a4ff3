/**
 * The arithmetic ceiling of a training step: its matmul FLOPs, and how fast
 * the active backend multiplies matrices of the step's own shapes. FLOPs
 * over matmul throughput is the fastest the step could run if nothing but
 * its matrix products took time.
 */
import * as tf from "@tensorflow/tfjs";
import type { BenchConfig } from "./step_time.ts";

/**
 * Matmul FLOPs of one training step (forward, and twice that backward) of
 * the looped block: QKV, output projection, the MLP and the attention's two
 * products per loop; embedding and readout are left out (small at these sizes).
 *
 * @example
 * ```ts
 * import { trainingFlops } from "./ceiling.ts";
 * trainingFlops({ name: "s", d: 128, heads: 4, ff: 256, batch: 64, loops: 8 }, 16); // 6.64e9
 * ```
 */
export function trainingFlops(b: BenchConfig, seq: number): number {
  const perTokenLoop = 2 * b.d * 3 * b.d + 2 * b.d * b.d + 2 * 2 * b.d * b.ff + 2 * 2 * seq * b.d;
  return 3 * perTokenLoop * b.batch * seq * b.loops;
}

/** Median GFLOP/s of an `[m, k] x [k, n]` product on the active backend. */
export async function matmulGflops(m: number, k: number, n: number, reps = 20): Promise<number> {
  const a = tf.randomNormal([m, k]), b = tf.randomNormal([k, n]);
  const times: number[] = [];
  for (let i = 0; i < reps + 3; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    if (i >= 3) times.push(performance.now() - t0);
  }
  tf.dispose([a, b]);
  times.sort((x, y) => x - y);
  return 2 * m * k * n / (times[times.length >> 1] * 1e6);
}
