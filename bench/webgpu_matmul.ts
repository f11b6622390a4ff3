/**
 * The paper's matrix products on WebGPU: tfjs-webgpu's kernel against the
 * toolkit's tiled program (`backends/webgpu/matmul.ts`), shape by shape, in
 * GFLOP/s. `deno task bench` runs it on a real GPU; on its own,
 * `STARS_BACKEND=webgpu deno run -A bench/webgpu_matmul.ts` prints JSON
 * lines (on llvmpipe the figures say nothing about a GPU).
 */
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../backends/select.ts";
import type { WebGPUBackend } from "../backends/webgpu/program.ts";
import { runTiledMatMul, tiledMatMulSize } from "../backends/webgpu/matmul.ts";

/** One product: `[m, k] x [k, n]` before the transposes (as stored: `A^T` is `[k, m]`). */
export interface ProductShape {
  /** What the product is in the model. */
  name: string;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** The products of one loop of the paper's block (rows = batch 512 x seq 16), forward and backward. */
export function paperProducts(rows = 8192, d = 512, ff = 1024): ProductShape[] {
  const p = (name: string, m: number, k: number, n: number, tA = false, tB = false) => ({
    name,
    m,
    k,
    n,
    transposeA: tA,
    transposeB: tB,
  });
  return [
    p("qkv", rows, d, 3 * d),
    p("mlp_in", rows, d, ff),
    p("mlp_out", rows, ff, d),
    p("qkv_dx (dy w^T)", rows, 3 * d, d, false, true),
    p("qkv_dw (x^T dy)", d, rows, 3 * d, true, false),
  ];
}

/** Milliseconds per product: `reps` products queued, then one small read to wait for them. */
async function timeProducts(run: () => tf.Tensor, reps: number): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    let last: tf.Tensor | undefined;
    for (let r = 0; r < reps; r++) {
      last?.dispose();
      last = run();
    }
    const corner = tf.slice(last!, [0, 0], [1, 1]);
    await corner.data();
    tf.dispose([corner, last!]);
    return (performance.now() - t0) / reps;
  };
  await once(); // compiles the pipeline
  return Math.min(await once(), await once());
}

/** GFLOP/s of tfjs's kernel and of the tiled program for each product, on the active WebGPU backend. */
export async function webgpuMatMulBench(
  shapes: ProductShape[] = paperProducts(),
  reps = 10,
): Promise<Record<string, unknown>[]> {
  const backend = tf.backend() as unknown as WebGPUBackend;
  const records: Record<string, unknown>[] = [];
  for (const s of shapes) {
    const a = tf.randomNormal(s.transposeA ? [s.k, s.m] : [s.m, s.k]);
    const b = tf.randomNormal(s.transposeB ? [s.n, s.k] : [s.k, s.n]);
    const gflop = 2 * s.m * s.k * s.n / 1e9;
    const tfjsMs = await timeProducts(() => tf.matMul(a, b, s.transposeA, s.transposeB), reps);
    const perSide = tiledMatMulSize(1, s.m, s.k, s.n) ?? 4;
    const tiledMs = await timeProducts(
      () =>
        tf.engine().makeTensorFromTensorInfo(
          runTiledMatMul(backend, a, b, s.transposeA, s.transposeB, perSide),
        ),
      reps,
    );
    tf.dispose([a, b]);
    records.push({
      bench: "webgpu_matmul",
      product: s.name,
      shape: [s.m, s.k, s.n],
      tfjs_gflops: Math.round(gflop / tfjsMs * 1e3),
      toolkit_gflops: Math.round(gflop / tiledMs * 1e3),
      toolkit_tile: 16 * perSide,
      speedup: Math.round(tfjsMs / tiledMs * 100) / 100,
    });
  }
  return records;
}

if (import.meta.main) {
  await useBackend("webgpu");
  const small = Deno.env.get("STARS_BENCH_SMALL_SHAPES") === "1";
  const shapes = small ? paperProducts(512, 128, 256) : paperProducts();
  for (const r of await webgpuMatMulBench(shapes, small ? 3 : 10)) console.log(JSON.stringify(r));
}
